"""Events: what happened that someone may want to be told about.

The mapping produces coverage events (an indicator lost or regained its proof, a
deadline nears); the sync produces sync events. The sync job hands them to the
webhooks subsystem, which stores each one before sending it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

PROOF_MISSING: Final = "indicator.proof_missing"
PROOF_RESTORED: Final = "indicator.proof_restored"
DUE_SOON: Final = "indicator.due_soon"
SYNC_FAILED: Final = "sync.failed"
SYNC_COMPLETED: Final = "sync.completed"
ENDPOINT_DISABLED: Final = "endpoint.disabled"

EVENT_TYPES: Final = (
    PROOF_MISSING,
    PROOF_RESTORED,
    DUE_SOON,
    SYNC_FAILED,
    SYNC_COMPLETED,
    ENDPOINT_DISABLED,
)


def _new_id() -> str:
    return "evt_" + uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Event:
    """One event. ``data`` is thin: identifiers, statuses, reasons; no personal data."""

    type: str
    tenant: str
    data: dict[str, Any]
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: str = field(default_factory=_new_id)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")
