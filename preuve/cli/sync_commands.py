"""Command: sync (inline, with progress bars)."""

from __future__ import annotations

import sys

import click
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn

from preuve.cli.common import CliState, pass_state, run_async
from preuve.cli.core_commands import print_outcome
from preuve.constants import EXIT_FAILURE, EXIT_PARTIAL
from preuve.store import RunStatus, open_store
from preuve.sync.runner import StreamProgress, SyncOutcome, sync_source


@click.command("sync")
@click.option("--tenant", "tenant_id", help="Only this tenant (default: all).")
@click.option("--source", "source_id", help="Only this source (default: all).")
@pass_state
def sync_command(state: CliState, tenant_id: str | None, source_id: str | None) -> None:
    """Pull evidence from the configured sources into the store."""
    settings = state.settings
    tenants = [state.tenant(tenant_id)] if tenant_id else settings.tenants

    async def _run() -> list[SyncOutcome]:
        store = await open_store(settings.store.url)
        outcomes: list[SyncOutcome] = []
        try:
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed} enregistrements"),
                console=state.err_console,
                disable=state.json_output,
                transient=False,
            ) as bars:
                for tenant in tenants:
                    for source in tenant.sources:
                        if (source_id and source.id != source_id) or not source.enabled:
                            continue
                        tasks: dict[str, TaskID] = {}

                        def on_progress(
                            stream: str,
                            progress: StreamProgress,
                            tasks: dict[str, TaskID] = tasks,
                            label: str = f"{tenant.id}/{source.id}",
                        ) -> None:
                            if stream not in tasks:
                                tasks[stream] = bars.add_task(f"{label} {stream}", total=None)
                            done = progress.result.written + progress.result.unchanged
                            bars.update(tasks[stream], completed=done)

                        outcomes.append(
                            await sync_source(store, tenant, source, on_progress=on_progress)
                        )
        finally:
            await store.close()
        return outcomes

    outcomes = run_async(_run())
    if state.json_output:
        state.emit_json([o.as_json() for o in outcomes])
    else:
        for outcome in outcomes:
            state.console.print(f"[bold]{outcome.tenant}/{outcome.source}[/]: {outcome.status}")
            print_outcome(state, outcome)
    statuses = {o.status for o in outcomes}
    if RunStatus.FAILED in statuses:
        sys.exit(EXIT_FAILURE)
    if RunStatus.PARTIAL in statuses:
        sys.exit(EXIT_PARTIAL)


def register(group: click.Group) -> None:
    group.add_command(sync_command)
