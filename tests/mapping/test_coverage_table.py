"""The coverage table of `preuve coverage`: user text is data, never markup; French
and English labels and numbers; what `--fail-on-gaps` fails on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from preuve import i18n
from preuve.cli.coverage_commands import format_percent, has_gaps
from preuve.cli.main import cli
from preuve.mapping.result import CoverageResult, IndicatorCoverage, Reason, Status
from tests.mapping.test_cli import _config

TITLE = "Veille [/] réglementaire [bold]2026[/bold] [lien]"


@pytest.fixture(autouse=True)
def _language(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI sets the process-wide language: put it back for the tests that follow.
    monkeypatch.setattr(i18n, "_language", None)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": "400"}, catch_exceptions=False)
    return result.exit_code, result.stdout


def test_user_text_with_brackets_is_printed_as_is(tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    code, _ = _run(
        "-c",
        config,
        "proof",
        "add",
        "--indicator",
        "23",
        "--title",
        TITLE,
        "--url",
        "https://intranet.example.org/veille",
        "--dated",
        "2026-11-02",
    )
    assert code == 0
    code, out = _run("-c", config, "coverage", "--as-of", "2026-11-30", "--no-snapshot")
    assert code == 0
    assert f"« {TITLE} » du 2026-11-02, sans date de fin de validité" in out
    assert "majeure" in out
    assert "mineure" in out
    assert " minor " not in out
    assert " major " not in out
    assert "\u202f%) ;" in out  # "(12,1 %)": decimal comma, narrow no-break space
    code, out = _run("-c", config, "proof", "list")
    assert code == 0
    assert TITLE in out

    code, out = _run(
        "-c", config, "--lang", "en", "coverage", "--as-of", "2026-11-30", "--no-snapshot"
    )
    assert code == 0
    assert f"'{TITLE}' of 2026-11-02, with no end of validity" in out
    assert "│ major " in out
    assert "│ minor " in out
    assert "%); " in out
    assert "\u202f%" not in out


def test_percentages_follow_the_language() -> None:
    assert format_percent(8.0, "fr") == "8,0\u202f%"
    assert format_percent(8.0, "en") == "8.0%"
    assert format_percent(None, "fr") == "-"


def _result(*statuses: Status) -> CoverageResult:
    items = [
        IndicatorCoverage(
            indicator=n, criterion=1, status=s, reason=Reason("", ""), minor_nc_possible=True
        )
        for n, s in enumerate(statuses, start=1)
    ]
    day = date(2026, 11, 30)
    return CoverageResult(
        tenant="t",
        referential_version="rnq-2026",
        referential_provisional=True,
        audit_date=day,
        as_of=day,
        new_entrant=False,
        organisation=items,
        actions=[],
    )


@pytest.mark.parametrize(
    ("statuses", "gaps"),
    [
        ((Status.PROVEN, Status.DUE, Status.NOT_APPLICABLE), False),
        ((Status.PROVEN, Status.MANUAL), True),  # a major non-conformity at stake
        ((Status.PARTIAL,), True),
        ((Status.MISSING,), True),
    ],
)
def test_fail_on_gaps_counts_what_the_summary_counts(
    statuses: tuple[Status, ...], gaps: bool
) -> None:
    assert has_gaps(_result(*statuses)) is gaps
