"""Structured logs: one JSON object per line, tagged with the request's correlation id.

Only what the code passes explicitly is written: never raw URLs, bodies or
exception messages, which can hold emails, codes or SQL parameters.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import datetime, timezone

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if correlation_id.get() and "correlation_id" not in line:
            line["correlation_id"] = correlation_id.get()
        return json.dumps(line, ensure_ascii=False, default=str)


def log_as_json_lines(level: int = logging.INFO) -> None:
    """Send every logger, Sanic's included, to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
