"""Declarative rules: which check proves which indicator, at which scope, with which parameters.

The rules are data (``rules.json``); each names a check implemented in
``checks.py`` and gives its parameters' defaults. A rule may be scoped to
referential versions: a range by date in force (``"since"``/``"until"`` a version,
bounds included, so a version added later falls in the range it belongs to) or a
list (``"versions": [...]``); absent: every version. An unknown version id, or an
indicator a version in scope does not have, is refused at load with the rule named
(the versions known are the shipped ones plus those of the configured ``[mapping]
referential_dir``). A tenant overrides parameters in its configuration
(``[tenants.rules.<rule id>]``); unknown rules, unknown parameters and wrong types
are refused with the key named.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from preuve.mapping.referential import available_referentials

RULES_FILE = Path(__file__).with_name("rules.json")

Scope = Literal["action", "organisation"]


class RulesError(Exception):
    """Rules data or a tenant override that cannot be used; names the key at fault."""


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# The default warning window of a deadline (``indicator.due_soon``), in days; the
# same as ``preuve.mapping.result.DUE_SOON_DAYS``, used for rules without the
# parameter. Every rule whose findings carry a deadline has ``due_soon_days``.
DEFAULT_DUE_SOON_DAYS = 14


def _due_soon(default: int = DEFAULT_DUE_SOON_DAYS) -> Any:
    return Field(default=default, ge=0, le=365)


class CourseFieldsParams(_Params):
    fields: tuple[str, ...] = Field(min_length=1)


class NoParams(_Params):
    pass


class ResultRatesParams(_Params):
    # Due until the first action ends.
    due_soon_days: int = _due_soon()


class AttendanceParams(_Params):
    # Due until the action starts.
    due_soon_days: int = _due_soon()


class EntryPositioningParams(_Params):
    max_days_after_start: int = Field(default=7, ge=0, le=365)
    due_soon_days: int = _due_soon()


class FinalAssessmentParams(_Params):
    grace_days: int = Field(default=15, ge=0, le=365)
    assessment_kinds: tuple[str, ...] = ("final", "certification")
    due_soon_days: int = _due_soon()


class DropoutParams(_Params):
    followup_days: int = Field(default=15, ge=0, le=365)
    due_soon_days: int = _due_soon()


class ResourcesParams(_Params):
    min_resources: int = Field(default=1, ge=1)


class DistanceParams(_Params):
    # Per learner (when the traces cannot be tied to the distance modules): at least
    # this many activity traces or completions, by ``grace_days`` after the start.
    min_traces: int = Field(default=1, ge=1)
    grace_days: int = Field(default=7, ge=0, le=365)
    # Per module (when completions name the action's distance resources): each learner
    # completes at least this share of the completion-tracked distance modules, by
    # ``modules_due_days`` after the learner's end.
    min_module_share: float = Field(default=1.0, gt=0, le=1)
    modules_due_days: int = Field(default=7, ge=0, le=365)
    due_soon_days: int = _due_soon()


StakeholderName = Literal["learner", "employer", "funder", "trainer", "client"]


class SatisfactionParams(_Params):
    min_response_rate: float = Field(default=0.5, ge=0, le=1)
    # Surveyed per action, each where it is concerned: learners always; the teaching
    # team ("trainer") and funders unless the action is delivered as a subcontractor;
    # the client ("client", donneur d'ordres) only on actions delivered as a
    # subcontractor; companies ("employer") on actions with periods in a company
    # (work-study, apprenticeship, work-based periods), or on every action with
    # ``employer_on_every_action``; skills assessments ask learners and trainers only.
    stakeholders: tuple[StakeholderName, ...] = ("learner", "trainer", "employer", "client")
    employer_on_every_action: bool = False
    hot_due_days: int = Field(default=15, ge=0, le=365)
    cold_required: bool = True
    # Who is asked a cold survey too, when ``cold_required``.
    cold_stakeholders: tuple[StakeholderName, ...] = ("learner",)
    cold_due_days: int = Field(default=90, ge=0, le=730)
    # A survey without an invited count has no known response rate: it is partial,
    # unless it has at least this many responses (None: never enough).
    min_responses_without_invited: int | None = Field(default=None, ge=1)
    due_soon_days: int = _due_soon()

    @model_validator(mode="after")
    def _no_duplicates(self) -> SatisfactionParams:
        for name in ("stakeholders", "cold_stakeholders"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"{name}: a stakeholder is listed twice")
        return self


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
    due_soon_days: int = _due_soon(30)


# One part of an indicator that only a document can prove, next to the parts the
# evidence proves (e.g. 12 under rnq-2026: attendance, drop-out follow-up, and the
# prevention of violence). A manual proof counts for it when its ``component`` is
# this key (``preuve proof add --component KEY``); a proof without a component
# never does. Its labels are in ``messages.COMPONENTS``.
Component = Literal[
    "recognition_funding",
    "calculation_method",
    "violence_prevention",
    "pedagogical_referent",
    "funder_feedback",
    "risk_analysis",
    "content_evaluation",
]
# Components that depend on the number of trainers of the action.
PER_TRAINER_COMPONENTS: frozenset[str] = frozenset({"pedagogical_referent"})
# Parameters that say what a rule is, not how strict it is: set in rules.json only.
FIXED_PARAMS: dict[str, frozenset[str]] = {"manual_component": frozenset({"component", "if_any"})}


class ManualComponentParams(_Params):
    component: Component
    # The referential asks for it "le cas échéant" (rnq-2026's funders): the
    # organisation may declare it is not concerned (``required = false``).
    if_any: bool = False
    due_soon_days: int = _due_soon(30)
    # pedagogical_referent: asked only of actions with at least this many trainers
    # enrolled (0: every action; the threshold is to be set by arrêté).
    min_trainers: int = Field(default=0, ge=0, le=100)
    # "Le cas échéant" parts only: false when the organisation is not concerned.
    required: bool = True

    @model_validator(mode="after")
    def _meaningful(self) -> ManualComponentParams:
        if not self.required and not self.if_any:
            raise ValueError(f"required: the component {self.component} cannot be waived")
        if self.min_trainers and self.component not in PER_TRAINER_COMPONENTS:
            raise ValueError(f"min_trainers: not used by the component {self.component}")
        return self


PARAM_MODELS: dict[str, type[_Params]] = {
    "course_fields": CourseFieldsParams,
    "result_rates": ResultRatesParams,
    "entry_positioning": EntryPositioningParams,
    "attendance": AttendanceParams,
    "final_assessment": FinalAssessmentParams,
    "dropout_followup": DropoutParams,
    "resources": ResourcesParams,
    "distance_followed": DistanceParams,
    "satisfaction": SatisfactionParams,
    "trainer_competence": TrainerCompetenceParams,
    "trainer_cpd": TrainerCpdParams,
    "manual_proof": ManualParams,
    "manual_component": ManualComponentParams,
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
    "manual_component",
]


class RuleSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    indicators: tuple[int, ...] = Field(min_length=1)
    scope: Scope
    check: CheckName
    params: dict[str, Any] = Field(default_factory=dict)
    # Referential versions the rule applies to; None (absent): every version.
    versions: tuple[str, ...] | None = Field(default=None, min_length=1)
    # Or a range, by date in force: from ``since`` on and/or up to ``until`` (both
    # included). A version added later (a file dropped in the referential folder)
    # then gets the rules of the range it falls in, with no edit of this file.
    since: str | None = None
    until: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RuleSpec:
        if self.versions is not None and len(set(self.versions)) != len(self.versions):
            raise ValueError("versions: a version is listed twice")
        if self.versions is not None and (self.since or self.until):
            raise ValueError("versions: give either a list of versions or since/until")
        if self.check == "manual_component" and len(self.indicators) != 1:
            raise ValueError("indicators: a manual component belongs to one indicator")
        return self

    def scoped_versions(self, order: Mapping[str, date]) -> tuple[str, ...] | None:
        """The versions it applies to among ``order`` (version -> date in force)."""
        if self.since is None and self.until is None:
            return self.versions
        start = order[self.since] if self.since else date.min
        end = order[self.until] if self.until else date.max
        return tuple(
            v for v, day in sorted(order.items(), key=lambda x: x[1]) if start <= day <= end
        )


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
    versions: tuple[str, ...] | None = None

    def applies_to(self, version: str) -> bool:
        return self.versions is None or version in self.versions


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
    fixed = sorted(FIXED_PARAMS.get(spec.check, frozenset()) & set(override or {}))
    if fixed:
        raise RulesError(
            "; ".join(
                f"{where}.{spec.id}.{name}: set by rules.json, not by a tenant" for name in fixed
            )
        )
    values = {**spec.params, **(override or {})}
    try:
        params = model.model_validate(values)
    except ValidationError as exc:
        raise RulesError(_errors(exc, f"{where}.{spec.id}")) from exc
    return Rule(
        id=spec.id,
        indicators=spec.indicators,
        scope=spec.scope,
        check=spec.check,
        params=params,
        versions=spec.scoped_versions(_in_force()),
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
    path: Path = RULES_FILE,
    known_indicators: frozenset[int] | None = None,
    referentials: Mapping[str, frozenset[int]] | None = None,
) -> tuple[RuleSpec, ...]:
    """Load the rules file; refuse it naming the rule and field at fault.

    With ``known_indicators``, a rule naming an indicator no referential has is
    refused too (a typo would otherwise leave that rule silently unused). With
    ``referentials`` (version id -> its indicator numbers), a rule naming an
    unknown version is refused, and so is a rule naming an indicator one of its
    versions does not have.
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
        if referentials is not None:
            _check_versions(spec, referentials, path.name)
    return specs


def _check_versions(spec: RuleSpec, referentials: Mapping[str, frozenset[int]], name: str) -> None:
    known = ", ".join(sorted(referentials))
    for bound in (spec.since, spec.until):
        if bound is not None and bound not in referentials:
            raise RulesError(
                f"{name}: rule {spec.id!r} names unknown referential version {bound!r} "
                f"(known: {known})"
            )
    order = _in_force()
    scoped = spec.scoped_versions({v: order[v] for v in referentials if v in order})
    for version in scoped or ():
        numbers = referentials.get(version)
        if numbers is None:
            raise RulesError(
                f"{name}: rule {spec.id!r} names unknown referential version {version!r} "
                f"(known: {known})"
            )
        absent = sorted(set(spec.indicators) - numbers)
        if absent:
            raise RulesError(
                f"{name}: rule {spec.id!r} names indicators {absent}, which {version} does not have"
            )


@cache
def _checked_specs(
    path: Path, referentials: tuple[tuple[str, frozenset[int]], ...]
) -> tuple[RuleSpec, ...]:
    versions = dict(referentials)
    known = frozenset(n for numbers in versions.values() for n in numbers)
    return load_rule_specs(path, known, versions)


def shipped_rule_specs() -> tuple[RuleSpec, ...]:
    """The shipped rules, checked against the referential versions this instance can
    use: the shipped ones plus those of the configured ``[mapping] referential_dir``
    (a version dropped in that folder may be named in ``versions``)."""
    referentials = tuple(
        sorted((v, frozenset(r.numbers)) for v, r in available_referentials().items())
    )
    return _checked_specs(RULES_FILE, referentials)


def declared_components(specs: tuple[RuleSpec, ...] | None = None) -> dict[int, tuple[str, ...]]:
    """Indicator -> the component keys its ``manual_component`` rules declare, in any
    referential version (what ``ManualProof.component`` may say)."""
    found: dict[int, set[str]] = {}
    for spec in specs if specs is not None else shipped_rule_specs():
        component = spec.params.get("component")
        if spec.check == "manual_component" and isinstance(component, str):
            found.setdefault(spec.indicators[0], set()).add(component)
    return {number: tuple(sorted(keys)) for number, keys in sorted(found.items())}


def _in_force() -> dict[str, date]:
    return {v: r.in_force_from for v, r in available_referentials().items()}


def rules_for_version(rules: tuple[Rule, ...], version: str) -> tuple[Rule, ...]:
    """The rules that apply under a referential version (unscoped ones always do)."""
    return tuple(r for r in rules if r.applies_to(version))


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
