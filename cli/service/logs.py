"""The service's own log lines (uvicorn's and careledger's) as JSON, without tracebacks or messages of errors.

An exception's text can hold SQL or a value from a request; the log keeps its
type only, so no patient data reaches it (the request lines are written by
middleware.JsonLog).
"""

from __future__ import annotations

import json
import logging
from typing import Any


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line: time, level, logger, message, and an exception's type only."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage() if record.name.startswith("uvicorn") else record.msg,
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        error = getattr(record, "error", None)
        if error is not None:
            entry["error"] = error
        return json.dumps(entry, default=str)


LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "cli.service.logs.JsonFormatter"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        "careledger": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
