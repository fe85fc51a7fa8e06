"""``preuve scorm import`` and the upload route, end to end on real SQLite stores."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from aiohttp import FormData
from click.testing import CliRunner

from preuve.cli.main import cli
from preuve.config.settings import load_settings
from preuve.constants import EXIT_PARTIAL, EXIT_USAGE
from preuve.store import Store, open_store
from preuve.web.app import create_app
from tests.connectors.scorm.builders import MOODLE_FR, package_12

CONFIG = """
[store]
url = "sqlite+aiosqlite:///{db}"

[[tenants]]
id = "of-scorm"
name = "OF SCORM"

  [[tenants.sources]]
  id = "elearning"
  kind = "scorm"
  path = "{data}"
  options = {{ timezone = "America/Montreal" }}

  [[tenants.sources]]
  id = "fichiers"
  kind = "jsonl"
  path = "{data}"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    path = tmp_path / "preuve.toml"
    path.write_text(CONFIG.format(db=tmp_path / "p.db", data=data), encoding="utf-8")
    return path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


async def _counts(db: Path, source: str) -> dict[str, int]:
    store = await open_store(f"sqlite+aiosqlite:///{db}")
    try:
        return await store.evidence.count_by_kind("of-scorm", source=source)
    finally:
        await store.close()


def test_cli_imports_files_in_one_run_and_reports_the_bad_one(config: Path, tmp_path: Path) -> None:
    package = package_12(tmp_path / "cours.zip")
    report = tmp_path / "rapport.txt"
    report.write_text(MOODLE_FR, encoding="utf-8")
    broken = tmp_path / "casse.zip"
    broken.write_bytes(b"nope")
    code, out, _ = _run(
        "-c",
        str(config),
        "--json",
        "scorm",
        "import",
        str(package),
        str(report),
        str(broken),
        "--tenant",
        "of-scorm",
        "--source",
        "elearning",
        "--action",
        "moodle:12",
    )
    assert code == EXIT_PARTIAL
    outcome = orjson.loads(out)
    assert outcome["status"] == "partial"
    assert [e["item"] for e in outcome["errors"]] == ["casse.zip"]
    assert outcome["totals"]["inserted"] > 0

    counts = asyncio.run(_counts(tmp_path / "p.db", "elearning"))
    assert counts["course_description"] == 1
    assert "training_action" not in counts  # --action names an existing action

    # The configured source's options apply: dates read in its time zone.
    async def _dates() -> set[str]:
        store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
        try:
            return {
                row.payload["at"]
                async for row in store.evidence.iter_evidence("of-scorm", kind="activity")
            }
        finally:
            await store.close()

    assert "2026-11-06T11:00:00-05:00" in asyncio.run(_dates())


def test_cli_refuses_a_source_of_another_kind(config: Path, tmp_path: Path) -> None:
    package = package_12(tmp_path / "cours.zip")
    code, out, _ = _run(
        "-c", str(config), "--json", "scorm", "import", str(package), "--source", "fichiers"
    )
    assert code == EXIT_USAGE
    assert "jsonl" in orjson.loads(out)["error"]


@pytest.fixture
async def web_store(tmp_path: Path) -> Store:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'web.db'}")
    yield store  # type: ignore[misc]
    await store.close()


async def test_upload_route(aiohttp_client: object, config: Path, web_store: Store) -> None:
    settings = load_settings(config)
    client = await aiohttp_client(create_app(settings, store=web_store))  # type: ignore[operator]
    form = FormData()
    form.add_field("file", MOODLE_FR.encode(), filename="../../rapport fr.txt")
    response = await client.post(
        "/api/tenants/of-scorm/sources/elearning/scorm?action=moodle:5", data=form
    )
    body = await response.json()
    assert response.status == 200, body
    assert body["file"] == "rapport fr.txt"
    assert body["status"] == "succeeded"
    counts = await web_store.evidence.count_by_kind("of-scorm", source="elearning")
    assert counts["completion"] > 0
    rows = [r async for r in web_store.evidence.iter_evidence("of-scorm", kind="completion")]
    assert {r.action_ref for r in rows} == {"moodle:5"}

    refused = await client.post(
        "/api/tenants/of-scorm/sources/elearning/scorm?filename=x.zip", data=b"not a zip"
    )
    body = await refused.json()
    assert refused.status == 422
    assert body["errors"][0]["item"] == "x.zip"

    assert (
        await client.post("/api/tenants/of-scorm/sources/elearning/scorm", data=b"x")
    ).status == 400
    assert (
        await client.post("/api/tenants/of-scorm/sources/elearning/scorm?filename=a.exe", data=b"x")
    ).status == 400
    assert (
        await client.post("/api/tenants/nobody/sources/elearning/scorm?filename=a.zip", data=b"x")
    ).status == 404
    assert (
        await client.post("/api/tenants/of-scorm/sources/fichiers/scorm?filename=a.zip", data=b"x")
    ).status == 400


async def test_upload_size_limit(
    aiohttp_client: object, config: Path, web_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from preuve.web import routes_scorm

    monkeypatch.setattr(routes_scorm, "MAX_UPLOAD_BYTES", 1000)
    client = await aiohttp_client(create_app(load_settings(config), store=web_store))  # type: ignore[operator]
    response = await client.post(
        "/api/tenants/of-scorm/sources/elearning/scorm?filename=big.txt", data=b"x" * 5000
    )
    assert response.status == 413
