"""Loading referential files: validation, version choice by audit date, pinning."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from preuve.mapping.referential import (
    REFERENTIALS_DIR,
    ReferentialError,
    load_referentials,
    select_referential,
)


def test_version_follows_the_audit_date() -> None:
    assert select_referential(date(2026, 10, 31)).version == "rnq-2019-v9"
    assert select_referential(date(2026, 11, 1)).version == "rnq-2026"
    assert select_referential(date(2027, 3, 1)).version == "rnq-2026"


def test_configuration_pins_a_version() -> None:
    assert select_referential(date(2027, 1, 1), "rnq-2019-v9").version == "rnq-2019-v9"
    with pytest.raises(ReferentialError, match="'rnq-1999' is unknown"):
        select_referential(date(2027, 1, 1), "rnq-1999")


def _copy(tmp_path: Path, name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((REFERENTIALS_DIR / name).read_text(encoding="utf-8"))
    return data


def test_a_new_version_is_a_dropped_in_file(tmp_path: Path) -> None:
    data = _copy(tmp_path, "rnq-2026.json")
    data["version"] = "rnq-2028"
    data["in_force_from"] = "2028-01-01"
    (tmp_path / "rnq-2026.json").write_text(
        (REFERENTIALS_DIR / "rnq-2026.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "rnq-2028.json").write_text(json.dumps(data), encoding="utf-8")
    found = load_referentials(tmp_path)
    assert set(found) == {"rnq-2026", "rnq-2028"}
    assert select_referential(date(2028, 6, 1), referentials=found).version == "rnq-2028"
    assert select_referential(date(2027, 6, 1), referentials=found).version == "rnq-2026"


def test_malformed_entry_is_refused_naming_it(tmp_path: Path) -> None:
    data = _copy(tmp_path, "rnq-2019-v9.json")
    indicators = data["indicators"]
    assert isinstance(indicators, list)
    indicators[7]["applies_to"]["vae"] = "perhaps"
    (tmp_path / "broken.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReferentialError) as caught:
        load_referentials(tmp_path)
    message = str(caught.value)
    assert message.startswith("broken.json: ")
    assert "indicators[7] (indicateur 8) field applies_to.vae" in message


def test_duplicate_number_and_unknown_criterion_are_refused(tmp_path: Path) -> None:
    data = _copy(tmp_path, "rnq-2019-v9.json")
    indicators = data["indicators"]
    assert isinstance(indicators, list)
    indicators[3]["number"] = 3
    (tmp_path / "dup.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReferentialError, match=r"indicateur 3\): number 3 is used twice"):
        load_referentials(tmp_path)
    data = _copy(tmp_path, "rnq-2019-v9.json")
    indicators = data["indicators"]
    assert isinstance(indicators, list)
    indicators[0]["criterion"] = 9
    (tmp_path / "dup.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReferentialError, match="criterion 9 is not declared"):
        load_referentials(tmp_path)


def test_ambiguous_files_are_refused(tmp_path: Path) -> None:
    data = _copy(tmp_path, "rnq-2026.json")
    criteria = data["criteria"]
    assert isinstance(criteria, list)
    criteria[1]["number"] = 1
    (tmp_path / "crit.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(
        ReferentialError, match=r"crit\.json: criteria: number\(s\) \[1\] used twice"
    ):
        load_referentials(tmp_path)
    data = _copy(tmp_path, "rnq-2026.json")
    data["version"] = "rnq-2026-bis"
    (tmp_path / "crit.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "rnq-2026.json").write_text(
        (REFERENTIALS_DIR / "rnq-2026.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(ReferentialError, match="in_force_from 2026-11-01 is also that of"):
        load_referentials(tmp_path)


def test_invalid_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(ReferentialError, match=r"bad\.json: invalid JSON"):
        load_referentials(tmp_path)
