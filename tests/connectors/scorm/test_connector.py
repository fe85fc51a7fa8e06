"""The scorm connector into the real store (SQLite and PostgreSQL), and the shared suite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from preuve.config.settings import SourceConfig
from preuve.connectors.base import ConnectorContext
from preuve.connectors.registry import connector_class
from preuve.connectors.scorm import ScormConnector
from preuve.evidence.identity import Pseudonymiser
from preuve.store import RunStatus, Store
from preuve.sync.runner import sync_connector
from tests.connector_suite import TENANT, ConnectorFactory, ConnectorSuite
from tests.connectors.scorm.builders import (
    CLOUD_JSON,
    CLOUD_XML,
    LOM_2004,
    MOODLE_EN,
    MOODLE_FR,
    manifest_2004,
    package_12,
    write_zip,
)

SECRET = b"test-secret"


def make(path: Path | None, source: str = "elearning", **options: Any) -> ScormConnector:
    context = ConnectorContext(
        tenant=TENANT,
        source=SourceConfig(
            id=source, kind="scorm", path=str(path) if path else None, options=options
        ),
        pseudonymiser=Pseudonymiser(SECRET),
    )
    return ScormConnector(context)


def healthy_folder(root: Path) -> Path:
    root.mkdir(exist_ok=True)
    package_12(root / "a-securite.zip")
    write_zip(root / "b-rgpd.zip", {"imsmanifest.xml": manifest_2004(lom=LOM_2004)})
    folder = root / "c-dossier"
    folder.mkdir(exist_ok=True)
    (folder / "imsmanifest.xml").write_text(
        manifest_2004(schemaversion="CAM 1.3").replace("com.example.rgpd", "com.example.dossier"),
        encoding="utf-8",
    )
    (root / "moodle-en.txt").write_text(MOODLE_EN, encoding="utf-8")
    (root / "moodle-fr.txt").write_text(MOODLE_FR, encoding="utf-8")
    (root / "cloud.json").write_bytes(orjson.dumps(CLOUD_JSON))
    (root / "cloud.xml").write_text(CLOUD_XML, encoding="utf-8")
    (root / "notes.md").write_text("ignored", encoding="utf-8")
    return root


class TestScormConnectorSuite(ConnectorSuite):
    @pytest.fixture
    def connector_factory(self, tmp_path: Path) -> ConnectorFactory:
        root = healthy_folder(tmp_path / "scorm")
        return lambda: make(root, batch_size=4)

    @pytest.fixture
    def failing_connector_factory(self, tmp_path: Path) -> ConnectorFactory:
        return lambda: make(tmp_path / "missing")

    @pytest.fixture
    def bad_payload_connector_factory(self, tmp_path: Path) -> ConnectorFactory:
        root = healthy_folder(tmp_path / "scorm")
        (root / "broken.zip").write_bytes(b"PK\x03\x04 not really")
        return lambda: make(root)


def test_registered_under_its_kind() -> None:
    assert connector_class("scorm") is ScormConnector


async def test_import_keeps_good_files_and_names_bad_ones(store: Store, tmp_path: Path) -> None:
    root = healthy_folder(tmp_path / "scorm")
    (root / "broken.zip").write_bytes(b"garbage")
    write_zip(root / "nested.zip", {"cours/imsmanifest.xml": "<manifest/>"})
    (root / "bad-rows.txt").write_text(
        MOODLE_EN + "Eve\teve@example.org\tone\t-\t-\t-\t-\t-\n", encoding="utf-8"
    )
    connector = make(root)
    async with connector:
        outcome = await sync_connector(store, connector)
    assert outcome.status is RunStatus.PARTIAL
    items = {e["item"]: e for e in outcome.errors if e["action"] == "skip"}
    assert set(items) == {"broken.zip", "nested.zip", "bad-rows.txt, ligne 5"}
    assert items["nested.zip"]["code"] == "nested_manifest"
    assert "one" in items["bad-rows.txt, ligne 5"]["reason"]
    counts = await store.evidence.count_by_kind(TENANT, source="elearning")
    assert counts["course_description"] == 3
    assert counts["learning_resource"] == 2 + 1 + 1
    assert counts["training_action"] == 3  # no action_ref configured: one per package
    for kind in ("completion", "assessment", "activity"):
        assert counts[kind] > 0


async def test_evidence_content(store: Store, tmp_path: Path) -> None:
    root = healthy_folder(tmp_path / "scorm")
    connector = make(root, actions={"*rgpd*": "moodle:42"}, action_ref="moodle:7")
    async with connector:
        outcome = await sync_connector(store, connector)
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    course = await store.evidence.get(
        TENANT, "elearning", "course_description", "course:b-rgpd:com.example.rgpd"
    )
    assert course is not None
    payload = course.payload
    assert payload["action_ref"] == "moodle:42"
    assert payload["title"] == "RGPD pour les formateurs"
    assert payload["duration_hours"] == 1.5
    assert payload["objectives"] == [
        "Identifier une donnée personnelle",
        "Tenir un registre des traitements",
        "identifier_les_donnees_personnelles",
    ]
    assert "0.7" in payload["assessment_methods"]
    assert "0.75" in payload["assessment_methods"]
    assert payload["modalities"] == "formation à distance (e-learning)"
    assert payload["teaching_methods"] == "modules e-learning SCORM 2004 4e édition : 1 module"
    secu = await store.evidence.get(
        TENANT, "elearning", "learning_resource", "resource:a-securite:com.example.securite:quiz"
    )
    assert secu is not None
    assert secu.payload["action_ref"] == "moodle:7"
    assert secu.payload["url"] == "quiz.html?mode=quiz"
    assert secu.payload["distance"] is True
    # Configured actions: the packages don't invent their own training actions.
    assert "training_action" not in await store.evidence.count_by_kind(TENANT)

    pseudo = Pseudonymiser(SECRET)
    alice = pseudo.from_email("alice@example.org")
    rows = [row async for row in store.evidence.iter_evidence(TENANT, source="elearning")]
    for row in rows:
        text = orjson.dumps(row.payload).decode() + row.source_id
        assert "@example.org" not in text.lower(), "no address stored"
    alice_rows = [r for r in rows if r.person_ref == alice]
    kinds = {r.kind for r in alice_rows}
    assert kinds == {"completion", "assessment", "activity"}
    # The SCORM Cloud learner "Alice@Example.org" is the same person as the Moodle one.
    cloud = [r for r in alice_rows if "scorm:rgpd-101" in (r.payload.get("activity_ref") or "")]
    assert cloud
    trace = next(
        r for r in cloud if r.kind == "activity" and r.payload["activity_ref"] == "scorm:rgpd-101"
    )
    assert trace.payload["duration_seconds"] == 1800.5
    objective = next(r for r in cloud if r.kind == "assessment" and r.payload.get("objective"))
    assert objective.payload["objective"] == "obj-registre"
    assert objective.payload["passed"] is False
    learner2 = pseudo.from_source_user("elearning", "L2")
    assert any(r.person_ref == learner2 for r in rows)


async def test_unchanged_files_are_not_read_again_and_failed_ones_are(
    store: Store, tmp_path: Path
) -> None:
    root = healthy_folder(tmp_path / "scorm")
    (root / "broken.zip").write_bytes(b"garbage")
    first = await _sync(store, make(root))
    assert first.status is RunStatus.PARTIAL
    second = await _sync(store, make(root))
    assert second.status is RunStatus.PARTIAL  # the broken file is reported again
    assert second.totals.inserted == second.totals.unchanged == 0  # the rest was not re-read
    (root / "broken.zip").unlink()
    package_12(root / "broken.zip", identifier="fixed")
    third = await _sync(store, make(root))
    assert third.status is RunStatus.SUCCEEDED
    assert third.totals.inserted > 0


async def test_check_and_options(tmp_path: Path) -> None:
    root = healthy_folder(tmp_path / "scorm")
    report = await make(root).check()
    assert report.ok
    assert report.details == {"packages": 3, "exports": 4}
    empty = tmp_path / "empty"
    empty.mkdir()
    report = await make(empty).check()
    assert report.ok
    assert report.items[0].code == "no_files"
    report = await make(root, timezone="Mars/Olympus").check()
    assert not report.ok
    assert report.items[0].code == "bad_options"
    report = await make(None).check()
    assert report.items[0].code == "no_path"


async def test_explicit_files_option(store: Store, tmp_path: Path) -> None:
    root = healthy_folder(tmp_path / "scorm")
    files = [str(root / "moodle-fr.txt"), str(root / "b-rgpd.zip")]
    connector = make(None, files=files, remember_files=False)
    outcome = await _sync(store, connector)
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    counts = await store.evidence.count_by_kind(TENANT, source="elearning")
    assert counts["course_description"] == 1
    assert counts["completion"] > 0
    # An explicit import does not touch the cursor of a folder source with the same id.
    assert await store.evidence.cursors(TENANT, "elearning") == {}


async def _sync(store: Store, connector: ScormConnector) -> Any:
    async with connector:
        return await sync_connector(store, connector)


async def test_packages_sharing_an_identifier_do_not_overwrite_each_other(
    store: Store, tmp_path: Path
) -> None:
    # Adapt writes identifier="adapt_manifest" in every export.
    root = tmp_path / "same-id"
    root.mkdir()
    package_12(root / "cours-a.zip", identifier="adapt_manifest", title="Cours A")
    package_12(root / "cours-b.zip", identifier="adapt_manifest", title="Cours B")
    outcome = await _sync(store, make(root))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    titles = {
        row.payload["title"]
        async for row in store.evidence.iter_evidence(TENANT, kind="course_description")
    }
    assert titles == {"Cours A", "Cours B"}
    actions = {
        row.payload["action_ref"]
        async for row in store.evidence.iter_evidence(TENANT, kind="training_action")
    }
    assert actions == {"scorm:cours-a:adapt_manifest", "scorm:cours-b:adapt_manifest"}


async def test_an_item_that_cannot_become_evidence_is_reported(
    store: Store, tmp_path: Path
) -> None:
    root = tmp_path / "odd"
    root.mkdir()
    text = (
        manifest_2004(completion="")
        .replace('<item identifier="sco1" identifierref="r1">', '<item identifierref="r1">')
        .replace("<title>Les principes</title>", "")
    )
    write_zip(root / "odd.zip", {"imsmanifest.xml": text})
    outcome = await _sync(store, make(root))
    assert outcome.status is RunStatus.PARTIAL
    [error] = [e for e in outcome.errors if e["action"] == "skip"]
    assert error["item"] == "odd.zip, <item >"
    assert error["code"] == "invalid_value"
    assert "title" in error["reason"]
    counts = await store.evidence.count_by_kind(TENANT)
    assert counts["course_description"] == 1  # the rest of the package is kept
