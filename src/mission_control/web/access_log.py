"""Access-log lines without secrets: the single sign-on callback's one-time `code` and its `state`
travel in the query string, and an access log is read by more people than the database."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_SECRET_PARAMETERS = re.compile(r"([?&](?:code|state)=)[^&#\s]*")


def redact(path: str) -> str:
    """`path` with the values of its `code` and `state` query parameters replaced."""
    return _SECRET_PARAMETERS.sub(r"\1[redacted]", path)


class RedactSecrets(logging.Filter):
    """Redacts the path in uvicorn's access records, whose arguments are (client, method, path,
    HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def redact_access_log() -> None:
    """Install the filter on uvicorn's access logger (once per process)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, RedactSecrets) for existing in logger.filters):
        logger.addFilter(RedactSecrets())
