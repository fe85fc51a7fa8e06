"""Drive one connector's streams into the store.

Each batch is committed together with the cursor it carries, so an interrupted
sync resumes from the last committed batch and, with upsert, ends with every
record exactly once. The run log says what happened.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from preuve.config.settings import SecretMissingError, SourceConfig, TenantConfig
from preuve.connectors.base import Batch, Connector
from preuve.connectors.errors import ConnectorError, SkippedItem, TransientError
from preuve.connectors.registry import build_connector
from preuve.i18n import Text
from preuve.logs import log_scope, redact
from preuve.store import RunStatus, Store, WriteResult

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, "StreamProgress"], None]

# Counts are written to the run log at least this often (seconds) while a run goes
# on, so the CLI and the API can show progress on slow sources too.
PROGRESS_INTERVAL_SECONDS = 1.0

MSG_TIMEOUT = Text(
    fr="la synchronisation a dépassé le délai de {seconds:g} s ; elle reprendra au dernier "
    "lot enregistré",
    en="the sync ran past its {seconds:g} s timeout; it will resume from the last saved batch",
)
MSG_INTERRUPTED = Text(
    fr="synchronisation interrompue (arrêt du processus) ; elle reprendra au dernier lot "
    "enregistré",
    en="sync interrupted (process stopping); it will resume from the last saved batch",
)


@dataclass(slots=True)
class StreamProgress:
    stream: str
    batches: int = 0
    result: WriteResult = field(default_factory=WriteResult)
    skipped: int = 0
    done: bool = False

    def as_json(self) -> dict[str, Any]:
        return _as_json_progress(self)


def _as_json_progress(progress: StreamProgress) -> dict[str, Any]:
    return {"batches": progress.batches, "skipped": progress.skipped, **progress.result.as_dict()}


@dataclass(slots=True)
class SyncOutcome:
    run_id: str
    tenant: str
    source: str
    status: RunStatus
    streams: dict[str, StreamProgress]
    errors: list[dict[str, Any]]

    @property
    def totals(self) -> WriteResult:
        total = WriteResult()
        for progress in self.streams.values():
            total += progress.result
        return total

    def counts(self) -> dict[str, Any]:
        return {name: _as_json_progress(p) for name, p in self.streams.items()}

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "tenant": self.tenant,
            "source": self.source,
            "status": self.status.value,
            "streams": self.counts(),
            "totals": self.totals.as_dict(),
            "errors": self.errors,
        }


async def sync_connector(
    store: Store,
    connector: Connector,
    *,
    trigger: str = "manual",
    worker: str | None = None,
    streams: list[str] | None = None,
    on_progress: ProgressCallback | None = None,
    progress_every: int = 10,
    time_limit: float | None = None,
) -> SyncOutcome:
    """Run every stream of an opened connector into the store; never raises for
    connector errors: they end up in the outcome and the run log.

    ``time_limit`` (seconds) stops the run cleanly: the run is marked failed with
    code ``timeout`` and the cursors stay at the last committed batch. A
    cancelled run (worker stopping) is marked failed with code ``interrupted``
    and the cancellation propagates.
    """
    tenant = connector.context.tenant
    source = connector.context.source.id
    run_id = await store.runs.start(tenant, source, trigger=trigger, worker=worker)
    outcome = SyncOutcome(run_id, tenant, source, RunStatus.RUNNING, {}, [])
    deadline = asyncio.timeout(time_limit)
    try:
        with log_scope(run=run_id):
            async with deadline:
                await _pull(store, connector, outcome, streams, on_progress, progress_every)
    except TimeoutError as exc:
        if not deadline.expired():
            # Not our deadline: a connector let a network timeout escape unclassified.
            await _fail_and_record(store, outcome, exc)
            raise
        outcome.status = RunStatus.FAILED
        outcome.errors.append(
            {"code": "timeout", "message": MSG_TIMEOUT(seconds=time_limit), "action": "fail"}
        )
        log.warning("sync %s/%s stopped: timeout after %ss", tenant, source, time_limit)
    except (ConnectorError, SecretMissingError) as exc:
        outcome.status = RunStatus.FAILED
        error: dict[str, Any] = (
            exc.as_json()
            if isinstance(exc, ConnectorError)
            else {"code": "missing_secret", "message": str(exc), "action": "fail"}
        )
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            error["retry_after"] = exc.retry_after
        outcome.errors.append(error)
        log.warning("sync %s/%s failed: %s", tenant, source, outcome.errors[-1]["code"])
    except asyncio.CancelledError:
        outcome.status = RunStatus.FAILED
        outcome.errors.append(
            {"code": "interrupted", "message": MSG_INTERRUPTED(), "action": "retry"}
        )
        await store.runs.finish(run_id, outcome.status, outcome.counts(), outcome.errors)
        raise
    except BaseException as exc:
        # Unexpected (a bug): record it, then let it propagate.
        await _fail_and_record(store, outcome, exc)
        raise
    else:
        has_skips = any(e.get("action") == "skip" for e in outcome.errors)
        outcome.status = RunStatus.PARTIAL if has_skips else RunStatus.SUCCEEDED
    await store.runs.finish(run_id, outcome.status, outcome.counts(), outcome.errors)
    return outcome


async def _fail_and_record(store: Store, outcome: SyncOutcome, exc: BaseException) -> None:
    outcome.status = RunStatus.FAILED
    outcome.errors.append(
        # The message may quote a driver error: mask tokens and addresses it could hold.
        {"code": "internal", "message": redact(f"{type(exc).__name__}: {exc}"), "action": "fail"}
    )
    await store.runs.finish(outcome.run_id, outcome.status, outcome.counts(), outcome.errors)


async def _pull(
    store: Store,
    connector: Connector,
    outcome: SyncOutcome,
    streams: list[str] | None,
    on_progress: ProgressCallback | None,
    progress_every: int,
) -> None:
    tenant, source = outcome.tenant, outcome.source
    last_report = time.monotonic()
    for stream in connector.streams():
        if streams is not None and stream.name not in streams:
            continue
        progress = outcome.streams.setdefault(stream.name, StreamProgress(stream.name))
        cursor = await store.evidence.get_cursor(tenant, source, stream.name)
        async for batch in stream.read(cursor):
            write = asyncio.ensure_future(
                store.evidence.write_batch(
                    tenant,
                    source,
                    batch.records,
                    batch.withdrawals,
                    cursor=(stream.name, batch.cursor) if batch.cursor is not None else None,
                )
            )
            try:
                written = await asyncio.shield(write)
            except asyncio.CancelledError:
                # Stopped (timeout, shutdown) during a commit: let the transaction end
                # rather than cut it (a cut SQLite transaction can keep the file
                # locked), count the batch if it was committed, then stop.
                await asyncio.wait([write])
                if not write.cancelled() and write.exception() is None:
                    _count(outcome, progress, batch, write.result())
                raise
            _count(outcome, progress, batch, written)
            if on_progress is not None:
                on_progress(stream.name, progress)
            now = time.monotonic()
            if (
                progress.batches % progress_every == 0
                or now - last_report >= PROGRESS_INTERVAL_SECONDS
            ):
                await _shielded(store.runs.progress(outcome.run_id, outcome.counts()))
                last_report = now
        progress.done = True
        if on_progress is not None:
            on_progress(stream.name, progress)
        await _shielded(store.runs.progress(outcome.run_id, outcome.counts()))


def _count(
    outcome: SyncOutcome, progress: StreamProgress, batch: Batch, written: WriteResult
) -> None:
    progress.batches += 1
    progress.result += written
    _record_skipped(outcome, batch.skipped)
    progress.skipped += len(batch.skipped)


async def _shielded(write: Awaitable[None]) -> None:
    """A small store write that is finished, not cut, when the run is stopped meanwhile."""
    task = asyncio.ensure_future(write)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


def _record_skipped(outcome: SyncOutcome, skipped: list[SkippedItem]) -> None:
    for item in skipped:
        outcome.errors.append({**item.as_json(), "action": "skip"})


async def sync_source(
    store: Store,
    tenant: TenantConfig,
    source: SourceConfig,
    **kwargs: Any,
) -> SyncOutcome:
    """Build the connector for a configured source and sync it."""
    connector = build_connector(tenant, source)
    async with connector:
        return await sync_connector(store, connector, **kwargs)
