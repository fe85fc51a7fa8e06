"""`preuve coverage` and `preuve proof`, run for real on a SQLite file."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from preuve.cli.main import cli
from preuve.constants import EXIT_CONFIG, EXIT_GAPS, EXIT_USAGE
from preuve.store import open_store
from tests.mapping.scenario import TENANT, load_scenario

CONFIG = """
[store]
url = "sqlite+aiosqlite:///{db}"

[[tenants]]
id = "{tenant}"
name = "Atelier Test"
{extra}
"""


def _config(tmp_path: Path, extra: str = "") -> Path:
    db = tmp_path / "p.db"
    path = tmp_path / "preuve.toml"
    path.write_text(CONFIG.format(db=db, tenant=TENANT, extra=extra), encoding="utf-8")

    async def _load() -> None:
        store = await open_store(f"sqlite+aiosqlite:///{db}")
        try:
            await load_scenario(store)
        finally:
            await store.close()

    if not db.exists():
        asyncio.run(_load())
    return path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_coverage_json_has_the_documented_shape(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, out, _ = _run("-c", str(config), "--json", "coverage", "--as-of", "2026-11-30")
    assert code == 0
    data = orjson.loads(out)
    assert set(data) == {
        "tenant",
        "referential",
        "audit_date",
        "as_of",
        "new_entrant",
        "snapshot_id",
        "summary",
        "criteria",
        "organisation",
        "actions",
        "problems",
    }
    assert data["problems"] == []
    assert data["referential"] == {"version": "rnq-2026", "provisional": True}
    eight = next(i for i in data["organisation"] if i["indicator"] == 8)
    assert eight["status"] == "partial"
    assert eight["nonconformity"] == "minor"
    a1 = next(a for a in data["actions"] if a["action_ref"] == "A1")
    a1_eight = next(i for i in a1["indicators"] if i["indicator"] == 8)
    assert a1_eight["at_fault"] == ["p_a1_1", "p_a1_2"]
    assert a1_eight["reason_en"].startswith("2 learners out of 6")
    assert data["criteria"]["2"]["counts"]["partial"] == 1
    assert data["criteria"]["3"]["counts"]["due"] == 1


def test_coverage_table_and_gap_exit_code(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, out, _ = _run(
        "-c", str(config), "coverage", "--as-of", "2026-11-30", "--audit-date", "2026-10-01"
    )
    assert code == 0
    assert "référentiel rnq-2019-v9" in out
    assert "Critère 7" in out
    assert "A2" in out
    code, _, _ = _run("-c", str(config), "coverage", "--as-of", "2026-11-30", "--fail-on-gaps")
    assert code == EXIT_GAPS


def test_bad_rule_override_is_a_config_error(tmp_path: Path) -> None:
    config = _config(tmp_path, "  [tenants.rules.satisfaction]\n  min_rate = 0.2\n")
    code, out, _ = _run("-c", str(config), "--json", "coverage")
    assert code == EXIT_CONFIG
    assert "rules.satisfaction.min_rate: unknown key" in orjson.loads(out)["error"]


def test_proof_add_list_remove(tmp_path: Path) -> None:
    config = _config(tmp_path)
    document = tmp_path / "veille.pdf"
    document.write_bytes(b"%PDF-1.4 veille reglementaire")
    code, out, _ = _run(
        "-c",
        str(config),
        "--json",
        "proof",
        "add",
        "--indicator",
        "23",
        "--title",
        "Veille réglementaire 2026",
        "--file",
        str(document),
        "--dated",
        "2026-11-02",
        "--valid-until",
        "2027-11-02",
    )
    assert code == 0
    added = orjson.loads(out)
    assert added["proof"]["document"]["sha256"]
    assert added["proof"]["document"]["media_type"] == "application/pdf"

    code, out, _ = _run("-c", str(config), "--json", "coverage", "--as-of", "2026-11-30")
    twenty_three = next(i for i in orjson.loads(out)["organisation"] if i["indicator"] == 23)
    assert twenty_three["status"] == "proven"
    assert "Veille réglementaire 2026" in twenty_three["reason"]

    code, out, _ = _run("-c", str(config), "--json", "proof", "list")
    assert added["source_id"] in {p["source_id"] for p in orjson.loads(out)}

    code, _, _ = _run("-c", str(config), "proof", "remove", added["source_id"])
    assert code == 0
    code, out, _ = _run("-c", str(config), "--json", "coverage", "--as-of", "2026-11-30")
    twenty_three = next(i for i in orjson.loads(out)["organisation"] if i["indicator"] == 23)
    assert twenty_three["status"] == "manual"


def test_proof_add_with_a_component(tmp_path: Path) -> None:
    config = _config(tmp_path)
    common = ("--url", "https://intranet.example.org/qualite/32", "--dated", "2026-10-01")
    code, out, _ = _run(
        "-c",
        str(config),
        "--json",
        "proof",
        "add",
        "--indicator",
        "32",
        "--title",
        "Cartographie qualité",
        "--component",
        "risk_analysis",
        *common,
    )
    assert code == 0, out
    tagged = orjson.loads(out)
    assert tagged["proof"]["component"] == "risk_analysis"
    # The same document without a component is another proof (the main part's).
    code, out, _ = _run(
        "-c", str(config), "--json", "proof", "add", "--indicator", "32", "--title", "x", *common
    )
    plain = orjson.loads(out)
    assert plain["proof"]["component"] is None
    assert plain["source_id"] != tagged["source_id"]

    code, out, _ = _run("-c", str(config), "--json", "proof", "list")
    listed = {p["source_id"]: p for p in orjson.loads(out)}
    assert listed[tagged["source_id"]]["component"] == "risk_analysis"
    assert listed[plain["source_id"]]["component"] is None
    assert all("component" in p for p in listed.values())
    wide = CliRunner(env={"COLUMNS": "200"}).invoke(
        cli, ["-c", str(config), "--lang", "en", "proof", "list"], catch_exceptions=False
    )
    assert wide.exit_code == 0
    row = next(line for line in wide.stdout.splitlines() if tagged["source_id"] in line)
    assert re.search(r"│ 32 │ risk_analysis +│", row), row

    # Unknown key for the indicator: refused, naming the keys the rules declare.
    code, out, _ = _run(
        "-c",
        str(config),
        "--json",
        "proof",
        "add",
        "--indicator",
        "30",
        "--title",
        "x",
        "--component",
        "risk_analysis",
        *common,
    )
    assert code == EXIT_USAGE
    assert orjson.loads(out)["error"] == (
        "composante « risk_analysis » inconnue pour l'indicateur 30 ; "
        "composantes possibles : funder_feedback"
    )
    code, out, _ = _run(
        "-c",
        str(config),
        "--json",
        "proof",
        "add",
        "--indicator",
        "23",
        "--title",
        "x",
        "--component",
        "risk_analysis",
        *common,
    )
    assert code == EXIT_USAGE
    error = orjson.loads(out)["error"]
    assert error.startswith("l'indicateur 23 n'a pas de composante : retirez --component")
    assert "1, 2, 12, 19, 30, 32, 33" in error


@pytest.mark.parametrize(
    "args",
    [
        ("--indicator", "23", "--title", "x", "--dated", "2026-01-01"),
        ("--indicator", "77", "--title", "x", "--url", "https://e.org", "--dated", "2026-01-01"),
        (
            "--indicator",
            "23",
            "--title",
            "x",
            "--url",
            "https://e.org",
            "--dated",
            "2026-01-01",
            "--valid-until",
            "2025-01-01",
        ),
    ],
)
def test_proof_add_refuses_bad_input(tmp_path: Path, args: tuple[str, ...]) -> None:
    config = _config(tmp_path)
    code, _, _ = _run("-c", str(config), "proof", "add", *args)
    assert code == EXIT_USAGE


def test_demo_prints_coverage_after_the_counts(tmp_path: Path) -> None:
    # Files only: the planted gaps below are those of the demo's JSON Lines data.
    code, out, _ = _run("--json", "demo", "--no-moodle", "--db", str(tmp_path / "demo.db"))
    assert code == 0
    data = orjson.loads(out)
    assert data["evidence_counts"]["attendance"] > 0
    coverage = data["coverage"]
    by_number = {i["indicator"]: i for i in coverage["organisation"]}
    # The demo's planted gaps (see preuve/demo/dataset.py).
    assert by_number[8]["status"] == "partial"  # one learner per action without positioning
    assert by_number[1]["at_fault"] == ["secourisme-2026"]  # accessibility statement missing
    assert by_number[22]["status"] == "partial"  # one trainer without CPD
    management = next(a for a in coverage["actions"] if a["action_ref"] == "management-2026")
    survey = next(i for i in management["indicators"] if i["indicator"] == 30)
    assert "4 réponses sur 12 (33\u202f%)" in survey["reason"]
