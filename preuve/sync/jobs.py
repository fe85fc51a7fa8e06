"""The sync job: one (tenant, source), the same function in every mode.

Pull every stream into the store (the runner), record metrics, decide whether a
failure is worth another try (only classified transient errors are), then, once
the attempt is final, enqueue the sync's event and take a coverage snapshot with
its events (the hooks: :func:`preuve.sync.hooks.after_sync`). The arq
worker, the embedded scheduler and the inline CLI wrap this with their own lock
and retry mechanics.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from preuve import events as ev
from preuve.config.settings import SecretMissingError, Settings, SourceConfig, TenantConfig
from preuve.connectors.registry import UnknownConnectorError
from preuve.events import Event
from preuve.i18n import Text
from preuve.logs import log_scope
from preuve.store import RunStatus, Store
from preuve.sync import metrics
from preuve.sync.hooks import after_sync
from preuve.sync.runner import ProgressCallback, SyncOutcome, sync_source

log = logging.getLogger(__name__)

MSG_UNKNOWN = Text(
    fr="aucune source « {source} » pour l'organisme « {tenant} » dans la configuration",
    en="no source '{source}' for tenant '{tenant}' in the configuration",
)


class UnknownSourceError(LookupError):
    """The job names a (tenant, source) that the configuration no longer has."""


@dataclass(slots=True)
class JobResult:
    outcome: SyncOutcome
    attempt: int
    retry_in: float | None = None  # seconds; None: final (success or permanent failure)
    events: list[Event] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            **self.outcome.as_json(),
            "attempt": self.attempt,
            "retry_in": self.retry_in,
            "events": [e.type for e in self.events],
        }


def resolve(
    settings: Settings, tenant_id: str, source_id: str
) -> tuple[TenantConfig, SourceConfig]:
    try:
        tenant = settings.tenant(tenant_id)
        return tenant, tenant.source(source_id)
    except KeyError as exc:
        raise UnknownSourceError(MSG_UNKNOWN(tenant=tenant_id, source=source_id)) from exc


def backoff_seconds(attempt: int, settings: Settings, retry_after: float | None = None) -> float:
    """Exponential backoff after the ``attempt``-th try, at least what the source asked for."""
    base = settings.sync.retry_base_seconds * float(2 ** max(attempt - 1, 0))
    delay = min(base, settings.sync.retry_max_seconds)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.sync.retry_max_seconds))
    return delay


async def _config_failure(
    store: Store,
    tenant: TenantConfig,
    source: SourceConfig,
    exc: Exception,
    trigger: str,
    worker: str | None,
) -> SyncOutcome:
    """The connector could not even be built: record a failed run saying why."""
    run_id = await store.runs.start(tenant.id, source.id, trigger=trigger, worker=worker)
    error = {"code": "configuration", "message": str(exc), "action": "fail"}
    await store.runs.finish(run_id, RunStatus.FAILED, {}, [error])
    return SyncOutcome(run_id, tenant.id, source.id, RunStatus.FAILED, {}, [error])


def _record_metrics(outcome: SyncOutcome, kind: str, seconds: float, retrying: bool) -> None:
    status = "retrying" if retrying else outcome.status.value
    metrics.SYNC_RUNS.labels(kind, status).inc()
    metrics.SYNC_DURATION.labels(kind, status).observe(seconds)
    totals = outcome.totals.as_dict()
    totals["skipped"] = sum(p.skipped for p in outcome.streams.values())
    for name, value in totals.items():
        if value:
            metrics.SYNC_RECORDS.labels(kind, name).inc(value)
    for error in outcome.errors:
        metrics.SYNC_ERRORS.labels(kind, str(error.get("code", "error"))).inc()
    if outcome.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL):
        metrics.SYNC_LAST_SUCCESS.labels(outcome.tenant, outcome.source).set(time.time())


def _sync_event(result: JobResult, kind: str) -> Event:
    outcome = result.outcome
    if outcome.status == RunStatus.FAILED:
        last = outcome.errors[-1] if outcome.errors else {}
        return Event(
            type=ev.SYNC_FAILED,
            tenant=outcome.tenant,
            data={
                "source": outcome.source,
                "source_kind": kind,
                "run_id": outcome.run_id,
                "code": last.get("code", "error"),
                "reason": last.get("message", ""),
                "attempts": result.attempt,
            },
        )
    skipped = sum(p.skipped for p in outcome.streams.values())
    return Event(
        type=ev.SYNC_COMPLETED,
        tenant=outcome.tenant,
        data={
            "source": outcome.source,
            "source_kind": kind,
            "run_id": outcome.run_id,
            "status": outcome.status.value,
            "totals": outcome.totals.as_dict(),
            "skipped": skipped,
        },
    )


async def run_sync_job(
    store: Store,
    settings: Settings,
    tenant_id: str,
    source_id: str,
    *,
    trigger: str = "manual",
    worker: str | None = None,
    attempt: int = 1,
    max_tries: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> JobResult:
    """Sync one (tenant, source) once; the caller holds the lock and handles retries.

    Raises :class:`UnknownSourceError` for a (tenant, source) not configured.
    """
    tenant, source = resolve(settings, tenant_id, source_id)
    tries = max_tries if max_tries is not None else settings.sync.max_tries
    with log_scope(tenant=tenant.id, source=source.id, trigger=trigger, worker=worker):
        started = time.monotonic()
        metrics.SYNC_IN_PROGRESS.inc()
        try:
            outcome = await sync_source(
                store,
                tenant,
                source,
                trigger=trigger,
                worker=worker,
                on_progress=on_progress,
                time_limit=settings.sync.job_timeout_seconds,
            )
        except (UnknownConnectorError, SecretMissingError) as exc:
            outcome = await _config_failure(store, tenant, source, exc, trigger, worker)
        finally:
            metrics.SYNC_IN_PROGRESS.dec()
        result = JobResult(outcome, attempt)
        last = outcome.errors[-1] if outcome.errors else {}
        if outcome.status == RunStatus.FAILED and last.get("action") == "retry" and attempt < tries:
            result.retry_in = backoff_seconds(attempt, settings, last.get("retry_after"))
            metrics.SYNC_RETRIES.labels(source.kind).inc()
        elapsed = time.monotonic() - started
        _record_metrics(outcome, source.kind, elapsed, result.retry_in is not None)
        with log_scope(run=outcome.run_id):
            return await _conclude(store, settings, tenant, source, result)


async def _conclude(
    store: Store,
    settings: Settings,
    tenant: TenantConfig,
    source: SourceConfig,
    result: JobResult,
) -> JobResult:
    """Log the end of the attempt; when it is final, evaluate coverage and send events."""
    outcome = result.outcome
    if result.retry_in is not None:
        last = outcome.errors[-1] if outcome.errors else {}
        log.warning(
            "sync %s/%s attempt %d failed (%s), retry in %.0fs",
            tenant.id,
            source.id,
            result.attempt,
            last.get("code"),
            result.retry_in,
        )
        return result
    log.info(
        "sync %s/%s finished: %s %s",
        tenant.id,
        source.id,
        outcome.status.value,
        outcome.totals.as_dict(),
    )
    result.events = await after_sync(
        store,
        settings,
        tenant,
        [_sync_event(result, source.kind)],
        evaluate_coverage=outcome.status != RunStatus.FAILED,
    )
    return result
