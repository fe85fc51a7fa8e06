"""The command line, run for real (click's runner, real SQLite files)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from preuve.cli.main import cli
from preuve.constants import EXIT_CHECK_FAILED, EXIT_CONFIG, EXIT_PARTIAL, EXIT_USAGE
from preuve.store import open_store

CONFIG = """
[store]
url = "sqlite+aiosqlite:///{db}"

[[tenants]]
id = "of-cli"
name = "OF CLI"

  [[tenants.sources]]
  id = "fichiers"
  kind = "jsonl"
  path = "{data}"
"""

LINE = (
    '{{"source_id": "e{n}", "data": {{"kind": "enrolment", "action_ref": "A", '
    '"person_ref": "p_{n}"}}}}'
)


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


def test_demo_prints_the_evidence_it_collected(tmp_path: Path) -> None:
    code, out, _ = _run("demo", "--db", str(tmp_path / "demo.db"))
    assert code == 0
    assert "Atelier Horizon Formation" in out
    assert "attendance" in out
    code, out, _ = _run("--json", "demo", "--db", str(tmp_path / "demo.db"))
    result = orjson.loads(out)
    # 3 actions from the files, 4 courses from the Moodle stand-in.
    assert result["evidence_counts"]["training_action"] == 7
    assert [(r["source"], r["status"]) for r in result["runs"]] == [
        ("fichiers", "succeeded"),
        ("moodle", "succeeded"),
    ]
    # Run again: the same data, nothing stored twice.
    code, out, _ = _run("--json", "demo", "--db", str(tmp_path / "demo.db"))
    again = orjson.loads(out)
    assert again["evidence_counts"] == result["evidence_counts"]
    assert all(r["totals"]["inserted"] == 0 for r in again["runs"])


def test_importing_twice_stores_nothing_twice(config: Path, tmp_path: Path) -> None:
    file = tmp_path / "in.jsonl"
    file.write_text("\n".join(LINE.format(n=n) for n in range(7)) + "\n", encoding="utf-8")
    code, out, _ = _run("--config", str(config), "--json", "import", str(file))
    assert code == 0
    assert orjson.loads(out)[0]["totals"]["inserted"] == 7
    code, out, _ = _run("--config", str(config), "--json", "import", str(file))
    assert code == 0
    assert orjson.loads(out)[0]["totals"] == {
        "inserted": 0,
        "updated": 0,
        "unchanged": 7,
        "withdrawn": 0,
    }
    assert asyncio.run(_counts(tmp_path / "p.db")) == {"enrolment": 7}


async def _counts(database: Path) -> dict[str, int]:
    store = await open_store(f"sqlite+aiosqlite:///{database}")
    try:
        return await store.evidence.count_by_kind("of-cli")
    finally:
        await store.close()


def test_bad_lines_are_reported_and_the_rest_imported(config: Path, tmp_path: Path) -> None:
    file = tmp_path / "in.jsonl"
    file.write_text(LINE.format(n=1) + "\n{oops\n" + LINE.format(n=2) + "\n", encoding="utf-8")
    code, out, err = _run("--config", str(config), "import", str(file))
    assert code == EXIT_PARTIAL
    assert "2 ajoutées" in out
    assert "in.jsonl, ligne 2" in err


def test_check_names_what_is_missing(config: Path, tmp_path: Path) -> None:
    code, out, _ = _run("--config", str(config), "check")
    assert code == 0
    assert "0 fichier JSON Lines" in out
    broken = config.read_text(encoding="utf-8").replace(str(tmp_path / "data"), "/nowhere")
    config.write_text(broken, encoding="utf-8")
    code, out, _ = _run("--config", str(config), "--json", "check")
    assert code == EXIT_CHECK_FAILED
    report = orjson.loads(out)
    assert report["store"]["ok"] is True
    assert report["sources"][0]["items"][0]["code"] == "not_found"


def test_bad_configuration_exits_with_the_key_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[store]\nurl = 3\nfoo = "bar"\n', encoding="utf-8")
    code, _, err = _run("--config", str(path), "check")
    assert code == EXIT_CONFIG
    assert "store.foo" in err
    assert "store.url" in err


def test_unknown_tenant_is_a_usage_error(config: Path) -> None:
    code, _, err = _run("--config", str(config), "--lang", "en", "sync", "--tenant", "nope")
    assert code == EXIT_USAGE
    assert "no tenant 'nope'" in err


def test_init_writes_a_loadable_file_once(tmp_path: Path) -> None:
    target = tmp_path / "preuve.toml"
    assert _run("init", str(target))[0] == 0
    assert "[[tenants]]" in target.read_text(encoding="utf-8")
    assert _run("init", str(target))[0] != 0
    code, out, _ = _run("--config", str(target), "--json", "runs")
    assert code == 0
    assert orjson.loads(out) == []


def test_an_unreachable_database_gives_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "preuve.toml"
    config.write_text(
        '[store]\nurl = "postgresql+asyncpg://preuve:s3cret@127.0.0.1:1/preuve"\n\n'
        '[[tenants]]\nid = "of-cli"\nname = "OF CLI"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "coverage", "--no-snapshot"])
    assert result.exit_code == 1
    assert "la base de données a refusé l'opération" in result.output
    assert "Traceback" not in result.output
    assert "s3cret" not in result.output


def test_user_text_with_brackets_is_printed_not_read_as_markup(config: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config), "coverage", "--tenant", "x[/]y"])
    assert result.exit_code == EXIT_USAGE
    assert "x[/]y" in result.output  # shown as typed, no MarkupError
