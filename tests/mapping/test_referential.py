"""Loading referential files: validation, version choice by audit date, pinning."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from preuve.config.settings import ConfigError, load_settings
from preuve.mapping import Status, evaluate
from preuve.mapping import rules as rules_module
from preuve.mapping.referential import (
    REFERENTIALS_DIR,
    ReferentialError,
    available_referentials,
    load_referentials,
    select_referential,
    shipped_referentials,
    use_referential_dir,
)
from preuve.mapping.rules import RULES_FILE, RulesError, build_rules
from preuve.store import Store


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


def test_condition_lists_must_match_the_cells(tmp_path: Path) -> None:
    data = _copy(tmp_path, "rnq-2019-v9.json")
    indicators = data["indicators"]
    assert isinstance(indicators, list)
    indicators[0]["conditions"] = ["certifying"]  # indicator 1 applies everywhere
    (tmp_path / "cond.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReferentialError, match=r"indicateur 1\) field \(entry\): conditions"):
        load_referentials(tmp_path)
    data = _copy(tmp_path, "rnq-2019-v9.json")
    indicators = data["indicators"]
    assert isinstance(indicators, list)
    indicators[27]["conditions"] = ["work_study", "work_study"]
    (tmp_path / "cond.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReferentialError, match=r"indicateur 28\).*listed twice"):
        load_referentials(tmp_path)
    data = _copy(tmp_path, "rnq-2019-v9.json")
    indicators = data["indicators"]
    assert isinstance(indicators, list)
    indicators[27]["conditions"] = ["internship"]
    (tmp_path / "cond.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReferentialError, match=r"indicateur 28\) field conditions\.0"):
        load_referentials(tmp_path)


def test_an_inferred_weighting_must_be_provisional(tmp_path: Path) -> None:
    data = _copy(tmp_path, "rnq-2019-v9.json")
    indicators = data["indicators"]
    assert isinstance(indicators, list)
    indicators[12]["minor_nc_inferred"] = True  # 13: its weighting is in the arrêté
    (tmp_path / "inferred.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReferentialError, match=r"indicateur 13\).*only allowed on a provisional"):
        load_referentials(tmp_path)


@pytest.mark.parametrize("version", ["rnq-2019-v9", "rnq-2026"])
def test_shipped_conditions_of_13_and_28(version: str) -> None:
    referential = shipped_referentials()[version]
    thirteen, twenty_eight = referential.indicator(13), referential.indicator(28)
    assert thirteen.applies_to.training == "disputed"
    assert thirteen.conditions == ("work_study",)
    assert twenty_eight.applies_to.training == "if_conditions"
    assert twenty_eight.conditions == ("work_based_periods",)
    assert "internships, AFEST" in (twenty_eight.applicability_note_en or "")


# -- a configured folder of extra versions ---------------------------------------


@pytest.fixture
def shipped_only() -> Iterator[None]:
    """Each test starts and ends with the shipped versions only (process-wide state)."""
    use_referential_dir(None)
    yield
    use_referential_dir(None)


def _version_2028(folder: Path) -> Path:
    """A new version with a new indicator 34, dropped in ``folder``."""
    data = _copy(folder, "rnq-2026.json")
    data["version"] = "rnq-2028"
    data["in_force_from"] = "2028-01-01"
    indicators = data["indicators"]
    assert isinstance(indicators, list)
    every = {"training": "yes", "skills_assessment": "yes", "vae": "yes", "apprenticeship": "yes"}
    indicators.append(
        {**indicators[-1], "number": 34, "title_fr": "Nouvel indicateur 34", "applies_to": every}
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rnq-2028.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _config(tmp_path: Path, folder: Path, pinned: str = "rnq-2028") -> Path:
    path = tmp_path / "preuve.toml"
    path.write_text(
        f"""
[mapping]
referential_dir = "{folder.as_posix()}"

[[tenants]]
id = "of-1"
name = "OF un"
referential_version = "{pinned}"
""",
        encoding="utf-8",
    )
    return path


def test_configured_folder_adds_a_version_selected_by_pin(
    tmp_path: Path, shipped_only: None
) -> None:
    folder = tmp_path / "referentials"
    _version_2028(folder)
    assert "rnq-2028" not in available_referentials()
    settings = load_settings(_config(tmp_path, folder))
    assert settings.mapping.referential_dir == folder
    assert set(available_referentials()) == {"rnq-2019-v9", "rnq-2026", "rnq-2028"}
    assert set(shipped_referentials()) == {"rnq-2019-v9", "rnq-2026"}
    tenant = settings.tenant("of-1")
    pinned = select_referential(date(2026, 12, 1), tenant.referential_version)
    assert pinned.version == "rnq-2028"
    assert pinned.numbers == tuple(range(1, 35))
    # unpinned, the audit date picks it too
    assert select_referential(date(2028, 3, 1)).version == "rnq-2028"
    assert select_referential(date(2027, 3, 1)).version == "rnq-2026"
    # a configuration without the key goes back to the shipped versions
    (tmp_path / "plain.toml").write_text('[[tenants]]\nid = "x"\nname = "X"\n', encoding="utf-8")
    load_settings(tmp_path / "plain.toml")
    with pytest.raises(ReferentialError, match="'rnq-2028' is unknown"):
        select_referential(date(2026, 12, 1), "rnq-2028")


async def test_evaluation_uses_the_pinned_extra_version(
    tmp_path: Path, store: Store, shipped_only: None
) -> None:
    folder = tmp_path / "referentials"
    _version_2028(folder)
    tenant = load_settings(_config(tmp_path, folder)).tenant("of-1")
    result = await evaluate(store, tenant, as_of=date(2026, 12, 1))
    assert result.referential_version == "rnq-2028"
    # no rule names 34: a manual proof is asked, the indicator is not ignored
    assert result.indicator(34).status is Status.MANUAL
    # the rules in force since 2026 apply to the later version without naming it
    rules = {f.rule for i in result.organisation for f in i.findings}
    assert {"quality_risk_analysis", "funder_feedback_if_any"} <= rules
    assert "funder_feedback" not in rules  # V9 only


def _rules_naming_2028(tmp_path: Path) -> Path:
    """The shipped rules plus one for the new indicator 34 of rnq-2028."""
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    data["rules"].append(
        {
            "id": "new_indicator_34",
            "indicators": [34],
            "scope": "organisation",
            "check": "manual_proof",
            "versions": ["rnq-2028"],
            "params": {"due_soon_days": 10},
        }
    )
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


async def test_rules_may_name_a_version_of_the_configured_folder(
    tmp_path: Path, store: Store, shipped_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rules_module, "RULES_FILE", _rules_naming_2028(tmp_path))
    with pytest.raises(RulesError, match=r"'new_indicator_34' names unknown indicators \[34\]"):
        build_rules()
    folder = tmp_path / "referentials"
    _version_2028(folder)
    tenant = load_settings(_config(tmp_path, folder)).tenant("of-1")
    assert "new_indicator_34" in {r.id for r in build_rules()}
    result = await evaluate(store, tenant, as_of=date(2026, 12, 1))
    assert result.referential_version == "rnq-2028"
    assert [f.rule for f in result.indicator(34).findings] == ["new_indicator_34"]
    use_referential_dir(None)  # back to the shipped versions: refused again
    with pytest.raises(RulesError, match="new_indicator_34"):
        build_rules()


def test_malformed_file_in_the_configured_folder_is_refused(
    tmp_path: Path, shipped_only: None
) -> None:
    folder = tmp_path / "referentials"
    path = _version_2028(folder)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["indicators"][7]["applies_to"]["vae"] = "perhaps"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(_config(tmp_path, folder))
    (problem,) = caught.value.problems
    assert problem.startswith("mapping.referential_dir: ")
    assert "rnq-2028.json: indicators[7] (indicateur 8) field applies_to.vae" in problem
    assert available_referentials() == shipped_referentials()
    with pytest.raises(ReferentialError, match=r"rnq-2028\.json: indicators\[7\]"):
        use_referential_dir(folder)


def test_configured_folder_cannot_redeclare_a_shipped_version(
    tmp_path: Path, shipped_only: None
) -> None:
    folder = tmp_path / "referentials"
    folder.mkdir()
    (folder / "copy.json").write_text(
        (REFERENTIALS_DIR / "rnq-2026.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(ReferentialError, match=r"copy\.json: version 'rnq-2026' is declared twice"):
        load_referentials(extra=folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ReferentialError, match="no referential file in"):
        load_referentials(extra=empty)
