"""When two names count as the same name, for the mock economy.

The generator must never hand two organisations names that no reader could tell apart, or
the answer key would hold truths nobody can reach. It judges that with Companies House's own
"same as" rule (names equal once case, punctuation, '&'/'and', a leading 'the' and the legal
ending are ignored), written here independently of ``normalise.names`` so that the truth the
matcher is scored against does not bend with the matcher's own normaliser.
"""

from __future__ import annotations

import re

_ENDINGS = (
    "community interest company",
    "limited liability partnership",
    "public limited company",
    "limited",
    "ltd",
    "plc",
    "llp",
    "cic",
    "company",
    "co",
)
_ENDING = re.compile(r"\s(?:" + "|".join(e.replace(" ", r"\s") for e in _ENDINGS) + r")$")


def same_as_key(name: str) -> str:
    """The form under which two names are "the same as" each other.

    >>> same_as_key("The Acme & Sons Ltd.") == same_as_key("ACME AND SONS LIMITED")
    True
    >>> same_as_key("Acme Services Ltd") == same_as_key("Acme Service Ltd")
    False
    """
    text = " " + name.lower().replace("&", " and ") + " "
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^the ", "", text)
    previous = None
    while previous != text:
        previous, text = text, _ENDING.sub("", " " + text).strip()
    return text
