"""Commands: init, check, import, db upgrade, runs."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from preuve.cli.common import CliState, pass_state, run_async
from preuve.config.settings import SecretMissingError, SourceConfig
from preuve.config.starter import STARTER_TOML
from preuve.connectors.base import CheckReport, CheckStatus
from preuve.connectors.errors import ConnectorError
from preuve.connectors.registry import UnknownConnectorError, build_connector
from preuve.constants import DEFAULT_CONFIG_FILE, EXIT_CHECK_FAILED, EXIT_FAILURE, EXIT_PARTIAL
from preuve.i18n import Text
from preuve.store import RunStatus, open_store, redact_url
from preuve.store.engine import create_engine
from preuve.store.migrate import upgrade
from preuve.sync.runner import SyncOutcome, sync_source

MSG_INIT_EXISTS = Text(
    fr="{path} existe déjà (utilisez --force pour l'écraser)",
    en="{path} already exists (use --force to overwrite it)",
)
MSG_INIT_DONE = Text(
    fr="Configuration écrite dans {path}. Renseignez vos organismes et sources, puis lancez "
    "`preuve check`.",
    en="Configuration written to {path}. Fill in your tenants and sources, then run "
    "`preuve check`.",
)
MSG_STORE_OK = Text(fr="Base de preuves joignable : {url}", en="Evidence store reachable: {url}")
MSG_STORE_KO = Text(
    fr="Base de preuves injoignable ({url}) : {error}",
    en="Evidence store unreachable ({url}): {error}",
)
MSG_DB_UPGRADED = Text(fr="Schéma à jour : {url}", en="Schema up to date: {url}")
MSG_IMPORT_DONE = Text(
    fr="{inserted} {inserted:ajoutée|ajoutées}, {updated} {updated:modifiée|modifiées}, "
    "{unchanged} {unchanged:inchangée|inchangées}, {skipped} {skipped:rejetée|rejetées}",
    en="{inserted} added, {updated} changed, {unchanged} unchanged, {skipped} rejected",
)
MSG_NO_SOURCES = Text(fr="aucune source configurée", en="no source configured")

_STATUS_STYLE = {CheckStatus.OK: "green", CheckStatus.WARNING: "yellow", CheckStatus.ERROR: "red"}
_STATUS_WORD = {
    CheckStatus.OK: "OK",
    CheckStatus.WARNING: "ATTENTION",
    CheckStatus.ERROR: "ERREUR",
}


def print_outcome(state: CliState, outcome: SyncOutcome) -> None:
    totals = outcome.totals
    skipped = sum(p.skipped for p in outcome.streams.values())
    state.console.print(
        MSG_IMPORT_DONE(
            inserted=totals.inserted,
            updated=totals.updated,
            unchanged=totals.unchanged,
            skipped=skipped,
        )
    )
    for error in outcome.errors:
        where = f"{error.get('item')}: " if error.get("item") else ""
        state.err_console.print(
            f"  [yellow]-[/] {escape(where + str(error.get('reason') or error.get('message')))}"
        )


def exit_for(statuses: set[RunStatus]) -> None:
    """Exit 1 when a run failed, 5 when one was partial (see docs/cli.md)."""
    if RunStatus.FAILED in statuses:
        sys.exit(EXIT_FAILURE)
    if RunStatus.PARTIAL in statuses:
        sys.exit(EXIT_PARTIAL)


def report_imports(state: CliState, files: Sequence[Path], outcomes: list[SyncOutcome]) -> None:
    """Print one outcome per imported file (or all as JSON), then exit by status."""
    if state.json_output:
        state.emit_json([o.as_json() for o in outcomes])
    else:
        for file, outcome in zip(files, outcomes, strict=True):
            state.console.print(f"[bold]{escape(str(file))}[/]")
            print_outcome(state, outcome)
    exit_for({o.status for o in outcomes})


@click.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def init_command(state: CliState, force: bool, path: Path | None) -> None:
    """Write a commented starter configuration file."""
    target = path or state.config_path or Path(DEFAULT_CONFIG_FILE)
    if target.exists() and not force:
        state.fail(MSG_INIT_EXISTS(path=target), EXIT_FAILURE)
    target.write_text(STARTER_TOML, encoding="utf-8")
    if state.json_output:
        state.emit_json({"written": str(target)})
    else:
        state.console.print(MSG_INIT_DONE(path=target))


async def _check_source(tenant_id: str, source: SourceConfig, state: CliState) -> CheckReport:
    tenant = state.settings.tenant(tenant_id)
    report = CheckReport(source=source.id, kind=source.kind)
    try:
        connector = build_connector(tenant, source)
        async with connector:
            return await connector.check()
    except (ConnectorError, SecretMissingError, UnknownConnectorError) as exc:
        code = exc.code if isinstance(exc, ConnectorError) else "configuration"
        report.add(CheckStatus.ERROR, code, str(exc))
    return report


async def _check_store(url: str) -> tuple[bool, str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        return True, ""
    except Exception as exc:  # noqa: BLE001 - reported to the admin, whatever it is
        return False, f"{type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()


@click.command("check")
@click.option("--tenant", "tenant_id", help="Only this tenant.")
@click.option("--source", "source_id", help="Only this source.")
@pass_state
def check_command(state: CliState, tenant_id: str | None, source_id: str | None) -> None:
    """Check the store and every source: say exactly what is missing."""
    settings = state.settings
    store_ok, store_error = run_async(_check_store(settings.store.url))
    url = redact_url(settings.store.url)
    reports: list[tuple[str, CheckReport]] = []
    tenants = [state.tenant(tenant_id)] if tenant_id else settings.tenants
    for tenant in tenants:
        for source in tenant.sources:
            if source_id and source.id != source_id:
                continue
            reports.append((tenant.id, run_async(_check_source(tenant.id, source, state))))
    ok = store_ok and all(r.ok for _, r in reports)
    if state.json_output:
        state.emit_json(
            {
                "ok": ok,
                "store": {"ok": store_ok, "url": url, "error": store_error or None},
                "sources": [{"tenant": t, **r.as_json()} for t, r in reports],
            }
        )
    else:
        if store_ok:
            state.console.print(f"[green]OK[/] {escape(MSG_STORE_OK(url=url))}")
        else:
            failed = MSG_STORE_KO(url=url, error=store_error)
            state.console.print(f"[red]ERREUR[/] {escape(failed)}")
        if not reports:
            state.console.print(MSG_NO_SOURCES())
        for tenant_key, report in reports:
            title = escape(f"{tenant_key} / {report.source}")
            state.console.print(f"\n[bold]{title}[/] ({report.kind})")
            for item in report.items:
                style = _STATUS_STYLE[item.status]
                word = _STATUS_WORD[item.status]
                state.console.print(f"  [{style}]{word:<9}[/] {escape(item.message)}")
                if item.hint:
                    state.console.print(f"            → {escape(item.hint)}")
    if not ok:
        sys.exit(EXIT_CHECK_FAILED)


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--tenant", "tenant_id", help="Tenant the records belong to.")
@click.option("--source", "source_id", default="import", show_default=True, help="Source name.")
@pass_state
def import_command(
    state: CliState, files: tuple[Path, ...], tenant_id: str | None, source_id: str
) -> None:
    """Load evidence records from JSON Lines files (see docs/import-format.md)."""
    tenant = state.tenant(tenant_id)

    async def _run() -> list[SyncOutcome]:
        store = await open_store(state.settings.store.url)
        try:
            outcomes = []
            for file in files:
                source = SourceConfig(
                    id=source_id,
                    kind="jsonl",
                    path=str(file),
                    options={"remember_files": False},
                )
                outcomes.append(await sync_source(store, tenant, source, trigger="import"))
            return outcomes
        finally:
            await store.close()

    report_imports(state, files, run_async(_run()))


@click.group("db")
def db_group() -> None:
    """Database schema management."""


@db_group.command("upgrade")
@pass_state
def db_upgrade_command(state: CliState) -> None:
    """Apply pending schema migrations (Alembic)."""
    url = state.settings.store.url

    async def _run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    run_async(_run())
    if state.json_output:
        state.emit_json({"upgraded": True, "url": redact_url(url)})
    else:
        state.console.print(MSG_DB_UPGRADED(url=redact_url(url)))


@click.command("runs")
@click.option("--tenant", "tenant_id")
@click.option("--source", "source_id")
@click.option("--limit", default=20, show_default=True)
@pass_state
def runs_command(state: CliState, tenant_id: str | None, source_id: str | None, limit: int) -> None:
    """Show the sync-run history."""

    async def _run() -> list[dict[str, Any]]:
        store = await open_store(state.settings.store.url)
        try:
            runs = await store.runs.recent(tenant=tenant_id, source=source_id, limit=limit)
            return [r.as_json() for r in runs]
        finally:
            await store.close()

    runs = run_async(_run())
    if state.json_output:
        state.emit_json(runs)
        return
    table = Table("début / started", "organisme", "source", "statut", "écrits", "erreurs")
    for run in runs:
        written = sum(
            s.get("inserted", 0) + s.get("updated", 0) + s.get("withdrawn", 0)
            for s in run["counts"].values()
        )
        table.add_row(
            run["started_at"][:19],
            run["tenant"],
            run["source"],
            run["status"],
            str(written),
            str(len(run["errors"])),
        )
    state.console.print(table)


def register(group: click.Group) -> None:
    for command in (init_command, check_command, import_command, db_group, runs_command):
        group.add_command(command)
