"""Declarative rules: which check proves which indicator, at which scope, with which parameters.

The rules are data (``rules.json``); each names a check implemented in
``checks.py`` and gives its parameters' defaults. A tenant overrides parameters
in its configuration (``[tenants.rules.<rule id>]``); unknown rules, unknown
parameters and wrong types are refused with the key named.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from preuve.mapping.referential import shipped_referentials

RULES_FILE = Path(__file__).with_name("rules.json")

Scope = Literal["action", "organisation"]


class RulesError(Exception):
    """Rules data or a tenant override that cannot be used; names the key at fault."""


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CourseFieldsParams(_Params):
    fields: tuple[str, ...] = Field(min_length=1)


class NoParams(_Params):
    pass


class EntryPositioningParams(_Params):
    max_days_after_start: int = Field(default=7, ge=0, le=365)


class FinalAssessmentParams(_Params):
    grace_days: int = Field(default=15, ge=0, le=365)
    assessment_kinds: tuple[str, ...] = ("final", "certification")


class DropoutParams(_Params):
    followup_days: int = Field(default=15, ge=0, le=365)


class ResourcesParams(_Params):
    min_resources: int = Field(default=1, ge=1)


class DistanceParams(_Params):
    min_traces: int = Field(default=1, ge=1)
    grace_days: int = Field(default=7, ge=0, le=365)


class SatisfactionParams(_Params):
    min_response_rate: float = Field(default=0.5, ge=0, le=1)
    stakeholders: tuple[Literal["learner", "employer", "funder", "trainer"], ...] = ("learner",)
    hot_due_days: int = Field(default=15, ge=0, le=365)
    cold_required: bool = True
    cold_due_days: int = Field(default=90, ge=0, le=730)


class TrainerCompetenceParams(_Params):
    max_cv_age_months: int = Field(default=36, ge=1, le=240)
    active_window_days: int = Field(default=365, ge=0, le=3650)
    require_domain_match: bool = True
    # A matching qualification or experience must carry a date (obtained, or held)
    # on or before the evaluation day: the auditor checks it was there in time.
    require_dated_qualification: bool = True


class TrainerCpdParams(_Params):
    window_months: int = Field(default=24, ge=1, le=240)
    active_window_days: int = Field(default=365, ge=0, le=3650)


class ManualParams(_Params):
    due_soon_days: int = Field(default=30, ge=0, le=365)


PARAM_MODELS: dict[str, type[_Params]] = {
    "course_fields": CourseFieldsParams,
    "result_rates": NoParams,
    "entry_positioning": EntryPositioningParams,
    "attendance": NoParams,
    "final_assessment": FinalAssessmentParams,
    "dropout_followup": DropoutParams,
    "resources": ResourcesParams,
    "distance_followed": DistanceParams,
    "satisfaction": SatisfactionParams,
    "trainer_competence": TrainerCompetenceParams,
    "trainer_cpd": TrainerCpdParams,
    "manual_proof": ManualParams,
}

CheckName = Literal[
    "course_fields",
    "result_rates",
    "entry_positioning",
    "attendance",
    "final_assessment",
    "dropout_followup",
    "resources",
    "distance_followed",
    "satisfaction",
    "trainer_competence",
    "trainer_cpd",
    "manual_proof",
]


class RuleSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    indicators: tuple[int, ...] = Field(min_length=1)
    scope: Scope
    check: CheckName
    params: dict[str, Any] = Field(default_factory=dict)


class RulesFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[RuleSpec, ...]


class Rule(BaseModel):
    """A rule with its parameters validated (defaults, then tenant overrides)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str
    indicators: tuple[int, ...]
    scope: Scope
    check: CheckName
    params: Any


def _errors(exc: ValidationError, prefix: str) -> str:
    parts = []
    for item in exc.errors():
        loc = ".".join(str(p) for p in item["loc"])
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        parts.append(f"{prefix}.{loc}: {message}" if loc else f"{prefix}: {message}")
    return "; ".join(parts)


def _build(spec: RuleSpec, override: dict[str, Any] | None, where: str) -> Rule:
    model = PARAM_MODELS[spec.check]
    try:
        model.model_validate(spec.params)
    except ValidationError as exc:
        raise RulesError(_errors(exc, f"rules.json {spec.id}.params")) from exc
    values = {**spec.params, **(override or {})}
    try:
        params = model.model_validate(values)
    except ValidationError as exc:
        raise RulesError(_errors(exc, f"{where}.{spec.id}")) from exc
    return Rule(
        id=spec.id, indicators=spec.indicators, scope=spec.scope, check=spec.check, params=params
    )


def _spec_errors(exc: ValidationError, raw: object, name: str) -> str:
    """Name the rule at fault by its id, not only its position in the list."""
    entries = raw.get("rules") if isinstance(raw, dict) else None
    parts = []
    for item in exc.errors():
        loc = list(item["loc"])
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        label = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            entry = entries[loc[1]] if isinstance(entries, list) else None
            rule_id = entry.get("id") if isinstance(entry, dict) else None
            field = ".".join(str(p) for p in loc[2:]) or "(entry)"
            label = f"rules[{loc[1]}] (rule {rule_id}) field {field}"
        parts.append(f"{name}: {label}: {message}")
    return "; ".join(parts)


def load_rule_specs(
    path: Path = RULES_FILE, known_indicators: frozenset[int] | None = None
) -> tuple[RuleSpec, ...]:
    """Load the rules file; refuse it naming the rule and field at fault.

    With ``known_indicators``, a rule naming an indicator no referential has is
    refused too (a typo would otherwise leave that rule silently unused).
    """
    try:
        raw = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise RulesError(f"{path.name}: invalid JSON: {exc}") from exc
    try:
        specs = RulesFile.model_validate(raw).rules
    except ValidationError as exc:
        raise RulesError(_spec_errors(exc, raw, path.name)) from exc
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise RulesError(f"{path.name}: rule id {spec.id!r} is used twice")
        seen.add(spec.id)
        unknown = sorted(set(spec.indicators) - known_indicators) if known_indicators else []
        if unknown:
            raise RulesError(f"{path.name}: rule {spec.id!r} names unknown indicators {unknown}")
    return specs


@cache
def shipped_rule_specs() -> tuple[RuleSpec, ...]:
    known = frozenset(n for r in shipped_referentials().values() for n in r.numbers)
    return load_rule_specs(RULES_FILE, known)


def build_rules(
    overrides: dict[str, Any] | None = None,
    specs: tuple[RuleSpec, ...] | None = None,
    where: str = "rules",
) -> tuple[Rule, ...]:
    """The rules with tenant overrides applied; raise naming every bad key."""
    specs = specs if specs is not None else shipped_rule_specs()
    overrides = overrides or {}
    known = {s.id for s in specs}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise RulesError(
            "; ".join(
                f"{where}.{name}: unknown rule (known: {', '.join(sorted(known))})"
                for name in unknown
            )
        )
    problems: list[str] = []
    rules: list[Rule] = []
    for spec in specs:
        override = overrides.get(spec.id)
        if override is not None and not isinstance(override, dict):
            problems.append(f"{where}.{spec.id}: expected a table of parameters")
            continue
        try:
            rules.append(_build(spec, override, where))
        except RulesError as exc:
            problems.append(str(exc))
    if problems:
        raise RulesError("; ".join(problems))
    return tuple(rules)


def validate_overrides(overrides: dict[str, Any]) -> list[str]:
    """Every problem with a tenant's ``rules`` table, one line each (empty: fine)."""
    try:
        build_rules(overrides)
    except RulesError as exc:
        return str(exc).split("; ")
    return []
