"""The parser's version, recorded against every file it reads (``files.parser_version``).

Bump it whenever a change to ``normalise/parsing`` can change what a file parses to (rows, amounts,
dates, columns, status): files read by an older version are then re-read by the next
``councilspend normalise``, and only the councils whose output changed are rebuilt.
"""

PARSER_VERSION = 2
