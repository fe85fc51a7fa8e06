"""Rule parameters: defaults from the data file, tenant overrides validated by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from preuve.config.settings import TenantConfig
from preuve.mapping.rules import (
    RULES_FILE,
    RulesError,
    SatisfactionParams,
    build_rules,
    load_rule_specs,
    validate_overrides,
)


def test_defaults_come_from_the_rules_file() -> None:
    rules = {r.id: r for r in build_rules()}
    satisfaction = rules["satisfaction"].params
    assert isinstance(satisfaction, SatisfactionParams)
    assert satisfaction.min_response_rate == 0.5
    assert satisfaction.cold_due_days == 90
    assert rules["trainer_cpd"].params.window_months == 24
    assert rules["entry_positioning"].indicators == (8,)


def test_tenant_overrides_apply() -> None:
    rules = {
        r.id: r
        for r in build_rules({"satisfaction": {"min_response_rate": 0.2, "cold_required": False}})
    }
    assert rules["satisfaction"].params.min_response_rate == 0.2
    assert rules["satisfaction"].params.cold_required is False
    assert rules["satisfaction"].params.hot_due_days == 15  # untouched default


def test_bad_keys_are_named() -> None:
    problems = validate_overrides(
        {
            "satisfaction": {"min_rate": 0.2, "min_response_rate": 2},
            "trainer_cpd": {"window_months": "deux ans"},
        }
    )
    text = "\n".join(problems)
    assert "rules.satisfaction.min_rate: unknown key" in text
    assert "rules.satisfaction.min_response_rate" in text
    assert "rules.trainer_cpd.window_months" in text
    assert validate_overrides({}) == []


def test_unknown_rule_is_named() -> None:
    with pytest.raises(RulesError, match=r"tenants\[x\]\.rules\.satisfation: unknown rule"):
        build_rules({"satisfation": {}}, where="tenants[x].rules")


def test_configuration_refuses_bad_overrides_at_load() -> None:
    with pytest.raises(ValidationError, match=r"rules\.satisfaction\.min_rate: unknown key"):
        TenantConfig(id="x", name="X", rules={"satisfaction": {"min_rate": 0.2}})
    tenant = TenantConfig(id="x", name="X", rules={"satisfaction": {"min_response_rate": 0.2}})
    assert tenant.rules == {"satisfaction": {"min_response_rate": 0.2}}


def _rules_file(tmp_path: Path, change: Callable[[list[dict[str, Any]]], None]) -> Path:
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    change(data["rules"])
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_malformed_rules_file_names_the_rule(tmp_path: Path) -> None:
    def break_check(rules: list[dict[str, Any]]) -> None:
        rules[4]["check"] = "entry_positionning"

    path = _rules_file(tmp_path, break_check)
    with pytest.raises(RulesError, match=r"rules\[4\] \(rule entry_positioning\) field check"):
        load_rule_specs(path)


def test_rule_naming_an_unknown_indicator_is_refused(tmp_path: Path) -> None:
    def typo(rules: list[dict[str, Any]]) -> None:
        rules[0]["indicators"] = [1, 330]

    path = _rules_file(tmp_path, typo)
    with pytest.raises(RulesError, match=r"'public_information' names unknown indicators \[330\]"):
        load_rule_specs(path, frozenset(range(1, 34)))
    assert load_rule_specs(RULES_FILE, frozenset(range(1, 34)))  # the shipped file is fine
