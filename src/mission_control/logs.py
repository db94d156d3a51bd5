"""The one logging configuration: level and format (text or JSON lines) come from the Settings object.

Modules log through `logging.getLogger(__name__)`; only entry points (the CLI) call `configure`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from mission_control.settings import Settings

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the traceback as a field, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(settings: Settings) -> None:
    """Send records to stderr: Mission Control's at the configured level, the libraries' warnings."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if settings.log_format == "json" else logging.Formatter(_TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("mission_control").setLevel(settings.log_level)
