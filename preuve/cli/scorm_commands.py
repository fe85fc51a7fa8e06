"""Commands: ``preuve scorm import`` (packages and tracking exports given by hand)."""

from __future__ import annotations

from pathlib import Path

import click

from preuve.cli.common import CliState, pass_state, run_async
from preuve.cli.core_commands import exit_for, print_outcome
from preuve.connectors.scorm.sources import scorm_source
from preuve.constants import EXIT_USAGE
from preuve.store import open_store
from preuve.sync.runner import SyncOutcome, sync_source


@click.group("scorm")
def scorm_group() -> None:
    """SCORM packages and tracking exports (see docs/scorm.md)."""


@scorm_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--tenant", "tenant_id", help="Tenant the evidence belongs to.")
@click.option("--source", "source_id", default="scorm", show_default=True, help="Source id.")
@click.option("--action", "action_ref", help="action_ref of the training action (e.g. moodle:42).")
@click.option("--timezone", help="Time zone of dates without offset (default Europe/Paris).")
@click.option("--strict/--lenient", default=None, help="Refuse what lenient mode repairs.")
@pass_state
def import_command(
    state: CliState,
    files: tuple[Path, ...],
    tenant_id: str | None,
    source_id: str,
    action_ref: str | None,
    timezone: str | None,
    strict: bool | None,
) -> None:
    """Import SCORM packages (.zip or folders) and tracking exports in one run."""
    tenant = state.tenant(tenant_id)
    try:
        source = scorm_source(
            tenant,
            source_id,
            [str(f) for f in files],
            action_ref=action_ref,
            timezone=timezone,
            strict=strict,
        )
    except ValueError as exc:
        state.fail(str(exc), EXIT_USAGE)

    async def _run() -> SyncOutcome:
        store = await open_store(state.settings.store.url)
        try:
            return await sync_source(store, tenant, source, trigger="import")
        finally:
            await store.close()

    outcome = run_async(_run())
    if state.json_output:
        state.emit_json(outcome.as_json())
    else:
        print_outcome(state, outcome)
    exit_for({outcome.status})


def register(group: click.Group) -> None:
    group.add_command(scorm_group)
