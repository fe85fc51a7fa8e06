"""Command: coverage. Until the mapping is in place it prints the evidence counts."""

from __future__ import annotations

import click
from rich.table import Table

from preuve.cli.common import CliState, pass_state, run_async
from preuve.store import open_store


@click.command("coverage")
@click.option("--tenant", "tenant_id", help="Tenant (default: the only one).")
@pass_state
def coverage_command(state: CliState, tenant_id: str | None) -> None:
    """Show per-indicator coverage of a tenant."""
    tenant = state.tenant(tenant_id)

    async def _run() -> dict[str, int]:
        store = await open_store(state.settings.store.url)
        try:
            return await store.evidence.count_by_kind(tenant.id)
        finally:
            await store.close()

    counts = run_async(_run())
    if state.json_output:
        state.emit_json({"tenant": tenant.id, "evidence_counts": counts})
        return
    table = Table("type de preuve / evidence kind", "nombre / count")
    for kind, count in counts.items():
        table.add_row(kind, str(count))
    state.console.print(table)


def register(group: click.Group) -> None:
    group.add_command(coverage_command)
