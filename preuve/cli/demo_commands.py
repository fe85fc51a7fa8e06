"""Command: demo."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
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
@click.option(
    "--moodle/--no-moodle",
    default=True,
    show_default=True,
    help="Also pull from a local Moodle stand-in (a generated fictitious site).",
)
@pass_state
def demo_command(state: CliState, database: Path, moodle: bool) -> None:
    """Run the whole pipeline on a fictitious training organisation.

    It reads the organisation's files (JSON Lines) and its Moodle site, served
    on 127.0.0.1 by Preuve's Moodle stand-in, into a SQLite file, then prints
    the evidence counts and the per-indicator coverage.
    """
    result = run_demo_sync(database, with_moodle=moodle)
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
        state.console.print(f"[bold]{escape(MSG_DEMO_TITLE(name=tenant.name, db=database))}[/]")
        table = Table("type de preuve / evidence kind", "nombre / count")
        for kind, count in result.evidence_counts.items():
            table.add_row(kind, str(count))
        state.console.print(table)
        if result.coverage is not None:
            render_coverage(state.console, result.coverage)
    if any(o.status is RunStatus.FAILED for o in result.outcomes):
        sys.exit(EXIT_FAILURE)


def run_demo_sync(database: Path, *, with_moodle: bool) -> DemoResult:
    return run_async(run_demo(database, with_moodle=with_moodle))


def register(group: click.Group) -> None:
    group.add_command(demo_command)
