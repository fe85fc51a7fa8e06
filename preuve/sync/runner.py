"""Drive one connector's streams into the store.

Each batch is committed together with the cursor it carries, so an interrupted
sync resumes from the last committed batch and, with upsert, ends with every
record exactly once. The run log says what happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from preuve.config.settings import SecretMissingError, SourceConfig, TenantConfig
from preuve.connectors.base import Connector
from preuve.connectors.errors import ConnectorError, SkippedItem
from preuve.connectors.registry import build_connector
from preuve.store import RunStatus, Store, WriteResult

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, "StreamProgress"], None]


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
) -> SyncOutcome:
    """Run every stream of an opened connector into the store; never raises for
    connector errors: they end up in the outcome and the run log."""
    tenant = connector.context.tenant
    source = connector.context.source.id
    run_id = await store.runs.start(tenant, source, trigger=trigger, worker=worker)
    outcome = SyncOutcome(run_id, tenant, source, RunStatus.RUNNING, {}, [])
    try:
        for stream in connector.streams():
            if streams is not None and stream.name not in streams:
                continue
            progress = outcome.streams.setdefault(stream.name, StreamProgress(stream.name))
            cursor = await store.evidence.get_cursor(tenant, source, stream.name)
            async for batch in stream.read(cursor):
                written = await store.evidence.write_batch(
                    tenant,
                    source,
                    batch.records,
                    batch.withdrawals,
                    cursor=(stream.name, batch.cursor) if batch.cursor is not None else None,
                )
                progress.batches += 1
                progress.result += written
                _record_skipped(outcome, batch.skipped)
                progress.skipped += len(batch.skipped)
                if on_progress is not None:
                    on_progress(stream.name, progress)
                if progress.batches % progress_every == 0:
                    await store.runs.progress(run_id, outcome.counts())
            progress.done = True
            if on_progress is not None:
                on_progress(stream.name, progress)
    except (ConnectorError, SecretMissingError) as exc:
        outcome.status = RunStatus.FAILED
        outcome.errors.append(
            exc.as_json()
            if isinstance(exc, ConnectorError)
            else {"code": "missing_secret", "message": str(exc), "action": "fail"}
        )
        log.warning("sync %s/%s failed: %s", tenant, source, outcome.errors[-1]["code"])
    except BaseException as exc:
        # Unexpected (a bug, a cancelled job): record it, then let it propagate.
        outcome.status = RunStatus.FAILED
        outcome.errors.append(
            {"code": "internal", "message": f"{type(exc).__name__}: {exc}", "action": "fail"}
        )
        await store.runs.finish(run_id, outcome.status, outcome.counts(), outcome.errors)
        raise
    else:
        has_skips = any(e.get("action") == "skip" for e in outcome.errors)
        outcome.status = RunStatus.PARTIAL if has_skips else RunStatus.SUCCEEDED
    await store.runs.finish(run_id, outcome.status, outcome.counts(), outcome.errors)
    return outcome


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
