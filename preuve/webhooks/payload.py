"""Thin payloads: identifiers, statuses, reasons and dashboard links; no personal data.

The body follows the Standard Webhooks shape ``{"type", "timestamp", "data"}``.
Only the keys listed here leave Preuve: whatever else a producer puts in an
event's data (by mistake, a learner's name) is dropped, not sent.
"""

from __future__ import annotations

import logging
from typing import Any, Final
from urllib.parse import quote

import orjson

from preuve.events import Event

log = logging.getLogger(__name__)

# Keys of Event.data that may be sent: what a ticket or a chat message needs to
# say what happened and where to look.
ALLOWED_KEYS: Final = frozenset(
    {
        "indicator",
        "criterion",
        "action_ref",
        "training_action",
        "status",
        "previous_status",
        "reason",
        "reason_en",
        "nonconformity",
        "due_by",
        "due_at",
        "days_left",
        "source",
        "source_kind",
        "run_id",
        "code",
        "attempts",
        "totals",
        "skipped",
        "trigger",
        "counts",
        "error_code",
        "message",
        "endpoint_id",
        "disabled_reason",
        "referential_version",
        "snapshot_id",
    }
)
_SCALARS = (str, int, float, bool, type(None))
# Free text (a sync error's reason) is cut here: a notification says what went
# wrong, it does not carry a dump of the record that caused it.
MAX_TEXT_CHARS: Final = 500

# Dashboard paths, relative to settings.web.public_url.
TENANT_PATH: Final = "/tenants/{tenant}"
INDICATOR_PATH: Final = "/tenants/{tenant}/indicators/{indicator}"
ACTION_PATH: Final = "/tenants/{tenant}/actions/{action}"
RUNS_PATH: Final = "/tenants/{tenant}/runs"


def _thin(value: Any, depth: int = 0) -> bool:
    """Scalars; at the top, lists of scalars; counts as dicts two levels deep at most."""
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, list):
        return depth == 0 and all(isinstance(v, _SCALARS) for v in value)
    if isinstance(value, dict) and depth < 2:
        return all(isinstance(k, str) and _thin(v, depth + 1) for k, v in value.items())
    return False


def links(event: Event, data: dict[str, Any], public_url: str | None) -> dict[str, str]:
    if not public_url:
        return {}
    base = public_url.rstrip("/")
    tenant = quote(event.tenant, safe="")
    result = {"dashboard": base + TENANT_PATH.format(tenant=tenant)}
    if isinstance(data.get("indicator"), str | int):
        indicator = quote(str(data["indicator"]), safe="")
        result["indicator"] = base + INDICATOR_PATH.format(tenant=tenant, indicator=indicator)
    if isinstance(data.get("action_ref"), str):
        action = quote(data["action_ref"], safe="")
        result["training_action"] = base + ACTION_PATH.format(tenant=tenant, action=action)
    if event.type.startswith("sync."):
        result["runs"] = base + RUNS_PATH.format(tenant=tenant)
    return result


def build_body(event: Event, public_url: str | None = None) -> bytes:
    """The exact bytes sent (and signed) on every attempt of this event's messages."""
    data: dict[str, Any] = {"tenant": event.tenant}
    dropped = []
    for key, value in event.data.items():
        if key in ALLOWED_KEYS and _thin(value):
            long_text = isinstance(value, str) and len(value) > MAX_TEXT_CHARS
            data[key] = value[: MAX_TEXT_CHARS - 1] + "…" if long_text else value
        else:
            dropped.append(key)
    if dropped:
        # Key names only: the values may be exactly what must not be written.
        log.debug("event %s: keys not sent in webhooks: %s", event.id, sorted(dropped))
    found = links(event, data, public_url)
    if found:
        data["links"] = found
    return orjson.dumps(
        {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": data}
    )
