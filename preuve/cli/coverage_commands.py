"""Commands: coverage (per-indicator coverage) and proof (manual proofs)."""

from __future__ import annotations

import hashlib
import mimetypes
import sys
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text as RichText
from sqlalchemy import select

from preuve import __version__
from preuve.cli.common import CliState, pass_state, run_async
from preuve.config.settings import TenantConfig
from preuve.constants import EXIT_CONFIG, EXIT_GAPS, EXIT_USAGE
from preuve.events import Event
from preuve.evidence.model import (
    DocumentRef,
    EvidenceRecord,
    ManualProof,
    Provenance,
    Withdrawal,
)
from preuve.i18n import Text, current_language
from preuve.mapping import messages as m
from preuve.mapping.evaluate import evaluate
from preuve.mapping.referential import ReferentialError, available_referentials
from preuve.mapping.result import CoverageResult, IndicatorCoverage, Status, summarise
from preuve.mapping.rules import RulesError, declared_components
from preuve.mapping.tables import coverage_snapshot
from preuve.store import Store, open_store
from preuve.sync.hooks import (
    SnapshotRefused,
    coverage_day,
    snapshot_coverage,
    snapshot_problem,
)

MANUAL_SOURCE = "manual"

MSG_TITLE = Text(
    fr="Couverture Qualiopi — {tenant} — référentiel {version}{provisional} — au {as_of}",
    en="Qualiopi coverage — {tenant} — referential {version}{provisional} — as of {as_of}",
)
MSG_PROVISIONAL = Text(fr=" (provisoire)", en=" (provisional)")
MSG_SUMMARY = Text(
    fr="{proven} {proven:indicateur prouvé|indicateurs prouvés} sur {applicable} "
    "{applicable:applicable|applicables} ({percent}) ; {gaps} en écart, {due} à échéance",
    en="{proven} {proven:indicator|indicators} proven out of {applicable} applicable "
    "({percent}); {gaps} with gaps, {due} due",
)
MSG_CRITERION = Text(fr="Critère {n} — {title}", en="Criterion {n} — {title}")
MSG_ACTIONS = Text(fr="Par action", en="By action")
MSG_PROBLEMS = Text(
    fr="{n} {n:enregistrement stocké illisible|enregistrements stockés illisibles}, "
    "non {n:compté|comptés} : {first}",
    en="{n} stored {n:record|records} could not be read and {n:was|were} not counted: {first}",
)
MSG_SNAPSHOT_STORED = Text(
    fr="Instantané n° {id} enregistré ; webhooks : {n} {n:événement|événements} "
    "depuis le précédent",
    en="Snapshot {id} stored; webhooks: {n} {n:event|events} since the previous one",
)
MSG_FIRST_SNAPSHOT_STORED = Text(
    fr="Premier instantané (n° {id}) enregistré ; webhooks : {n} {n:événement|événements} "
    "(aucun instantané précédent : tous les écarts et échéances proches sont signalés)",
    en="First snapshot ({id}) stored; webhooks: {n} {n:event|events} (no previous "
    "snapshot: every gap and every near deadline is reported)",
)
MSG_SNAPSHOT_HINT = Text(
    fr="sans --snapshot, la couverture de ce jour est affichée sans être enregistrée",
    en="without --snapshot, the coverage of that day is shown and not stored",
)
MSG_PROOF_ADDED = Text(
    fr="Preuve manuelle enregistrée pour l'indicateur {indicator} (id {source_id})",
    en="Manual proof recorded for indicator {indicator} (id {source_id})",
)
MSG_PROOF_REMOVED = Text(
    fr="Preuve manuelle {source_id} retirée", en="Manual proof {source_id} withdrawn"
)
MSG_PROOF_UNKNOWN = Text(fr="aucune preuve manuelle {source_id}", en="no manual proof {source_id}")
MSG_URL_OR_FILE = Text(
    fr="donnez --url ou --file (un seul)", en="give --url or --file (exactly one)"
)
MSG_BAD_INDICATOR = Text(
    fr="indicateur {n} inconnu des référentiels ({known})",
    en="indicator {n} is unknown to the referentials ({known})",
)
MSG_BAD_COMPONENT = Text(
    fr="composante « {key} » inconnue pour l'indicateur {n} ; composantes possibles : {keys}",
    en="unknown component '{key}' for indicator {n}; possible components: {keys}",
)
MSG_NO_COMPONENT = Text(
    fr="l'indicateur {n} n'a pas de composante : retirez --component (indicateurs qui en "
    "ont : {numbers})",
    en="indicator {n} has no component: drop --component (indicators that have some: {numbers})",
)

STATUS_STYLE = {
    Status.PROVEN: "green",
    Status.PARTIAL: "yellow",
    Status.MISSING: "bold red",
    Status.DUE: "cyan",
    Status.NOT_APPLICABLE: "dim",
    Status.MANUAL: "magenta",
}
# Gaps: what ``--fail-on-gaps`` fails on and the summary line counts, the statuses
# that put a non-conformity at stake (``IndicatorCoverage.nonconformity``).
GAP_STATUSES = (Status.MISSING, Status.PARTIAL, Status.MANUAL)


def _status_label(status: Status) -> RichText:
    word = m.STATUS_FR[status.value] if current_language() == "fr" else m.STATUS_EN[status.value]
    return RichText(word, style=STATUS_STYLE[status])


def _nonconformity(item: IndicatorCoverage) -> str:
    labels = m.NONCONFORMITY_EN if current_language() == "en" else m.NONCONFORMITY_FR
    return labels[item.nonconformity] if item.nonconformity else ""


def _reason(item: IndicatorCoverage) -> RichText:
    """The reason as plain text: user data (titles, refs) is never read as markup."""
    return RichText(item.reason.fr if current_language() == "fr" else item.reason.en)


def format_percent(value: float | None, language: str | None = None) -> str:
    """A percentage for a reader: "8,0 %" (decimal comma, narrow no-break space) in
    French, "8.0%" in English; "-" when there is none."""
    if value is None:
        return "-"
    if (language or current_language()) == "en":
        return f"{value}%"
    return f"{value}".replace(".", ",") + "\u202f%"


def _number(value: float | None) -> str:
    """A percentage without its sign (the column says "%")."""
    return format_percent(value).removesuffix("%").rstrip("\u202f")


def render_coverage(console: Console, result: CoverageResult) -> None:
    """The coverage table by criterion, then one line per action."""
    referential = available_referentials()[result.referential_version]
    english = current_language() == "en"
    console.print(
        RichText(
            MSG_TITLE(
                tenant=result.tenant,
                version=result.referential_version,
                provisional=MSG_PROVISIONAL() if result.referential_provisional else "",
                as_of=result.as_of,
            ),
            style="bold",
        )
    )
    for criterion in referential.criteria:
        items = [i for i in result.organisation if i.criterion == criterion.number]
        if not items:
            continue
        table = Table(
            title=RichText(
                MSG_CRITERION(
                    n=criterion.number, title=criterion.title_en if english else criterion.title_fr
                )
            ),
            title_justify="left",
            expand=True,
        )
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("indicateur / indicator", ratio=2)
        table.add_column("statut / status", no_wrap=True)
        table.add_column("NC", no_wrap=True)
        table.add_column("raison / reason", ratio=4)
        for item in items:
            indicator = referential.indicator(item.indicator)
            title = indicator.short_title_en if english else indicator.short_title_fr
            if item.provisional:
                title += " *"
            table.add_row(
                str(item.indicator),
                RichText(title),
                _status_label(item.status),
                _nonconformity(item),
                _reason(item) if item.status is not Status.NOT_APPLICABLE else "",
            )
        console.print(table)
    summary = summarise(result.organisation)
    counts = summary["counts"]
    console.print(
        RichText(
            MSG_SUMMARY(
                proven=counts["proven"],
                applicable=summary["applicable"],
                percent=format_percent(summary["proven_percent"]),
                gaps=sum(counts[s.value] for s in GAP_STATUSES),
                due=counts["due"],
            )
        )
    )
    if result.problems:
        console.print(
            "[yellow]"
            + escape(MSG_PROBLEMS(n=len(result.problems), first=result.problems[0]))
            + "[/]",
            highlight=False,
        )
    if not result.actions:
        return
    table = Table(title=RichText(MSG_ACTIONS()), title_justify="left", expand=True)
    table.add_column("action")
    table.add_column("%", justify="right")
    for status in (Status.MISSING, Status.PARTIAL, Status.MANUAL, Status.DUE):
        table.add_column(_status_label(status))
    for action in result.actions:
        action_summary = summarise(action.indicators)

        def _numbers(status: Status, items: list[IndicatorCoverage] = action.indicators) -> str:
            return ", ".join(str(i.indicator) for i in items if i.status is status)

        table.add_row(
            RichText(action.action_ref),
            _number(action_summary["proven_percent"]),
            _numbers(Status.MISSING),
            _numbers(Status.PARTIAL),
            _numbers(Status.MANUAL),
            _numbers(Status.DUE),
        )
    console.print(table)


def has_gaps(result: CoverageResult) -> bool:
    """Whether an organisation-level indicator puts a non-conformity at stake
    (missing, partial or manual): what the summary line counts as gaps."""
    return any(i.status in GAP_STATUSES for i in result.organisation)


@click.command("coverage")
@click.option("--tenant", "tenant_id", help="Tenant (default: the only one).")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Evaluate as of this day (default: today).",
)
@click.option(
    "--audit-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Audit date: picks the referential version (default: configuration, else today).",
)
@click.option(
    "--snapshot/--no-snapshot",
    default=None,
    help="Store the result as a snapshot and send its events to the webhooks "
    "(default: when evaluating as of today with the configured audit date; "
    "--no-snapshot: dry run).",
)
@click.option(
    "--fail-on-gaps",
    is_flag=True,
    help=f"Exit with code {EXIT_GAPS} when an indicator is missing, partial or manual.",
)
@pass_state
def coverage_command(
    state: CliState,
    tenant_id: str | None,
    as_of: datetime | None,
    audit_date: datetime | None,
    snapshot: bool | None,
    fail_on_gaps: bool,
) -> None:
    """Show per-indicator coverage of a tenant (and, as of today, store a snapshot)."""
    tenant = state.tenant(tenant_id)
    settings = state.settings
    day = as_of.date() if as_of else coverage_day(settings)
    audit_day = audit_date.date() if audit_date else None
    # A snapshot is what the sync would store: as of today, with the configured
    # audit date. Another day is only ever a dry run (see docs/coverage.md).
    problem = snapshot_problem(settings, tenant, as_of=day, audit_date=audit_day)
    if snapshot and problem is not None:
        state.fail(f"{problem} ({MSG_SNAPSHOT_HINT()})", EXIT_USAGE)
    take_snapshot = problem is None if snapshot is None else snapshot

    async def _run() -> tuple[CoverageResult, list[Event] | None, bool]:
        store = await open_store(settings.store.url)
        try:
            if take_snapshot:
                result, events = await snapshot_coverage(
                    store, settings, tenant, as_of=day, audit_date=audit_day
                )
                return result, events, await _first_snapshot(store, result)
            return await evaluate(store, tenant, as_of=day, audit_date=audit_day), None, False
        finally:
            await store.close()

    try:
        result, events, first = run_async(_run())
    except (RulesError, ReferentialError) as exc:
        state.fail(str(exc), EXIT_CONFIG)
    except SnapshotRefused as exc:  # midnight passed since the check above
        state.fail(str(exc), EXIT_USAGE)
    if state.json_output:
        # The documented coverage shape either way: ``snapshot_id`` says whether a
        # snapshot was stored (its events are in the webhook delivery log).
        state.emit_json(result.as_json())
    else:
        render_coverage(state.console, result)
        if events is not None:
            stored = MSG_FIRST_SNAPSHOT_STORED if first else MSG_SNAPSHOT_STORED
            state.console.print(RichText(stored(id=result.snapshot_id, n=len(events))))
    if fail_on_gaps and has_gaps(result):
        sys.exit(EXIT_GAPS)


async def _first_snapshot(store: Store, result: CoverageResult) -> bool:
    """Whether the snapshot just stored is the tenant's first (no previous one)."""
    if result.snapshot_id is None:
        return False
    async with store.engine.connect() as conn:
        earlier = await conn.scalar(
            select(coverage_snapshot.c.id)
            .where(
                coverage_snapshot.c.tenant == result.tenant,
                coverage_snapshot.c.id < result.snapshot_id,
            )
            .limit(1)
        )
    return earlier is None


@click.group("proof")
def proof_group() -> None:
    """Manual proofs for indicators no platform can prove (23, 24, 25...)."""


def _document(url: str | None, file: Path | None, title: str) -> DocumentRef:
    if file is not None:
        digest = hashlib.sha256()
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        media_type, _ = mimetypes.guess_type(file.name)
        return DocumentRef(
            uri=file.resolve().as_uri(),
            sha256=digest.hexdigest(),
            media_type=media_type,
            title=title,
        )
    assert url is not None
    return DocumentRef(uri=url, title=title)


def manual_proof_record(
    tenant: TenantConfig, proof: ManualProof, *, fetched_at: datetime | None = None
) -> EvidenceRecord:
    """The evidence record of a manual proof; same content, same id (idempotent).

    The component is part of the id when set (one document may prove two parts of
    an indicator); a proof without one keeps the id it had before components.
    """
    parts = [
        str(proof.indicator),
        proof.action_ref or "",
        proof.document.uri,
        proof.dated.isoformat(),
    ]
    if proof.component is not None:
        parts.append(proof.component)
    key = "|".join(parts)
    source_id = "proof-" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return EvidenceRecord(
        provenance=Provenance(
            tenant=tenant.id,
            source=MANUAL_SOURCE,
            source_id=source_id,
            effective_at=datetime.combine(proof.dated, time(0), tzinfo=UTC),
            fetched_at=fetched_at or datetime.now(UTC),
            connector="manual",
            connector_version=__version__,
            source_url=proof.document.uri if proof.document.uri.startswith("http") else None,
        ),
        data=proof,
    )


def _known_indicators() -> set[int]:
    return {n for r in available_referentials().values() for n in r.numbers}


def _component_problem(indicator: int, component: str) -> str | None:
    """Why ``component`` cannot be given for ``indicator`` (None: it can).

    The keys are those the rules declare for the indicator, in any referential
    version (a tenant may prepare the next version's proofs).
    """
    declared = declared_components()
    keys = declared.get(indicator)
    if not keys:
        return MSG_NO_COMPONENT(n=indicator, numbers=", ".join(str(n) for n in declared))
    if component not in keys:
        return MSG_BAD_COMPONENT(key=component, n=indicator, keys=", ".join(keys))
    return None


def _proof_json(source_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A stored proof as the JSON output shows it (``component`` always present)."""
    return {"source_id": source_id, "component": None, **payload}


@proof_group.command("add")
@click.option("--tenant", "tenant_id", help="Tenant (default: the only one).")
@click.option("--indicator", type=int, required=True, help="Indicator number.")
@click.option("--title", required=True, help="What the document is.")
@click.option("--url", help="Link to the document.")
@click.option(
    "--file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Document file (kept by path and SHA-256, not copied).",
)
@click.option("--dated", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--valid-until", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--action", "action_ref", help="Training action (default: organisation-wide).")
@click.option(
    "--component",
    help="The manual part of the indicator it proves, as the rules name it "
    "(e.g. risk_analysis for 32; default: the indicator's main manual part).",
)
@pass_state
def proof_add(
    state: CliState,
    tenant_id: str | None,
    indicator: int,
    title: str,
    url: str | None,
    file: Path | None,
    dated: datetime,
    valid_until: datetime | None,
    action_ref: str | None,
    component: str | None,
) -> None:
    """Attach a dated document or link as the proof of an indicator (or of one
    of its manual parts, with --component)."""
    tenant = state.tenant(tenant_id)
    if (url is None) == (file is None):
        state.fail(MSG_URL_OR_FILE(), EXIT_USAGE)
    known = _known_indicators()
    if indicator not in known:
        state.fail(MSG_BAD_INDICATOR(n=indicator, known=f"{min(known)}-{max(known)}"), EXIT_USAGE)
    if component is not None and (problem := _component_problem(indicator, component)):
        state.fail(problem, EXIT_USAGE)
    try:
        proof = ManualProof(
            indicator=indicator,
            action_ref=action_ref,
            title=title,
            document=_document(url, file, title),
            dated=dated.date(),
            valid_until=valid_until.date() if valid_until else None,
            component=component,
        )
    except ValueError as exc:
        state.fail(str(exc), EXIT_USAGE)
    record = manual_proof_record(tenant, proof)

    async def _run() -> None:
        store = await open_store(state.settings.store.url)
        try:
            await store.evidence.write_batch(tenant.id, MANUAL_SOURCE, [record])
        finally:
            await store.close()

    run_async(_run())
    source_id = record.provenance.source_id
    if state.json_output:
        state.emit_json({"source_id": source_id, "proof": {"component": None, **record.payload}})
    else:
        state.console.print(MSG_PROOF_ADDED(indicator=indicator, source_id=source_id))


@proof_group.command("list")
@click.option("--tenant", "tenant_id", help="Tenant (default: the only one).")
@pass_state
def proof_list(state: CliState, tenant_id: str | None) -> None:
    """List the manual proofs on file."""
    tenant = state.tenant(tenant_id)

    async def _run() -> list[dict[str, Any]]:
        store = await open_store(state.settings.store.url)
        try:
            return [
                _proof_json(row.source_id, row.payload)
                async for row in store.evidence.iter_evidence(tenant.id, kind="manual_proof")
            ]
        finally:
            await store.close()

    proofs = run_async(_run())
    if state.json_output:
        state.emit_json(proofs)
        return
    english = current_language() == "en"
    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("component" if english else "composante", overflow="fold")
    table.add_column("action", overflow="fold")
    table.add_column("title" if english else "titre", min_width=10)
    table.add_column("dated → valid until" if english else "datée → valable jusqu'au")
    for proof in proofs:
        table.add_row(
            proof["source_id"],
            str(proof["indicator"]),
            proof["component"] or "-",
            RichText(proof.get("action_ref") or "-"),
            RichText(proof["title"]),
            f"{proof['dated']} → {proof.get('valid_until') or '-'}",
        )
    state.console.print(table)


@proof_group.command("remove")
@click.option("--tenant", "tenant_id", help="Tenant (default: the only one).")
@click.argument("source_id")
@pass_state
def proof_remove(state: CliState, tenant_id: str | None, source_id: str) -> None:
    """Withdraw a manual proof (kept in the history, no longer counted)."""
    tenant = state.tenant(tenant_id)

    async def _run() -> int:
        store = await open_store(state.settings.store.url)
        try:
            result = await store.evidence.write_batch(
                tenant.id,
                MANUAL_SOURCE,
                [],
                withdrawals=[
                    Withdrawal(
                        kind="manual_proof",
                        source_id=source_id,
                        reason="removed by user",
                        at=datetime.now(UTC),
                    )
                ],
            )
            return result.withdrawn
        finally:
            await store.close()

    if run_async(_run()) == 0:
        state.fail(MSG_PROOF_UNKNOWN(source_id=source_id), EXIT_USAGE)
    if state.json_output:
        state.emit_json({"source_id": source_id, "withdrawn": True})
    else:
        state.console.print(MSG_PROOF_REMOVED(source_id=source_id))


def register(group: click.Group) -> None:
    group.add_command(coverage_command)
    group.add_command(proof_group)
