"""Prefect flows and the command line: the only layer that imports Prefect.

Importing this package sets Prefect's offline defaults before Prefect is imported
(an explicit environment variable always wins): no telemetry, no log shipping, and a
start-up timeout long enough for the embedded server's first migration (NOTES.md).
"""

import os

_OFFLINE_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
}
for _name, _value in _OFFLINE_DEFAULTS.items():
    os.environ.setdefault(_name, _value)
