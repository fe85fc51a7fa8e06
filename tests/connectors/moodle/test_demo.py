"""The demo can pull from the Moodle stand-in next to its JSON Lines files."""

from __future__ import annotations

from pathlib import Path

from preuve.demo.runner import run_demo
from preuve.store import RunStatus


async def test_demo_pulls_from_the_moodle_stand_in(tmp_path: Path) -> None:
    result = await run_demo(tmp_path / "demo.db", with_moodle=True)
    by_source = {o.source: o for o in result.outcomes}
    assert set(by_source) == {"fichiers", "moodle"}
    moodle = by_source["moodle"]
    assert moodle.status is RunStatus.SUCCEEDED, moodle.errors
    assert moodle.totals.inserted > 0
    assert moodle.streams["attendance"].result.inserted > 0
    assert result.evidence_counts["training_action"] > 3  # the files' 3 plus Moodle's
