"""Logging: text or JSON lines, with tenant/source/run context, never secrets.

Log lines carry identifiers (tenant, source, run id, record ids, pseudonymous
keys), never credentials, tokens or learners' names and addresses. The filter
below also masks values that look like tokens or e-mail addresses, as a second
line of defence.
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

log_context: ContextVar[dict[str, str] | None] = ContextVar("preuve_log_context", default=None)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_TOKEN = re.compile(
    r"(?i)(wstoken|token|password|secret|authorization)([=:]\s*|\"\s*:\s*\")[^&\s\"]+"
)


def redact(text: str) -> str:
    text = _TOKEN.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return _EMAIL.sub("***@***", text)


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in (log_context.get() or {}).items():
            setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(log_context.get() or {})
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(data).decode()


def setup_logging(*, level: int = logging.INFO, json_format: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RedactingFilter())
    handler.setFormatter(
        JsonFormatter()
        if json_format
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
