"""Logging: text or JSON lines, with tenant/source/run context, never secrets.

Log lines carry identifiers (tenant, source, run id, job id, record ids,
pseudonymous keys), never credentials, tokens or learners' names and addresses.
The filter below also masks values that look like tokens, passwords in URLs or
e-mail addresses, as a second line of defence.

Context: ``with log_scope(tenant="of-1", source="lms", run="…"):`` adds those
fields to every line logged inside the block (and in tasks started from it).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final

import orjson

log_context: ContextVar[dict[str, str] | None] = ContextVar("preuve_log_context", default=None)

# Context keys, in the order text lines show them.
CONTEXT_KEYS: Final = ("tenant", "source", "run", "job", "trigger", "worker")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_TOKEN = re.compile(
    r"(?i)(wstoken|token|password|passwd|secret|authorization|api[_-]?key)"
    r"([=:]\s*|\"\s*:\s*\")(?:bearer\s+|basic\s+)?[^&\s\"]+"
)
# scheme://user:password@host -> scheme://user:***@host (store and Redis URLs).
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@")
# A bearer credential wherever it appears (a header dump, a dict repr), and Preuve's
# own API tokens (pvt_...) even without a label.
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_API_TOKEN = re.compile(r"\bpvt_[A-Za-z0-9_-]+")


def redact(text: str) -> str:
    text = _URL_PASSWORD.sub(r"\1***@", text)
    text = _TOKEN.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = _BEARER.sub(r"\1***", text)
    text = _API_TOKEN.sub("pvt_***", text)
    return _EMAIL.sub("***@***", text)


def current_context() -> dict[str, str]:
    return dict(log_context.get() or {})


@contextmanager
def log_scope(**fields: str | None) -> Iterator[dict[str, str]]:
    """Add fields (tenant, source, run...) to every log line inside the block."""
    merged = current_context()
    merged.update({k: str(v) for k, v in fields.items() if v is not None})
    token = log_context.set(merged)
    try:
        yield merged
    finally:
        log_context.reset(token)


def bind_log_context(**fields: str | None) -> None:
    """Add fields to the current context until it is reset (e.g. the run id, once known)."""
    merged = current_context()
    merged.update({k: str(v) for k, v in fields.items() if v is not None})
    log_context.set(merged)


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        context = current_context()
        record.preuve_context = context
        record.context_text = " ".join(
            f"{key}={context[key]}" for key in CONTEXT_KEYS if key in context
        )
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        data.update(getattr(record, "preuve_context", None) or current_context())
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(data).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = getattr(record, "context_text", "")
        if context:
            first, sep, rest = line.partition("\n")
            line = f"{first} [{context}]{sep}{rest}"
        return redact(line)


def setup_logging(*, level: int | str = logging.INFO, json_format: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RedactingFilter())
    handler.setFormatter(JsonFormatter() if json_format else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
