"""Signed outbound webhooks with durable delivery, and inbound LMS events.

Public entry points (see docs/webhooks.md): :func:`enqueue` stores messages before
any send; :func:`deliver_due` runs one delivery round; :func:`run_dispatcher` runs
until stopped; :func:`replay` sends failed (or all) messages again.
"""

from __future__ import annotations

from preuve.webhooks.delivery import DeliveryReport, deliver_due, open_session, run_dispatcher
from preuve.webhooks.outbox import enqueue, enqueue_in, purge, replay
from preuve.webhooks.policy import DeliveryPolicy
from preuve.webhooks.ssrf import AllowList

__all__ = [
    "AllowList",
    "DeliveryPolicy",
    "DeliveryReport",
    "deliver_due",
    "enqueue",
    "enqueue_in",
    "open_session",
    "purge",
    "replay",
    "run_dispatcher",
]
