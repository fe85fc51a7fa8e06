"""Delivery: claim due messages with a lease, send them signed, record every attempt.

Several dispatchers (worker processes, the embedded scheduler) may run at once:
a message is claimed by an UPDATE that sets a lease only where none is current
(with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so no two send it concurrently.
A dispatcher that dies mid-flight leaves a lease that simply runs out; the
message is then due again for whoever polls next.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Final

import aiohttp
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from preuve.config.settings import WebhooksConfig
from preuve.events import ENDPOINT_DISABLED, Event
from preuve.i18n import Text
from preuve.store import Store
from preuve.sync.metrics import WEBHOOK_DELIVERIES, WEBHOOK_DELIVERY_DURATION
from preuve.webhooks.endpoints import active_secrets
from preuve.webhooks.outbox import enqueue_in, wakeup_event
from preuve.webhooks.policy import USER_AGENT, DeliveryPolicy
from preuve.webhooks.signing import signed_headers
from preuve.webhooks.ssrf import (
    AllowList,
    BlockedAddressError,
    GuardedResolver,
    UnsafeUrlError,
    precheck_url,
)
from preuve.webhooks.tables import (
    DELIVERED,
    FAILED,
    PENDING,
    webhook_attempt,
    webhook_endpoint,
    webhook_message,
)

log = logging.getLogger(__name__)

SUCCESS: Final = "success"
FAILURE: Final = "failure"
GONE: Final = "gone"
MAX_ERROR_CHARS: Final = 300
MAX_RESPONSE_BYTES: Final = 64 * 1024

REASON_GONE: Final = "gone"
REASON_FAILING: Final = "failing"

MSG_DISABLED_GONE = Text(
    fr="désactivé : le destinataire a répondu 410 (Gone)",
    en="disabled: the receiver answered 410 (Gone)",
)
MSG_DISABLED_FAILING = Text(
    fr="désactivé : en échec sans interruption depuis {since}",
    en="disabled: failing without a break since {since}",
)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    msg_id: str
    tenant: str
    endpoint_id: str
    event_type: str
    body: str
    attempts: int
    url: str
    secrets: tuple[str, ...]


@dataclass(slots=True)
class Attempt:
    message: Claimed
    started_at: datetime
    duration_ms: int
    status_code: int | None
    outcome: str
    error: str | None
    retry_after: float | None = None


@dataclass(slots=True)
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    disabled_endpoints: list[str] = field(default_factory=list)

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed
        self.disabled_endpoints.extend(other.disabled_endpoints)
        return self


class GuardedConnector(aiohttp.TCPConnector):
    """The only connector deliveries accept: DNS answers pass the SSRF guard."""

    def __init__(self, allow: AllowList, limit: int) -> None:
        super().__init__(resolver=GuardedResolver(allow), limit=limit)
        self.allow = allow


@asynccontextmanager
async def open_session(
    allow: AllowList, policy: DeliveryPolicy, *, rounds: int = 1
) -> AsyncIterator[aiohttp.ClientSession]:
    """A client session for deliveries: guarded DNS, no proxies from the environment.

    ``rounds`` is how many rounds share it: each may have ``concurrency`` requests
    open, so none waits for a connection the others hold (the wait would count
    against the request's timeout).
    """
    connector = GuardedConnector(allow, limit=policy.concurrency * max(1, rounds))
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
        yield session


def new_owner() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


async def claim(store: Store, owner: str, now: datetime, policy: DeliveryPolicy) -> list[Claimed]:
    """Lease up to ``batch_size`` due messages of enabled endpoints to ``owner``."""
    m = webhook_message
    free = or_(m.c.lease_until.is_(None), m.c.lease_until < now)
    due = (
        select(m.c.id)
        .join(webhook_endpoint, webhook_endpoint.c.id == m.c.endpoint_id)
        .where(
            m.c.status == PENDING,
            m.c.next_attempt_at <= now,
            free,
            webhook_endpoint.c.enabled.is_(True),
        )
        .order_by(m.c.next_attempt_at, m.c.id)
        .limit(policy.batch_size)
    )
    if store.engine.dialect.name == "postgresql":
        # Concurrent claimers skip each other's rows instead of queueing on them.
        due = due.with_for_update(of=m, skip_locked=True)
    statement = (
        update(m)
        # The conditions are repeated on the outer UPDATE so PostgreSQL rechecks
        # them on the locked row.
        .where(m.c.id.in_(due.scalar_subquery()), m.c.status == PENDING, free)
        .values(lease_until=now + timedelta(seconds=policy.round_lease_seconds), lease_owner=owner)
        .returning(
            m.c.id, m.c.msg_id, m.c.tenant, m.c.endpoint_id, m.c.event_type, m.c.body, m.c.attempts
        )
    )
    async with store.engine.begin() as conn:
        rows = (await conn.execute(statement)).all()
        if not rows:
            return []
        endpoint_ids = {r.endpoint_id for r in rows}
        endpoints = {
            e.id: e
            for e in (
                await conn.execute(
                    select(
                        webhook_endpoint.c.id, webhook_endpoint.c.url, webhook_endpoint.c.secrets
                    ).where(webhook_endpoint.c.id.in_(endpoint_ids))
                )
            ).all()
        }
    claimed = [
        Claimed(
            id=r.id,
            msg_id=r.msg_id,
            tenant=r.tenant,
            endpoint_id=r.endpoint_id,
            event_type=r.event_type,
            body=r.body,
            attempts=r.attempts,
            url=endpoints[r.endpoint_id].url,
            secrets=tuple(active_secrets(endpoints[r.endpoint_id].secrets, now)),
        )
        for r in rows
    ]
    claimed.sort(key=lambda c: c.id)
    return claimed


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


async def send(
    session: aiohttp.ClientSession, message: Claimed, policy: DeliveryPolicy, allow: AllowList
) -> Attempt:
    """One signed POST; every outcome is an Attempt, never an exception."""
    started_at = datetime.now(UTC)
    clock = time.perf_counter()

    def done(
        status: int | None, outcome: str, error: str | None, retry: float | None = None
    ) -> Attempt:
        elapsed = int((time.perf_counter() - clock) * 1000)
        return Attempt(message, started_at, elapsed, status, outcome, error, retry)

    try:
        precheck_url(message.url, allow)
    except UnsafeUrlError as exc:
        return done(None, FAILURE, _short(f"blocked: {exc}"))
    if not message.secrets:
        return done(None, FAILURE, "no active signing secret")
    body = message.body.encode()
    headers = signed_headers(message.msg_id, body, message.secrets, now=started_at)
    headers["content-type"] = "application/json"
    headers["user-agent"] = USER_AGENT
    try:
        async with session.post(
            message.url,
            data=body,
            headers=headers,
            allow_redirects=False,  # a redirect is a failure, never followed
            timeout=aiohttp.ClientTimeout(total=policy.timeout_seconds),
        ) as response:
            # Read a little so the connection can be reused; the body is not kept.
            await response.content.read(MAX_RESPONSE_BYTES)
            status = response.status
            retry_after = parse_retry_after(response.headers.get("Retry-After"), started_at)
    except TimeoutError:
        return done(None, FAILURE, f"timeout after {policy.timeout_seconds:g} s")
    except aiohttp.ClientConnectorDNSError as exc:
        if isinstance(exc.os_error, BlockedAddressError):
            return done(None, FAILURE, _short(f"blocked: {exc.os_error}"))
        return done(None, FAILURE, _short(f"DNS: {exc.os_error}"))
    except aiohttp.ClientConnectorError as exc:
        return done(None, FAILURE, _short(f"connection: {exc.os_error.strerror or exc.os_error}"))
    except aiohttp.ClientError as exc:
        return done(None, FAILURE, _short(f"{type(exc).__name__}: {exc}"))
    except (OSError, ValueError) as exc:  # e.g. TLS set-up, a URL aiohttp cannot use
        return done(None, FAILURE, _short(f"{type(exc).__name__}: {exc}"))
    if 200 <= status < 300:
        return done(status, SUCCESS, None)
    if status == 410:
        return done(status, GONE, "410 Gone")
    if 300 <= status < 400:
        return done(status, FAILURE, f"HTTP {status} (redirect not followed)", retry_after)
    return done(status, FAILURE, f"HTTP {status}", retry_after)


async def _disable(
    conn: AsyncConnection,
    endpoint_id: str,
    tenant: str,
    reason_code: str,
    reason: str,
    now: datetime,
    public_url: str | None,
    extra: Any = None,
) -> bool:
    """Disable if still enabled; the one who flips it tells the other endpoints."""
    conditions = [webhook_endpoint.c.id == endpoint_id, webhook_endpoint.c.enabled.is_(True)]
    if extra is not None:
        conditions.append(extra)
    result = await conn.execute(
        update(webhook_endpoint)
        .where(and_(*conditions))
        .values(enabled=False, disabled_reason=reason, disabled_at=now, updated_at=now)
    )
    if not result.rowcount:
        return False
    log.warning("webhook endpoint %s of tenant %s disabled: %s", endpoint_id, tenant, reason)
    notice = Event(
        type=ENDPOINT_DISABLED,
        tenant=tenant,
        data={"endpoint_id": endpoint_id, "reason": reason_code, "disabled_reason": reason},
        occurred_at=now,
    )
    await enqueue_in(conn, [notice], public_url=public_url, now=now)
    return True


async def record(
    store: Store,
    owner: str,
    attempts: list[Attempt],
    policy: DeliveryPolicy,
    now: datetime,
    public_url: str | None = None,
) -> DeliveryReport:
    """Write the attempts, the messages' new state and the endpoints' health at once."""
    report = DeliveryReport()
    if not attempts:
        return report
    attempt_rows: list[dict[str, Any]] = []
    message_rows: list[dict[str, Any]] = []
    by_endpoint: dict[str, list[Attempt]] = defaultdict(list)
    for item in attempts:
        number = item.message.attempts + 1
        by_endpoint[item.message.endpoint_id].append(item)
        attempt_rows.append(
            {
                "message_id": item.message.id,
                "endpoint_id": item.message.endpoint_id,
                "msg_id": item.message.msg_id,
                "attempt": number,
                "started_at": item.started_at,
                "duration_ms": item.duration_ms,
                "status_code": item.status_code,
                "outcome": item.outcome,
                "error": item.error,
            }
        )
        row = {
            "b_id": item.message.id,
            "b_owner": owner,
            "b_attempts": number,
            "b_code": item.status_code,
            "b_error": item.error,
            "b_delivered_at": None,
            "b_next": now,
        }
        WEBHOOK_DELIVERY_DURATION.observe(item.duration_ms / 1000)
        if item.outcome == SUCCESS:
            row.update(b_status=DELIVERED, b_delivered_at=item.started_at)
            report.delivered += 1
            WEBHOOK_DELIVERIES.labels("delivered").inc()
        else:
            delay = policy.delay_after(number, item.retry_after)
            if delay is None:
                row["b_status"] = FAILED
                report.failed += 1
                WEBHOOK_DELIVERIES.labels("gave_up").inc()
            else:
                row.update(b_status=PENDING, b_next=now + timedelta(seconds=delay))
                report.retrying += 1
                WEBHOOK_DELIVERIES.labels("gone" if item.outcome == GONE else "failed").inc()
        message_rows.append(row)
    m = webhook_message
    set_state = (
        update(m)
        .where(m.c.id == bindparam("b_id"), m.c.lease_owner == bindparam("b_owner"))
        .values(
            status=bindparam("b_status"),
            attempts=bindparam("b_attempts"),
            next_attempt_at=bindparam("b_next"),
            delivered_at=bindparam("b_delivered_at"),
            last_status_code=bindparam("b_code"),
            last_error=bindparam("b_error"),
            lease_until=None,
            lease_owner=None,
        )
    )
    e = webhook_endpoint
    async with store.engine.begin() as conn:
        # An endpoint removed during the round took its messages along: log only
        # the attempts whose message is still there.
        ids = [row["message_id"] for row in attempt_rows]
        alive = set((await conn.execute(select(m.c.id).where(m.c.id.in_(ids)))).scalars().all())
        attempt_rows = [row for row in attempt_rows if row["message_id"] in alive]
        if attempt_rows:
            await conn.execute(webhook_attempt.insert(), attempt_rows)
        await conn.execute(set_state, message_rows)
        for endpoint_id, items in by_endpoint.items():
            tenant = items[0].message.tenant
            # A 410 wins even if another request of the round succeeded before it:
            # the receiver has said it wants nothing more.
            if any(i.outcome == GONE for i in items):
                if await _disable(
                    conn, endpoint_id, tenant, REASON_GONE, MSG_DISABLED_GONE(), now, public_url
                ):
                    report.disabled_endpoints.append(endpoint_id)
                continue
            if any(i.outcome == SUCCESS for i in items):
                await conn.execute(
                    update(e)
                    .where(e.c.id == endpoint_id, e.c.failing_since.is_not(None))
                    .values(failing_since=None)
                )
                continue
            first = min(i.started_at for i in items)
            await conn.execute(
                update(e)
                .where(e.c.id == endpoint_id, e.c.failing_since.is_(None))
                .values(failing_since=first)
            )
            since = (
                await conn.execute(select(e.c.failing_since).where(e.c.id == endpoint_id))
            ).scalar_one_or_none()
            if since is not None and now - since >= policy.disable_after:
                reason = MSG_DISABLED_FAILING(since=since.isoformat(timespec="seconds"))
                if await _disable(
                    conn, endpoint_id, tenant, REASON_FAILING, reason, now, public_url
                ):
                    report.disabled_endpoints.append(endpoint_id)
    return report


async def deliver_due(
    store: Store,
    session: aiohttp.ClientSession,
    *,
    policy: DeliveryPolicy | None = None,
    owner: str | None = None,
    public_url: str | None = None,
    now: datetime | None = None,
) -> DeliveryReport:
    """One round: claim the due messages, send them concurrently, record the outcomes.

    ``session`` must come from :func:`open_session` (its connector carries the
    SSRF guard). ``now`` fixes the clock for claiming and scheduling (tests).
    """
    connector = session.connector
    if not isinstance(connector, GuardedConnector):
        raise TypeError("deliver_due needs a session from preuve.webhooks.open_session")
    policy = policy or DeliveryPolicy()
    owner = owner or new_owner()
    claimed = await claim(store, owner, now or datetime.now(UTC), policy)
    if not claimed:
        return DeliveryReport()
    semaphore = asyncio.Semaphore(policy.concurrency)
    gone: set[str] = set()

    async def _one(message: Claimed) -> Attempt | None:
        async with semaphore:
            if message.endpoint_id in gone:
                return None  # the receiver said 410: stop sending it anything
            attempt = await send(session, message, policy, connector.allow)
            if attempt.outcome == GONE:
                gone.add(message.endpoint_id)
            return attempt

    results = await asyncio.gather(*(_one(m) for m in claimed))
    attempts = [a for a in results if a is not None]
    skipped = [m.id for m, a in zip(claimed, results, strict=True) if a is None]
    report = await record(store, owner, attempts, policy, now or datetime.now(UTC), public_url)
    if skipped:
        async with store.engine.begin() as conn:
            await conn.execute(
                update(webhook_message)
                .where(webhook_message.c.id.in_(skipped), webhook_message.c.lease_owner == owner)
                .values(lease_until=None, lease_owner=None)
            )
    report.claimed = len(claimed)
    return report


async def run_dispatcher(
    store: Store,
    *,
    config: WebhooksConfig | None = None,
    policy: DeliveryPolicy | None = None,
    allow: AllowList | None = None,
    public_url: str | None = None,
    stop: asyncio.Event | None = None,
    poll_seconds: float = 1.0,
    workers: int = 2,
) -> DeliveryReport:
    """Deliver until ``stop`` is set (or forever); returns the totals.

    ``workers`` rounds run side by side so one slow receiver does not hold up
    the others' messages. Enqueues in this process wake the dispatcher at once;
    others are seen within ``poll_seconds``.
    """
    config = config or WebhooksConfig()
    policy = policy or DeliveryPolicy.from_config(config)
    allow = allow if allow is not None else AllowList.parse(config.allow_networks)
    stop = stop or asyncio.Event()
    total = DeliveryReport()
    wake = wakeup_event(store.engine)

    async def _loop(session: aiohttp.ClientSession) -> None:
        owner = new_owner()
        while not stop.is_set():
            # Cleared before looking, so an enqueue during the round is not missed.
            wake.clear()
            try:
                report = await deliver_due(
                    store, session, policy=policy, owner=owner, public_url=public_url
                )
            except Exception:
                # A database hiccup must not end the dispatcher; leases make it safe.
                log.exception("webhook delivery round failed; retrying")
                report = DeliveryReport()
            total.__iadd__(report)
            if report.claimed:
                continue
            waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    workers = max(1, workers)
    async with open_session(allow, policy, rounds=workers) as session, asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(_loop(session))
    return total
