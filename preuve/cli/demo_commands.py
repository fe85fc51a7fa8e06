"""Command: demo."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from preuve.cli.common import CliState, pass_state, run_async
from preuve.cli.coverage_commands import render_coverage
from preuve.constants import EXIT_FAILURE
from preuve.demo.runner import DemoResult, run_demo
from preuve.i18n import Text
from preuve.store import RunStatus

MSG_DEMO_TITLE = Text(
    fr="Démo : {name} — preuves collectées dans {db}",
    en="Demo: {name} — evidence collected into {db}",
)


@click.command("demo")
@click.option(
    "--db",
    "database",
    default=Path("preuve-demo.db"),
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file to fill.",
)
@pass_state
def demo_command(state: CliState, database: Path) -> None:
    """Run the whole pipeline on a fictitious training organisation."""
    result = run_demo_sync(database)
    if state.json_output:
        state.emit_json(
            {
                "database": str(database),
                "runs": [o.as_json() for o in result.outcomes],
                "evidence_counts": result.evidence_counts,
                "coverage": result.coverage.as_json() if result.coverage else None,
            }
        )
    else:
        tenant = result.settings.tenants[0]
        state.console.print(f"[bold]{MSG_DEMO_TITLE(name=tenant.name, db=database)}[/]")
        table = Table("type de preuve / evidence kind", "nombre / count")
        for kind, count in result.evidence_counts.items():
            table.add_row(kind, str(count))
        state.console.print(table)
        if result.coverage is not None:
            render_coverage(state.console, result.coverage)
    if any(o.status is RunStatus.FAILED for o in result.outcomes):
        sys.exit(EXIT_FAILURE)


def run_demo_sync(database: Path) -> DemoResult:
    return run_async(run_demo(database))


def register(group: click.Group) -> None:
    group.add_command(demo_command)
