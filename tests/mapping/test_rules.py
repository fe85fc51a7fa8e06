"""Rule parameters: defaults from the data file, tenant overrides validated by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from preuve.config.settings import TenantConfig
from preuve.mapping.evaluate import evaluate_facts
from preuve.mapping.facts import TenantFacts
from preuve.mapping.referential import shipped_referentials
from preuve.mapping.rules import (
    RULES_FILE,
    RulesError,
    SatisfactionParams,
    build_rules,
    load_rule_specs,
    rules_for_version,
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


def _referentials() -> dict[str, frozenset[int]]:
    return {v: frozenset(r.numbers) for v, r in shipped_referentials().items()}


def test_rules_are_scoped_by_referential_version() -> None:
    rules = build_rules()
    by_version = {v: {r.id for r in rules_for_version(rules, v)} for v in _referentials()}
    # 2026-only: the distance modules actually followed and the new manual parts
    for rule_id in ("distance_followed", "violence_prevention", "quality_risk_analysis"):
        assert rule_id in by_version["rnq-2026"]
        assert rule_id not in by_version["rnq-2019-v9"]
    # V9-only: funders' views without "le cas échéant"
    assert "funder_feedback" in by_version["rnq-2019-v9"]
    assert "funder_feedback" not in by_version["rnq-2026"]
    # unscoped rules apply to every version
    for ids in by_version.values():
        assert {"entry_positioning", "satisfaction", "resources"} <= ids
    # a rule without versions applies to a version no rule names either
    assert {r.id for r in rules_for_version(rules, "rnq-2099")} == {
        r.id for r in rules if r.versions is None
    }


def test_evaluation_uses_the_rules_of_its_version() -> None:
    facts = TenantFacts(actions={}, trainers={}, manual_proofs={})
    tenant = TenantConfig(id="x", name="X")
    day = date(2026, 11, 30)
    funders = {"rnq-2019-v9": "funder_feedback", "rnq-2026": "funder_feedback_if_any"}
    for version, referential in shipped_referentials().items():
        result = evaluate_facts(facts, tenant, referential, build_rules(), day, day)
        used = {f.rule for i in result.organisation for f in i.findings}
        allowed = {r.id for r in rules_for_version(build_rules(), version)}
        assert {u for u in used if not u.startswith("derived:")} <= allowed, version
        assert {f.rule for f in result.indicator(30).findings} == {"derived:30", funders[version]}


def test_unknown_version_is_refused_naming_the_rule(tmp_path: Path) -> None:
    def typo(rules: list[dict[str, Any]]) -> None:
        rules[9].pop("since", None)
        rules[9]["versions"] = ["rnq-2062"]

    path = _rules_file(tmp_path, typo)
    message = r"rule 'distance_followed' names unknown referential version 'rnq-2062'"
    with pytest.raises(RulesError, match=message):
        load_rule_specs(path, referentials=_referentials())
    with pytest.raises(RulesError, match=r"known: rnq-2019-v9, rnq-2026"):
        load_rule_specs(path, referentials=_referentials())


def test_a_version_without_the_indicator_is_refused(tmp_path: Path) -> None:
    def v9_33(rules: list[dict[str, Any]]) -> None:
        rule = next(r for r in rules if r["id"] == "content_evaluation")
        rule.pop("since", None)
        rule["versions"] = ["rnq-2019-v9", "rnq-2026"]

    path = _rules_file(tmp_path, v9_33)
    with pytest.raises(
        RulesError, match=r"'content_evaluation' names indicators \[33\], which rnq-2019-v9"
    ):
        load_rule_specs(path, referentials=_referentials())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"versions": []}, r"rule distance_followed\) field versions"),
        ({"versions": ["rnq-2026", "rnq-2026"]}, r"listed twice"),
        ({"versions": "rnq-2026"}, r"rule distance_followed\) field versions"),
    ],
)
def test_malformed_versions_are_refused(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    def malformed(rules: list[dict[str, Any]]) -> None:
        rules[9].pop("since", None)
        rules[9].update(change)

    path = _rules_file(tmp_path, malformed)
    with pytest.raises(RulesError, match=message):
        load_rule_specs(path, referentials=_referentials())


def test_a_manual_component_belongs_to_one_indicator(tmp_path: Path) -> None:
    def two(rules: list[dict[str, Any]]) -> None:
        next(r for r in rules if r["id"] == "violence_prevention")["indicators"] = [12, 14]

    with pytest.raises(RulesError, match=r"rule violence_prevention.*one indicator"):
        load_rule_specs(_rules_file(tmp_path, two))


def test_shipped_rules_load_with_their_versions() -> None:
    specs = load_rule_specs(RULES_FILE, referentials=_referentials())
    scoped = {s.id: (s.since, s.until) for s in specs if s.since or s.until}
    assert scoped["distance_followed"] == ("rnq-2026", None)
    assert scoped["funder_feedback"] == (None, "rnq-2019-v9")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"since": "rnq-2062"},
            r"'distance_followed' names unknown referential version 'rnq-2062'",
        ),
        (
            {"until": "rnq-2062"},
            r"'distance_followed' names unknown referential version 'rnq-2062'",
        ),
        (
            {"since": "rnq-2026", "versions": ["rnq-2026"]},
            r"give either a list of versions or since/until",
        ),
    ],
)
def test_bad_version_ranges_are_refused(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    def ranged(rules: list[dict[str, Any]]) -> None:
        rules[9].pop("since", None)
        rules[9].update(change)

    with pytest.raises(RulesError, match=message):
        load_rule_specs(_rules_file(tmp_path, ranged), referentials=_referentials())


def test_a_range_covers_the_versions_in_force_within_it() -> None:
    order = {"rnq-2019-v9": date(2022, 1, 1), "rnq-2026": date(2026, 11, 1)}
    later = {**order, "rnq-2028": date(2028, 1, 1)}
    spec = next(s for s in load_rule_specs(RULES_FILE) if s.id == "distance_followed")
    assert spec.scoped_versions(order) == ("rnq-2026",)
    assert spec.scoped_versions(later) == ("rnq-2026", "rnq-2028")
    v9 = next(s for s in load_rule_specs(RULES_FILE) if s.id == "funder_feedback")
    assert v9.scoped_versions(later) == ("rnq-2019-v9",)


def test_satisfaction_defaults_and_overrides() -> None:
    params = next(r for r in build_rules() if r.id == "satisfaction").params
    assert isinstance(params, SatisfactionParams)
    assert params.stakeholders == ("learner", "trainer", "employer", "client")
    assert params.cold_stakeholders == ("learner",)
    assert params.min_responses_without_invited is None
    problems = validate_overrides(
        {"satisfaction": {"stakeholders": ["learner", "learner"], "cold_stakeholders": ["clients"]}}
    )
    text = "\n".join(problems)
    assert "rules.satisfaction.cold_stakeholders" in text
    assert validate_overrides({"satisfaction": {"min_responses_without_invited": 5}}) == []
    assert validate_overrides({"satisfaction": {"cold_stakeholders": ["learner", "client"]}}) == []
    assert validate_overrides({"satisfaction": {"stakeholders": ["learner", "learner"]}})


def test_component_parameters_are_checked_per_component() -> None:
    assert validate_overrides({"funder_feedback_if_any": {"required": False}}) == []
    assert validate_overrides({"pedagogical_referent": {"min_trainers": 3}}) == []
    refused: list[tuple[str, dict[str, Any]]] = [
        ("funder_feedback", {"required": False}),  # V9: funders without condition
        ("violence_prevention", {"required": False}),
        ("result_calculation_method", {"min_trainers": 2}),
        ("content_evaluation", {"component": "nope"}),
        # what a rule is belongs to rules.json: the key proofs carry, "le cas échéant"
        ("quality_risk_analysis", {"component": "content_evaluation"}),
        ("funder_feedback", {"if_any": True, "required": False}),
        # no title words any more: a proof names its component
        ("quality_risk_analysis", {"title_keywords": ["risques"]}),
    ]
    for rule_id, override in refused:
        problems = validate_overrides({rule_id: override})
        assert problems, rule_id
        assert all(p.startswith(f"rules.{rule_id}") for p in problems), problems
    fixed = validate_overrides({"funder_feedback_if_any": {"if_any": False}})
    assert fixed == ["rules.funder_feedback_if_any.if_any: set by rules.json, not by a tenant"]
    with pytest.raises(ValidationError, match=r"rules\.distance_followed\.min_module_share"):
        TenantConfig(id="x", name="X", rules={"distance_followed": {"min_module_share": 0}})


def test_every_rule_with_a_deadline_declares_its_warning_window() -> None:
    """``due_soon_days`` (the window of ``indicator.due_soon``) on every rule whose
    findings carry a deadline, overridable per tenant."""
    without_deadline = {"course_fields", "resources", "trainer_competence", "trainer_cpd"}
    raw = json.loads(RULES_FILE.read_text(encoding="utf-8"))["rules"]
    for spec in raw:
        declared = "due_soon_days" in spec["params"]
        assert declared is (spec["check"] not in without_deadline), spec["id"]
    rules = {r.id: r for r in build_rules()}
    assert rules["entry_positioning"].params.due_soon_days == 14
    assert rules["manual_organisation"].params.due_soon_days == 30
    for rule_id in ("attendance", "result_indicators", "distance_followed", "dropout_followup"):
        assert validate_overrides({rule_id: {"due_soon_days": 3}}) == [], rule_id
        (problem,) = validate_overrides({rule_id: {"due_soon_days": 400}})
        assert problem.startswith(f"rules.{rule_id}.due_soon_days"), problem
    assert validate_overrides({"resources": {"due_soon_days": 3}}) == [
        "rules.resources.due_soon_days: unknown key"
    ]
