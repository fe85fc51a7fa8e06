"""`preuve trainer import/erase` run for real, and the upload route of the web app."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import orjson
import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from preuve.cli.main import cli
from preuve.config.settings import Settings, SourceConfig, TenantConfig
from preuve.constants import EXIT_PARTIAL, EXIT_USAGE
from preuve.store import Store, open_store
from preuve.web.app import create_app
from tests.connectors.cv.builders import europass_v3_xml, json_resume, ob2_assertion
from tests.connectors.cv.conftest import CLAIRE, NADIA, person_key
from tests.connectors.cv.pdfmaker import make_pdf

CONFIG = """
[store]
url = "{url}"

[[tenants]]
id = "of-test"
name = "OF test"

  [[tenants.sources]]
  id = "cv"
  kind = "cv"
  path = "{folder}"
  [tenants.sources.options]
  copy_documents_to = "{archive}"
  [tenants.sources.options.trainers]
  "claire/" = "{claire}"
"""


def _run(*args: str, answer: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=answer, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def setup_cli(tmp_path: Path, store_url: str) -> tuple[Path, Path, Path]:
    folder, archive = tmp_path / "cv", tmp_path / "archive"
    (folder / "claire").mkdir(parents=True)
    (folder / "claire" / "cv.xml").write_bytes(europass_v3_xml(email=None))
    config = tmp_path / "preuve.toml"
    config.write_text(
        CONFIG.format(url=store_url, folder=folder, archive=archive, claire=CLAIRE),
        encoding="utf-8",
    )
    return config, folder, archive


async def _count(url: str, ref: str) -> int:
    store = await open_store(url)
    try:
        rows = [
            row
            async for row in store.evidence.iter_evidence("of-test", include_withdrawn=True)
            if row.person_ref == ref
        ]
        return len(rows)
    finally:
        await store.close()


def test_trainer_import_with_email_then_erase(
    setup_cli: tuple[Path, Path, Path], tmp_path: Path, store_url: str
) -> None:
    config, _, archive = setup_cli
    pdf = tmp_path / "attestation.pdf"
    pdf.write_bytes(make_pdf(["Formation continue", "05/2025 Animer en classe virtuelle (7 h)"]))
    badge = tmp_path / "badge.json"
    badge.write_bytes(ob2_assertion(NADIA))
    wrong = tmp_path / "other-badge.json"
    wrong.write_bytes(ob2_assertion(CLAIRE))

    code, out, _ = _run(
        "--config", str(config), "--json", "trainer", "import", str(pdf), str(badge), str(wrong),
        "--email", NADIA,
    )  # fmt: skip
    assert code == EXIT_PARTIAL  # the badge awarded to someone else is refused
    results = orjson.loads(out)
    assert [r["status"] for r in results] == ["succeeded", "succeeded", "partial"]
    assert "ne correspond pas" in results[2]["errors"][0]["reason"]
    nadia = person_key(NADIA)
    # The PDF: Person, TrainerCv and one CPD entry; the badge: one CPD entry.
    assert asyncio.run(_count(store_url, nadia)) == 4
    code, out, _ = _run("--config", str(config), "--json", "sync", "--inline", "--source", "cv")
    assert code == 0, out
    claire = person_key(CLAIRE)
    assert asyncio.run(_count(store_url, claire)) > 0
    copies = list(archive.iterdir())
    assert len(copies) == 1  # copy_documents_to is configured for the cv source

    code, out, _ = _run(
        "--config", str(config), "trainer", "erase", "--email", CLAIRE, answer="n\n"
    )
    assert code == EXIT_USAGE  # the admin said no: nothing erased
    assert asyncio.run(_count(store_url, claire)) > 0
    code, out, err = _run("--config", str(config), "trainer", "erase", "--email", CLAIRE, "--yes")
    assert code == 0
    assert claire in out
    assert "claire/cv.xml" in err  # the admin is told which source files to delete
    assert asyncio.run(_count(store_url, claire)) == 0
    assert asyncio.run(_count(store_url, nadia)) > 0  # only that trainer is erased
    assert not any(archive.iterdir())  # Preuve's copy of the document went with it


def test_trainer_commands_validate_their_options(setup_cli: tuple[Path, Path, Path]) -> None:
    config, folder, _ = setup_cli
    file = str(folder / "claire" / "cv.xml")
    code, _, _ = _run(
        "--config", str(config), "trainer", "import", file, "--email", "a@b.fr", "--person", "p_1"
    )
    assert code == EXIT_USAGE
    code, _, _ = _run("--config", str(config), "trainer", "erase", "--yes")
    assert code == EXIT_USAGE


async def test_upload_route_stores_the_document_entries(store: Store) -> None:
    settings = Settings(tenants=[TenantConfig(id="of-test", name="OF test")])
    app = create_app(settings, store=store)
    async with TestClient(TestServer(app)) as client:
        form = FormData()
        form.add_field("file", json_resume(), filename="cv nadia.json")
        response = await client.post("/api/tenants/of-test/trainers/documents", data=form)
        assert response.status == 200, await response.text()
        outcome = await response.json()
        assert outcome["source"] == "trainer-upload"
        assert outcome["totals"]["inserted"] > 0

        form = FormData()
        form.add_field("file", ob2_assertion(CLAIRE), filename="badge.json")
        form.add_field("email", NADIA)
        refused = await client.post("/api/tenants/of-test/trainers/documents", data=form)
        assert refused.status == 422
        body = await refused.json()
        assert body["errors"][0]["code"] == "badge_mismatch"

        missing = await client.post("/api/tenants/nope/trainers/documents", data=FormData())
        assert missing.status == 404

        listing = await client.get("/api/tenants/of-test/trainers")
        assert listing.status == 200
        (trainer,) = await listing.json()
    assert trainer["person_ref"] == person_key(NADIA)
    assert trainer["display_name"] == "Nadia Benali"
    assert trainer["counts"]["trainer_cv"] == 1
    assert trainer["cv"] == "2025-06-30"
    assert trainer["last_cpd"] == "2025-03-10"
    row = await store.evidence.get(
        "of-test", "trainer-upload", "trainer_cv", f"{person_key(NADIA)}/cv nadia.json#cv"
    )
    assert row is not None
    assert row.payload["document"]["uri"] == "upload:cv nadia.json"
    assert row.payload["document"]["sha256"] == hashlib.sha256(json_resume()).hexdigest()


def test_source_config_accepts_the_cv_kind() -> None:
    source = SourceConfig(id="cv", kind="cv", path="/srv/cv", options={"trainers": {}})
    assert source.kind == "cv"


async def test_upload_route_limits_the_file_and_the_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from preuve.web import routes_trainers

    monkeypatch.setattr(routes_trainers, "MAX_DOCUMENT_BYTES", 1000)
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'web.db'}")
    settings = Settings(tenants=[TenantConfig(id="of-test", name="OF test")])
    try:
        async with TestClient(TestServer(create_app(settings, store=store))) as client:
            url = "/api/tenants/of-test/trainers/documents"
            form = FormData()
            form.add_field("file", b"{" + b" " * 5000 + b"}", filename="big.json")
            too_big = await client.post(url, data=form)
            assert too_big.status == 413
            form = FormData()
            form.add_field("email", "a" * 10_000 + "@exemple.fr")
            form.add_field("file", json_resume(), filename="cv.json")
            too_long = await client.post(url, data=form)
            assert too_long.status == 400
            assert "email" in await too_long.text()
            form = FormData()
            form.add_field("file", json_resume(), filename="cv.json")
            form.add_field("email", "not-an-address")
            refused = await client.post(url, data=form)
            assert refused.status == 422  # the option is validated, the run names it
        assert await store.evidence.count_by_kind("of-test") == {}
    finally:
        await store.close()
