"""Commands: trainer import (CVs, badges, PDFs) and trainer erase (right to erasure)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from preuve.cli.common import CliState, pass_state, run_async
from preuve.cli.core_commands import report_imports
from preuve.config.settings import SourceConfig, TenantConfig
from preuve.connectors.cv.connector import CursorState
from preuve.connectors.cv.constants import STREAM_NAME, TRAINER_KINDS
from preuve.connectors.cv.options import CvOptions
from preuve.constants import EXIT_USAGE
from preuve.evidence.identity import Pseudonymiser
from preuve.i18n import Text
from preuve.store import Store, open_store
from preuve.sync.runner import SyncOutcome, sync_source

DEFAULT_IMPORT_SOURCE = "trainer-import"

MSG_ONE_IDENTITY = Text(
    fr="donnez --email ou --person, pas les deux", en="give --email or --person, not both"
)
MSG_IDENTITY_NEEDED = Text(
    fr="donnez l'e-mail (--email) ou la clé (--person) du formateur",
    en="give the trainer's e-mail (--email) or key (--person)",
)
MSG_CONFIRM = Text(
    fr="Effacer toutes les données du formateur {ref} pour l'organisme {tenant} ?",
    en="Erase all data of trainer {ref} for tenant {tenant}?",
)
MSG_ERASED = Text(
    fr="{count} {count:enregistrement effacé avec son|enregistrements effacés avec leur} "
    "historique pour {ref} ; {copies} "
    "{copies:copie de documents supprimée|copies de documents supprimées}",
    en="{count} {count:record|records} erased with {count:its|their} history for {ref}; "
    "{copies} document {copies:copy|copies} deleted",
)
MSG_FILES_LEFT = Text(
    fr="Ces documents sont encore dans le dossier de la source {source} : supprimez-les, "
    "sinon la prochaine synchronisation les relira :",
    en="These documents are still in the folder of source {source}: delete them, or the next "
    "sync will read them again:",
)


@click.group("trainer")
def trainer_group() -> None:
    """Trainer CVs, qualifications and continuing development (indicators 21, 22)."""


@trainer_group.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--tenant", "tenant_id", help="Tenant the trainer works for.")
@click.option("--email", help="The trainer's e-mail (names the trainer, verifies badges).")
@click.option("--person", "person_ref", help="The trainer's person key when no e-mail is known.")
@click.option(
    "--source", "source_id", default=DEFAULT_IMPORT_SOURCE, show_default=True, help="Source name."
)
@pass_state
def import_command(
    state: CliState,
    files: tuple[Path, ...],
    tenant_id: str | None,
    email: str | None,
    person_ref: str | None,
    source_id: str,
) -> None:
    """Import trainer documents (Europass, JSON Resume, Open Badges, PDF).

    Without --email or --person, each document must carry the trainer's e-mail.
    """
    if email and person_ref:
        state.fail(MSG_ONE_IDENTITY(), EXIT_USAGE)
    tenant = state.tenant(tenant_id)
    options: dict[str, Any] = {}
    if email:
        options["email"] = email
    if person_ref:
        options["person_ref"] = person_ref

    async def _run() -> list[SyncOutcome]:
        store = await open_store(state.settings.store.url)
        try:
            outcomes = []
            for file in files:
                source = SourceConfig(id=source_id, kind="cv", path=str(file), options=options)
                outcomes.append(await sync_source(store, tenant, source, trigger="import"))
            return outcomes
        finally:
            await store.close()

    report_imports(state, files, run_async(_run()))


def _copy_folders(tenant: TenantConfig) -> set[Path]:
    """Folders where Preuve keeps copies of documents (``copy_documents_to``)."""
    folders: set[Path] = set()
    for source in tenant.sources:
        if source.kind == "cv":
            copy_dir = CvOptions.model_validate(source.options).copy_documents_to
            if copy_dir:
                folders.update({Path(copy_dir), Path(copy_dir).resolve()})
    return folders


async def _document_copies(
    store: Store, tenant_id: str, person_ref: str, folders: set[Path]
) -> set[Path]:
    """Copies Preuve made of this trainer's documents."""
    found: set[Path] = set()
    if not folders:
        return found
    for kind in TRAINER_KINDS:
        async for row in store.evidence.iter_evidence(tenant_id, kind=kind, include_withdrawn=True):
            if row.person_ref != person_ref:
                continue
            uri = (row.payload.get("document") or {}).get("uri")
            if isinstance(uri, str) and Path(uri).parent in folders:
                found.add(Path(uri))
    return found


async def _forget_in_cursors(
    store: Store, tenant: TenantConfig, person_ref: str
) -> dict[str, list[str]]:
    """Drop the person's files from the cv cursors; return them per source."""
    left: dict[str, list[str]] = {}
    for source in tenant.sources:
        if source.kind != "cv":
            continue
        raw = await store.evidence.get_cursor(tenant.id, source.id, STREAM_NAME)
        if raw is None:
            continue
        cursor = CursorState.load(raw)
        mine = sorted(rel for rel, item in cursor.files.items() if item.person == person_ref)
        if not mine:
            continue
        for rel in mine:
            del cursor.files[rel]
        await store.evidence.write_batch(
            tenant.id, source.id, [], cursor=(STREAM_NAME, cursor.dump())
        )
        left[source.id] = mine
    return left


@trainer_group.command("erase")
@click.option("--tenant", "tenant_id", help="Tenant the trainer worked for.")
@click.option("--email", help="The trainer's e-mail.")
@click.option("--person", "person_ref", help="The trainer's person key.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def erase_command(
    state: CliState,
    tenant_id: str | None,
    email: str | None,
    person_ref: str | None,
    yes: bool,
) -> None:
    """Erase every record about a trainer, with its history (right to erasure)."""
    if email and person_ref:
        state.fail(MSG_ONE_IDENTITY(), EXIT_USAGE)
    if not email and not person_ref:
        state.fail(MSG_IDENTITY_NEEDED(), EXIT_USAGE)
    tenant = state.tenant(tenant_id)
    ref = person_ref or Pseudonymiser(tenant.pseudonym_secret()).from_email(email or "")
    if not yes and not click.confirm(MSG_CONFIRM(ref=ref, tenant=tenant.id)):
        sys.exit(EXIT_USAGE)

    folders = _copy_folders(tenant)

    async def _run() -> tuple[int, set[Path], dict[str, list[str]]]:
        store = await open_store(state.settings.store.url)
        try:
            copies = await _document_copies(store, tenant.id, ref, folders)
            deleted = await store.evidence.delete_person(tenant.id, ref)
            left = await _forget_in_cursors(store, tenant, ref)
            return deleted, copies, left
        finally:
            await store.close()

    deleted, copy_files, left = run_async(_run())
    for copy in copy_files:
        copy.unlink(missing_ok=True)
    copies = len(copy_files)
    if state.json_output:
        state.emit_json(
            {
                "tenant": tenant.id,
                "person_ref": ref,
                "deleted": deleted,
                "copies_deleted": copies,
                "files_left": left,
            }
        )
        return
    state.console.print(MSG_ERASED(count=deleted, ref=ref, copies=copies))
    for source_id, files in left.items():
        state.err_console.print(MSG_FILES_LEFT(source=source_id))
        for name in files:
            state.err_console.print(f"  - {name}")


def register(group: click.Group) -> None:
    group.add_command(trainer_group)
