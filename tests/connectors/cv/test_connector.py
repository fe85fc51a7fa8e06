"""The cv source: the shared connector suite and the import path on the real store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from preuve.config.settings import SourceConfig
from preuve.connectors.base import Connector
from preuve.connectors.cv import CvConnector
from preuve.connectors.cv.constants import MAX_DOCUMENT_BYTES
from preuve.connectors.registry import build_connector
from preuve.evidence.model import PartialDate
from preuve.store import RunStatus, Store, StoredEvidence
from preuve.sync.runner import SyncOutcome, sync_connector
from tests.connector_suite import ConnectorFactory, ConnectorSuite
from tests.connectors.cv.builders import europass_v3_xml, json_resume, ob2_assertion
from tests.connectors.cv.conftest import CLAIRE, NADIA, PAUL, TENANT, paul_pdf, person_key

SOURCE = "cv"


def _factory(path: Path, **options: Any) -> ConnectorFactory:
    def make() -> Connector:
        source = SourceConfig(id=SOURCE, kind="cv", path=str(path), options=options)
        return build_connector(TENANT, source)

    return make


async def _sync(store: Store, factory: Callable[[], Connector]) -> SyncOutcome:
    connector = factory()
    async with connector:
        return await sync_connector(store, connector)


async def _rows(store: Store, *, withdrawn: bool = False) -> list[StoredEvidence]:
    return [
        row
        async for row in store.evidence.iter_evidence(
            TENANT.id, source=SOURCE, include_withdrawn=withdrawn
        )
    ]


def _day(value: Any) -> str:
    """A stored partial date as text ("2019", "2019-02", "2019-02-03")."""
    return str(PartialDate.model_validate(value))


def _sparse(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        handle.truncate(size)  # sparse: no disk space, no time


def _file_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


class TestCvConnector(ConnectorSuite):
    @pytest.fixture
    def connector_factory(self, trainer_folder: Path) -> ConnectorFactory:
        return _factory(trainer_folder, batch_files=1, trainers={"claire/": CLAIRE})

    @pytest.fixture
    def failing_connector_factory(self, tmp_path: Path) -> ConnectorFactory:
        return _factory(tmp_path / "no-such-folder")

    @pytest.fixture
    def bad_payload_connector_factory(self, tmp_path: Path) -> ConnectorFactory:
        root = tmp_path / "bad"
        root.mkdir()
        (root / "a-cv.xml").write_bytes(europass_v3_xml())
        (root / "b-broken.json").write_bytes(b'{"basics": {"name": "X",}')
        (root / "c-resume.json").write_bytes(json_resume())
        return _factory(root)


async def test_folder_sync_builds_the_trainer_records(store: Store, trainer_folder: Path) -> None:
    outcome = await _sync(store, _factory(trainer_folder, trainers={"claire/": CLAIRE}))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    rows = await _rows(store)
    by_person: dict[str | None, list[StoredEvidence]] = {}
    for row in rows:
        by_person.setdefault(row.person_ref, []).append(row)
    claire, nadia, paul = person_key(CLAIRE), person_key(NADIA), person_key(PAUL)
    # The same key as the Moodle user with that e-mail.
    assert set(by_person) == {claire, nadia, paul}
    kinds = {p: sorted({r.kind for r in rs}) for p, rs in by_person.items()}
    assert kinds[claire] == [
        "person",
        "trainer_cpd",
        "trainer_cv",
        "trainer_experience",
        "trainer_qualification",
    ]
    person = next(r for r in by_person[claire] if r.kind == "person")
    assert person.payload["roles"] == ["trainer"]
    assert person.payload["display_name"] == "Claire Martin"  # the badge did not blank it
    badge_cpd = [
        r
        for r in by_person[claire]
        if r.kind == "trainer_cpd" and r.payload["title"] == "Accessibilité des formations"
    ]
    assert len(badge_cpd) == 1  # the hashed recipient matched Claire's configured e-mail
    assert _day(badge_cpd[0].payload["completed"]) == "2025-04-02"
    # Every value names its document: by reference and SHA-256, not a copy.
    cv_file = trainer_folder / "claire" / "cv-europass.xml"
    cv_row = next(r for r in by_person[claire] if r.kind == "trainer_cv")
    assert cv_row.payload["document"] == {
        "uri": str(cv_file.resolve()),
        "sha256": hashlib.sha256(cv_file.read_bytes()).hexdigest(),
        "media_type": "application/xml",
        "title": "cv-europass.xml",
    }
    assert _day(cv_row.payload["updated"]) == "2025-09-15"
    assert cv_row.payload["format"] == "europass-xml"
    for row in rows:
        if row.kind != "person":
            assert row.payload["document"]["sha256"]
    # PDF values are guesses: flagged for review; the CV date is the PDF's.
    paul_rows = {r.kind: r for r in by_person[paul]}
    assert paul_rows["trainer_cpd"].payload["needs_review"] is True
    assert _day(paul_rows["trainer_cpd"].payload["completed"]) == "2019-02"
    assert paul_rows["trainer_cpd"].payload["hours"] == 21.0
    assert _day(paul_rows["trainer_cv"].payload["updated"]) == "2025-01-10"
    # Year-only dates stay year-only; closed periods get their length in years.
    nadia_exp = [r for r in by_person[nadia] if r.kind == "trainer_experience"]
    closed = next(r for r in nadia_exp if r.payload.get("end"))
    assert (_day(closed.payload["start"]), _day(closed.payload["end"])) == ("2018-02", "2023")
    assert closed.payload["years"] == pytest.approx(5.9, abs=0.1)
    # Only what the indicators need: nothing of the contact details or birth date.
    text = repr([r.payload for r in rows])
    for private in ("Lilas", "+33", "1980", "0600000000", 'Lille"', CLAIRE, NADIA, PAUL):
        assert private not in text
    # Nothing was copied next to the documents.
    assert _file_names(trainer_folder) == [
        ".hidden.json",
        "badge-accessibilite.json",
        "cv-europass.xml",
        "nadia.json",
        "paul.pdf",
    ]


async def test_changed_and_deleted_files_withdraw_their_entries(
    store: Store, trainer_folder: Path
) -> None:
    factory = _factory(trainer_folder, trainers={"claire/": CLAIRE})
    await _sync(store, factory)
    nadia = person_key(NADIA)
    before = [r for r in await _rows(store) if r.person_ref == nadia]
    assert sum(r.kind == "trainer_qualification" for r in before) == 4

    # Nadia's resume loses its certificates: their two entries are withdrawn.
    (trainer_folder / "nadia.json").write_bytes(json_resume(certificates=[]))
    second = await _sync(store, factory)
    assert second.status is RunStatus.SUCCEEDED, second.errors
    assert second.totals.withdrawn == 4  # 2 qualifications + 2 CPD entries
    now = [r for r in await _rows(store) if r.person_ref == nadia]
    assert sum(r.kind == "trainer_qualification" for r in now) == 2
    assert not any(r.kind == "trainer_cpd" for r in now)

    # Paul's PDF is deleted: all its entries are withdrawn, his Person stays.
    (trainer_folder / "paul.pdf").unlink()
    third = await _sync(store, factory)
    assert third.status is RunStatus.SUCCEEDED, third.errors
    paul_rows = [r for r in await _rows(store) if r.person_ref == person_key(PAUL)]
    assert [r.kind for r in paul_rows] == ["person"]
    history = await store.evidence.history(
        TENANT.id, SOURCE, "trainer_cv", f"{person_key(PAUL)}/paul.pdf#cv"
    )
    assert [rev.withdrawn for rev in history] == [False, True]


async def test_a_file_that_breaks_keeps_its_entries_and_is_retried(
    store: Store, trainer_folder: Path
) -> None:
    factory = _factory(trainer_folder, trainers={"claire/": CLAIRE})
    await _sync(store, factory)
    count = len(await _rows(store))
    (trainer_folder / "nadia.json").write_bytes(b'{"basics": ')
    broken = await _sync(store, factory)
    assert broken.status is RunStatus.PARTIAL
    (skip,) = [e for e in broken.errors if e["action"] == "skip"]
    assert skip["item"] == "nadia.json"
    assert "JSON invalide" in skip["reason"]
    assert len(await _rows(store)) == count  # the last good state stays
    again = await _sync(store, factory)
    assert again.status is RunStatus.PARTIAL  # reported again: the cursor did not skip it
    (trainer_folder / "nadia.json").write_bytes(json_resume())
    fixed = await _sync(store, factory)
    assert fixed.status is RunStatus.SUCCEEDED
    assert fixed.totals.inserted == 0


async def test_badge_recipients_are_verified(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "badges"
    root.mkdir()
    (root / "for-claire.json").write_bytes(ob2_assertion(CLAIRE))
    (root / "for-nobody.json").write_bytes(ob2_assertion("inconnu@exemple.fr"))
    (root / "mapped-wrong.json").write_bytes(ob2_assertion(NADIA))
    options = {"trainers": {"someone.json": CLAIRE, "mapped-wrong.json": PAUL}}
    outcome = await _sync(store, _factory(root, **options))
    assert outcome.status is RunStatus.PARTIAL
    reasons = {e["item"]: (e["code"], e["reason"]) for e in outcome.errors}
    assert reasons["for-nobody.json"][0] == "unknown_trainer"
    assert "sha256" in reasons["for-nobody.json"][1]
    assert reasons["mapped-wrong.json"][0] == "badge_mismatch"
    assert "for-claire.json" not in reasons
    rows = await _rows(store)
    assert {r.person_ref for r in rows if r.kind == "trainer_cpd"} == {person_key(CLAIRE)}


async def test_unknown_trainer_and_unsupported_files_are_reported(
    store: Store, tmp_path: Path
) -> None:
    root = tmp_path / "cv"
    root.mkdir()
    (root / "sans-email.xml").write_bytes(europass_v3_xml(email=None))
    (root / "lettre.docx").write_bytes(b"PK\x03\x04")
    (root / "mapped.xml").write_bytes(europass_v3_xml(email=None))
    outcome = await _sync(store, _factory(root, trainers={"mapped.xml": PAUL}))
    assert outcome.status is RunStatus.PARTIAL
    codes = {e["item"]: e["code"] for e in outcome.errors}
    assert codes == {"sans-email.xml": "unknown_trainer", "lettre.docx": "unsupported_format"}
    assert {r.person_ref for r in await _rows(store)} == {person_key(PAUL)}


async def test_copies_are_kept_only_when_configured(store: Store, tmp_path: Path) -> None:
    root, archive = tmp_path / "cv", tmp_path / "archive"
    root.mkdir()
    data = europass_v3_xml()
    (root / "cv.xml").write_bytes(data)
    outcome = await _sync(store, _factory(root, copy_documents_to=str(archive)))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    digest = hashlib.sha256(data).hexdigest()
    copy = archive / f"{digest}.xml"
    assert copy.read_bytes() == data
    (cv,) = [r for r in await _rows(store) if r.kind == "trainer_cv"]
    assert cv.payload["document"]["uri"] == str(copy)


async def test_single_file_source_and_bad_options(store: Store, tmp_path: Path) -> None:
    file = tmp_path / "cv.xml"
    file.write_bytes(europass_v3_xml(email=None))
    one = await _sync(store, _factory(file, email=NADIA))
    assert one.status is RunStatus.SUCCEEDED, one.errors
    assert await store.evidence.cursors(TENANT.id, SOURCE) == {}  # a single file has no cursor
    assert {r.person_ref for r in await _rows(store)} == {person_key(NADIA)}
    bad = await _sync(store, _factory(file, trainers={"x.pdf": "not-an-email"}))
    assert bad.status is RunStatus.FAILED
    assert bad.errors[-1]["code"] == "bad_options"
    assert "trainers" in bad.errors[-1]["message"]


async def test_uploads_are_read_from_memory(store: Store) -> None:
    source = SourceConfig(id=SOURCE, kind="cv", options={"email": CLAIRE})
    connector = CvConnector(
        build_connector(TENANT, source).context, uploads=[("badge.json", ob2_assertion(CLAIRE))]
    )
    outcome = await _sync(store, lambda: connector)
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    (cpd,) = [r for r in await _rows(store) if r.kind == "trainer_cpd"]
    assert cpd.payload["document"]["uri"] == "upload:badge.json"


async def test_remapping_a_file_moves_its_entries_to_the_new_trainer(
    store: Store, tmp_path: Path
) -> None:
    root = tmp_path / "cv"
    root.mkdir()
    (root / "cv.pdf").write_bytes(paul_pdf())
    await _sync(store, _factory(root, trainers={"cv.pdf": NADIA}))
    assert {r.person_ref for r in await _rows(store)} == {person_key(NADIA)}
    # The admin fixes the mapping; the file itself did not change.
    moved = await _sync(store, _factory(root, trainers={"cv.pdf": PAUL}))
    assert moved.status is RunStatus.SUCCEEDED, moved.errors
    current = {r.person_ref for r in await _rows(store) if r.kind != "person"}
    assert current == {person_key(PAUL)}
    withdrawn = [r for r in await _rows(store, withdrawn=True) if r.withdrawn]
    assert withdrawn
    assert {r.person_ref for r in withdrawn} == {person_key(NADIA)}


async def test_oversized_files_are_refused_without_being_loaded(
    store: Store, tmp_path: Path
) -> None:
    root = tmp_path / "cv"
    root.mkdir()
    (root / "ok.json").write_bytes(json_resume())
    _sparse(root / "huge.pdf", MAX_DOCUMENT_BYTES + 1)
    outcome = await _sync(store, _factory(root))
    assert outcome.status is RunStatus.PARTIAL
    (error,) = [e for e in outcome.errors if e["action"] == "skip"]
    assert (error["item"], error["code"]) == ("huge.pdf", "too_big")
    assert str(MAX_DOCUMENT_BYTES + 1) in error["reason"]


async def test_check_counts_documents_and_warns_about_gaps(tmp_path: Path) -> None:
    root = tmp_path / "cv"
    root.mkdir()
    (root / "cv.xml").write_bytes(europass_v3_xml())
    (root / "lettre.docx").write_bytes(b"PK")
    async with _factory(root)() as connector:
        report = await connector.check()
    assert report.ok
    codes = {item.code: item.status.value for item in report.items}
    assert codes == {"files": "ok", "unsupported_files": "warning", "no_mapping": "warning"}
    assert report.details == {"documents": 1, "mapped": 0}
    async with _factory(root, trainers={"cv.xml": "not-an-email"})() as broken:
        bad = await broken.check()
    assert not bad.ok
    assert bad.items[0].code == "bad_options"


async def test_the_cursor_keeps_no_email_address(store: Store, trainer_folder: Path) -> None:
    await _sync(store, _factory(trainer_folder, trainers={"claire/": CLAIRE}))
    cursors = await store.evidence.cursors(TENANT.id, SOURCE)
    (value,) = cursors.values()
    for address in (CLAIRE, NADIA, PAUL):
        assert address not in value
    assert person_key(CLAIRE) in value
