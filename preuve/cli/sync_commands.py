"""Commands: sync (queued on Redis, or inline with progress bars) and sync-status.

With ``[redis] url`` configured, ``preuve sync`` asks the workers (one job per
(tenant, source); a sync already queued or running is reported, not queued
twice) and ``--wait`` follows the jobs until they end. Without Redis, or with
``--inline``, it runs here with progress bars.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click
from arq.jobs import JobStatus
from redis.asyncio import Redis
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn
from rich.table import Table

from preuve.cli.common import CliState, pass_state, run_async
from preuve.cli.core_commands import exit_for, print_outcome
from preuve.config.settings import Settings
from preuve.constants import EXIT_USAGE
from preuve.i18n import Text
from preuve.store import Store, SyncRun, open_store
from preuve.sync.dispatch import ArqDispatcher, TriggerResult, TriggerStatus
from preuve.sync.embedded import abandoned_after
from preuve.sync.jobs import run_sync_job
from preuve.sync.locks import close_abandoned_runs, job_key, redis_lock, running_runs
from preuve.sync.plugins import apply_connector_classes
from preuve.sync.progress import active_runs, records_so_far
from preuve.sync.runner import StreamProgress, SyncOutcome

MSG_NO_SOURCE = Text(
    fr="aucune source « {source} » à synchroniser (sources actives : {known})",
    en="no source '{source}' to sync (enabled sources: {known})",
)
MSG_WAITING = Text(
    fr="{count} {count:enregistrement|enregistrements}", en="{count} {count:record|records}"
)
MSG_NOTHING_RUNS = Text(fr="aucune synchronisation en cours", en="no sync running")
MSG_QUEUE = Text(
    fr="file : {ready} {ready:prête|prêtes}, {deferred} {deferred:différée|différées}, "
    "{running} en cours",
    en="queue: {ready} ready, {deferred} deferred, {running} running",
)

WAIT_POLL_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Target:
    tenant: str
    source: str


def _targets(state: CliState, tenant_id: str | None, source_id: str | None) -> list[Target]:
    settings = state.settings
    tenants = [state.tenant(tenant_id)] if tenant_id else settings.tenants
    targets = [
        Target(t.id, s.id)
        for t in tenants
        for s in t.sources
        if s.enabled and (source_id is None or s.id == source_id)
    ]
    if source_id and not targets:
        known = ", ".join(f"{t.id}/{s.id}" for t in tenants for s in t.sources if s.enabled)
        state.fail(MSG_NO_SOURCE(source=source_id, known=known or "-"), EXIT_USAGE)
    return targets


# --- inline ----------------------------------------------------------------------


async def _inline_one(
    store: Store, settings: Settings, target: Target, bars: Progress, redis: Redis | None
) -> SyncOutcome | TriggerResult:
    refused = TriggerResult(TriggerStatus.ALREADY_RUNNING, target.tenant, target.source)
    if redis is None:
        # No shared lock: the run log tells whether another process is on it.
        await close_abandoned_runs(
            store, target.tenant, target.source, older_than=abandoned_after(settings)
        )
        if await running_runs(store, target.tenant, target.source):
            return refused
        return await _inline_run(store, settings, target, bars)
    # Redis configured (`--inline`): take the same lock as the workers.
    key = job_key(target.tenant, target.source)
    async with redis_lock(redis, key, settings.sync.lock_ttl_seconds) as held:
        if not held:
            return refused
        await close_abandoned_runs(store, target.tenant, target.source)
        return await _inline_run(store, settings, target, bars)


async def _inline_run(
    store: Store, settings: Settings, target: Target, bars: Progress
) -> SyncOutcome:
    tasks: dict[str, TaskID] = {}
    label = f"{target.tenant}/{target.source}"

    def on_progress(stream: str, progress: StreamProgress) -> None:
        if stream not in tasks:
            tasks[stream] = bars.add_task(f"{label} {stream}", total=None)
        done = progress.result.written + progress.result.unchanged
        bars.update(tasks[stream], completed=done)

    result = await run_sync_job(
        store,
        settings,
        target.tenant,
        target.source,
        trigger="cli",
        worker="cli",
        max_tries=1,  # interactive: report a transient failure now rather than wait
        on_progress=on_progress,
    )
    return result.outcome


def _sync_inline(state: CliState, targets: list[Target]) -> None:
    settings = state.settings
    apply_connector_classes(settings)

    async def _run() -> list[SyncOutcome | TriggerResult]:
        store = await open_store(settings.store.url)
        redis = Redis.from_url(settings.redis.url) if settings.redis.url else None
        results: list[SyncOutcome | TriggerResult] = []
        try:
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed} enregistrements"),
                console=state.err_console,
                disable=state.json_output,
            ) as bars:
                for target in targets:
                    results.append(await _inline_one(store, settings, target, bars, redis))
        finally:
            await store.close()
            if redis is not None:
                await redis.aclose()
        return results

    results = run_async(_run())
    outcomes = [r for r in results if isinstance(r, SyncOutcome)]
    if state.json_output:
        state.emit_json([r.as_json() for r in results])
    else:
        for result in results:
            if isinstance(result, TriggerResult):
                state.console.print(f"[yellow]{escape(result.message())}[/]")
                continue
            state.console.print(f"[bold]{result.tenant}/{result.source}[/]: {result.status}")
            print_outcome(state, result)
    exit_for({o.status for o in outcomes})


# --- queued ----------------------------------------------------------------------


async def _finished_run(store: Store, target: Target, since: datetime) -> SyncRun | None:
    runs = await store.runs.recent(tenant=target.tenant, source=target.source, limit=5)
    for run in runs:
        if run.finished_at is not None and run.finished_at >= since:
            return run
    return None


async def _wait_for(
    state: CliState,
    dispatcher: ArqDispatcher,
    store: Store,
    targets: list[Target],
    since: datetime,
) -> list[SyncRun]:
    waiting = set(targets)
    finished: list[SyncRun] = []
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.fields[info]}"),
        console=state.err_console,
        disable=state.json_output,
    ) as bars:
        tasks = {t: bars.add_task(f"{t.tenant}/{t.source}", total=None, info="…") for t in targets}
        while waiting:
            for target in sorted(waiting, key=lambda t: (t.tenant, t.source)):
                status = await dispatcher.job_status(target.tenant, target.source)
                if status in (JobStatus.not_found, JobStatus.complete):
                    run = await _finished_run(store, target, since)
                    waiting.discard(target)
                    if run is not None:
                        finished.append(run)
                        info = f"{run.status.value}, {MSG_WAITING(count=records_so_far(run))}"
                    else:
                        info = "?"
                    bars.update(tasks[target], info=info)
                    continue
                runs = await active_runs(store, tenant=target.tenant, source=target.source)
                info = MSG_WAITING(count=records_so_far(runs[0])) if runs else status.value
                bars.update(tasks[target], info=info)
            if waiting:
                await asyncio.sleep(WAIT_POLL_SECONDS)
    return finished


def _sync_queued(state: CliState, targets: list[Target], wait: bool) -> None:
    settings = state.settings
    assert settings.redis.url is not None

    async def _run() -> tuple[list[TriggerResult], list[SyncRun]]:
        since = datetime.now(UTC)
        dispatcher = await ArqDispatcher.connect(settings.redis.url or "")
        store = await open_store(settings.store.url) if wait else None
        try:
            answers = [await dispatcher.trigger(t.tenant, t.source, trigger="cli") for t in targets]
            runs: list[SyncRun] = []
            if wait and store is not None:
                runs = await _wait_for(state, dispatcher, store, targets, since)
            return answers, runs
        finally:
            await dispatcher.close()
            if store is not None:
                await store.close()

    answers, runs = run_async(_run())
    if state.json_output:
        state.emit_json(
            {"requests": [a.as_json() for a in answers], "runs": [r.as_json() for r in runs]}
        )
    else:
        for answer in answers:
            colour = "green" if answer.accepted else "yellow"
            state.console.print(f"[{colour}]{answer.message()}[/]")
        for run in runs:
            state.console.print(
                f"[bold]{run.tenant}/{run.source}[/]: {run.status.value} "
                f"({MSG_WAITING(count=records_so_far(run))})"
            )
            for error in run.errors:
                state.err_console.print(
                    f"  [yellow]-[/] {error.get('item') or ''} "
                    f"{error.get('reason') or error.get('message')}"
                )
    exit_for({r.status for r in runs})


@click.command("sync")
@click.option("--tenant", "tenant_id", help="Only this tenant (default: all).")
@click.option("--source", "source_id", help="Only this source (default: all).")
@click.option("--wait", is_flag=True, help="With Redis: wait for the jobs to end, show progress.")
@click.option("--inline", is_flag=True, help="Run here even when Redis is configured.")
@pass_state
def sync_command(
    state: CliState, tenant_id: str | None, source_id: str | None, wait: bool, inline: bool
) -> None:
    """Pull evidence from the configured sources into the store."""
    targets = _targets(state, tenant_id, source_id)
    if state.settings.redis.url and not inline:
        _sync_queued(state, targets, wait)
    else:
        _sync_inline(state, targets)


@click.command("sync-status")
@click.option("--tenant", "tenant_id", help="Only this tenant.")
@pass_state
def sync_status_command(state: CliState, tenant_id: str | None) -> None:
    """Show the syncs running now, with their records so far, and the queue."""
    settings = state.settings

    async def _run() -> tuple[list[SyncRun], dict[str, int] | None]:
        store = await open_store(settings.store.url)
        try:
            runs = await active_runs(store, tenant=tenant_id)
        finally:
            await store.close()
        depth = None
        if settings.redis.url:
            dispatcher = await ArqDispatcher.connect(settings.redis.url)
            try:
                depth = await dispatcher.queue_depth()
            finally:
                await dispatcher.close()
        return runs, depth

    runs, depth = run_async(_run())
    if state.json_output:
        payload: dict[str, Any] = {
            "running": [{**r.as_json(), "records_so_far": records_so_far(r)} for r in runs],
            "queue": depth,
        }
        state.emit_json(payload)
        return
    if depth is not None:
        state.console.print(MSG_QUEUE(**depth))
    if not runs:
        state.console.print(MSG_NOTHING_RUNS())
        return
    table = Table("début / started", "organisme", "source", "flux / streams", "worker")
    for run in runs:
        streams = ", ".join(
            f"{name}: {records_so_far_stream(counts)}" for name, counts in run.counts.items()
        )
        table.add_row(
            run.started_at.isoformat()[:19], run.tenant, run.source, streams, run.worker or ""
        )
    state.console.print(table)


def records_so_far_stream(counts: Any) -> int:
    if not isinstance(counts, dict):
        return 0
    return sum(int(counts.get(k, 0)) for k in ("inserted", "updated", "unchanged"))


def register(group: click.Group) -> None:
    group.add_command(sync_command)
    group.add_command(sync_status_command)
