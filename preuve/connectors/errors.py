"""Connector errors, each classified once: retry, fail or skip-and-report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ErrorAction(StrEnum):
    RETRY = "retry"  # transient: back off and try again
    FAIL = "fail"  # permanent: stop the sync, tell the admin what to fix
    SKIP = "skip"  # one item is unreadable: skip it, report it, go on


class ConnectorError(Exception):
    """Base class. ``message`` is for the admin (already in their language)."""

    action: ErrorAction = ErrorAction.FAIL

    def __init__(self, message: str, *, code: str = "error", hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message, "action": self.action}
        if self.hint:
            data["hint"] = self.hint
        return data


class TransientError(ConnectorError):
    """Worth retrying (timeout, connection reset, 5xx, 429)."""

    action = ErrorAction.RETRY

    def __init__(
        self,
        message: str,
        *,
        code: str = "transient",
        hint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, hint=hint)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """Retrying will not help: bad credentials, missing permission, bad configuration."""

    action = ErrorAction.FAIL


class SkipItem(ConnectorError):
    """One item cannot be read; the rest of the stream goes on."""

    action = ErrorAction.SKIP


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """An item left out of a batch, with the reason (reported in the run log)."""

    stream: str
    item: str  # e.g. "course 12", "file x.zip, line 40"
    reason: str
    code: str = "skipped"
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "stream": self.stream,
            "item": self.item,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            data["details"] = self.details
        return data
