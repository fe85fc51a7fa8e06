"""The demo organisation shows the same picture whatever day it runs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from preuve.demo.dataset import DATASET_DAY, demo_lines
from preuve.demo.runner import DemoResult, run_demo


def _statuses(result: DemoResult) -> dict[tuple[str, int], str]:
    coverage = result.coverage
    assert coverage is not None
    found = {("", i.indicator): i.status.value for i in coverage.organisation}
    for action in coverage.actions:
        found.update({(action.action_ref, i.indicator): i.status.value for i in action.indicators})
    return found


async def test_the_demo_files_keep_their_distance_to_today(tmp_path: Path) -> None:
    written = list(demo_lines(DATASET_DAY))
    later = list(demo_lines(DATASET_DAY + timedelta(days=900)))
    assert len(written) == len(later)
    first = next(line for line in written if line["data"]["kind"] == "training_action")
    moved = next(line for line in later if line["data"]["kind"] == "training_action")
    assert first["data"]["start_date"] == "2026-09-14"
    assert moved["data"]["start_date"] == "2029-03-02"  # 900 days later

    on_the_day = await run_demo(tmp_path / "a.db", with_moodle=False, today=DATASET_DAY)
    years_later = await run_demo(
        tmp_path / "b.db", with_moodle=False, today=DATASET_DAY + timedelta(days=900)
    )
    assert on_the_day.coverage is not None
    assert years_later.coverage is not None
    # the 2026 referential applies to both days: same indicators, same statuses
    assert _statuses(years_later) == _statuses(on_the_day)
    assert "missing" in set(_statuses(on_the_day).values())  # the planted gaps are there
