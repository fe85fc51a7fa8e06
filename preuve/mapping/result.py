"""The coverage result: per tenant, training action and indicator."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

from preuve.i18n import Text

# Evidence ids listed per result are capped; ``evidence_count`` gives the full count.
MAX_EVIDENCE_IDS = 50
# Refs named in a reason (the full list is in ``at_fault``).
MAX_NAMED_IN_REASON = 10
# The warning window of ``indicator.due_soon``, in days before a deadline, for
# rules without a ``due_soon_days`` parameter of their own (a rule that has one,
# e.g. ``manual_action``, uses it, and a tenant can override it per rule).
DUE_SOON_DAYS = 14


class Status(StrEnum):
    PROVEN = "proven"
    PARTIAL = "partial"
    MISSING = "missing"
    DUE = "due"
    NOT_APPLICABLE = "not_applicable"
    MANUAL = "manual"


def combine(statuses: Iterable[Status]) -> Status:
    """The status of an indicator from its rules' findings (docs/coverage.md,
    "Combining statuses").

    Not-applicable findings (a rule with nothing to check) are ignored; if nothing
    is left, not applicable. A missing finding makes the indicator missing: a part
    of it fully absent is a missing proof, whatever the other parts prove. Then
    partial, manual (a manual part without its proof), due, proven.
    """
    found = {s for s in statuses if s is not Status.NOT_APPLICABLE}
    if not found:
        return Status.NOT_APPLICABLE
    for status in (Status.MISSING, Status.PARTIAL, Status.MANUAL, Status.DUE):
        if status in found:
            return status
    return Status.PROVEN


def combine_across(statuses: Iterable[Status]) -> Status:
    """One status from the same requirement over several scopes: the actions of an
    organisation (the organisation-level status of an action-level indicator), or
    the stakeholders and timings of one action's surveys.

    Not-applicable ones are ignored; missing everywhere is missing, missing next to
    something proven or partial is partial (the requirement is met for some of
    them); then partial, manual, due, proven.
    """
    found = {s for s in statuses if s is not Status.NOT_APPLICABLE}
    if not found:
        return Status.NOT_APPLICABLE
    if Status.MISSING in found:
        if Status.PROVEN in found or Status.PARTIAL in found:
            return Status.PARTIAL
        return Status.MISSING
    return combine(found)


@dataclass(frozen=True, slots=True)
class Reason:
    fr: str
    en: str

    @classmethod
    def of(cls, text: Text, **values: Any) -> Reason:
        try:
            return _rendered(text, tuple(sorted(values.items())))
        except TypeError:  # an unhashable value (a list): rendered each time
            return cls(fr=text.render("fr", **values), en=text.render("en", **values))

    def join(self, other: Reason) -> Reason:
        if not self.fr:
            return other
        if not other.fr:
            return self
        return Reason(fr=f"{self.fr} ; {other.fr}", en=f"{self.en}; {other.en}")


@lru_cache(maxsize=8192)
def _rendered(text: Text, values: tuple[tuple[str, Any], ...]) -> Reason:
    """Both renderings of a message, shared: thousands of actions give the same
    reasons ("non applicable", one proof for all), and rendering dominates otherwise."""
    named = dict(values)
    return Reason(fr=text.render("fr", **named), en=text.render("en", **named))


def name_refs(refs: list[str]) -> str:
    shown = ", ".join(refs[:MAX_NAMED_IN_REASON])
    if len(refs) > MAX_NAMED_IN_REASON:
        shown += f", … (+{len(refs) - MAX_NAMED_IN_REASON})"
    return shown


@dataclass(slots=True)
class Finding:
    """The outcome of one rule for one scope."""

    rule: str
    status: Status
    reason: Reason
    at_fault: list[str] = field(default_factory=list)
    evidence_ids: list[int] = field(default_factory=list)
    evidence_count: int = 0
    due_by: date | None = None
    metrics: dict[str, Any] | None = None
    # From this day on, ``due_by`` is near: ``due_by`` minus the rule's window.
    warn_from: date | None = None


@dataclass(slots=True)
class IndicatorCoverage:
    indicator: int
    criterion: int
    status: Status
    reason: Reason
    minor_nc_possible: bool
    at_fault: list[str] = field(default_factory=list)
    evidence_ids: list[int] = field(default_factory=list)
    evidence_count: int = 0
    due_by: date | None = None
    disputed: bool = False
    provisional: bool = False
    new_entrant_process_only: bool = False
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] | None = None
    # When ``due_by`` enters its warning window (that of the finding it comes from).
    warn_from: date | None = None

    @property
    def nonconformity(self) -> str | None:
        """The non-conformity at stake if audited today."""
        if self.status is Status.PARTIAL:
            return "minor" if self.minor_nc_possible else "major"
        if self.status in (Status.MISSING, Status.MANUAL):
            return "major"
        return None

    def as_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "indicator": self.indicator,
            "criterion": self.criterion,
            "status": self.status.value,
            "reason": self.reason.fr,
            "reason_en": self.reason.en,
            "nonconformity": self.nonconformity,
            "minor_nc_possible": self.minor_nc_possible,
            "at_fault": self.at_fault,
            "evidence_ids": self.evidence_ids,
            "evidence_count": self.evidence_count,
            "due_by": self.due_by.isoformat() if self.due_by else None,
            "disputed": self.disputed,
            "provisional": self.provisional,
            "new_entrant_process_only": self.new_entrant_process_only,
            "findings": [
                {
                    "rule": f.rule,
                    "status": f.status.value,
                    "reason": f.reason.fr,
                    "reason_en": f.reason.en,
                    "at_fault": f.at_fault,
                    "due_by": f.due_by.isoformat() if f.due_by else None,
                }
                for f in self.findings
            ],
        }
        if self.metrics is not None:
            value["metrics"] = self.metrics
        return value


@dataclass(slots=True)
class ActionCoverage:
    action_ref: str
    title: str
    category: str
    certifying: bool
    work_study: bool
    work_based_periods: bool
    subcontracted: bool
    over_two_days: bool | None
    start_date: date | None
    end_date: date | None
    indicators: list[IndicatorCoverage]

    def indicator(self, number: int) -> IndicatorCoverage:
        for item in self.indicators:
            if item.indicator == number:
                return item
        raise KeyError(number)

    def as_json(self) -> dict[str, Any]:
        return {
            "action_ref": self.action_ref,
            "title": self.title,
            "category": self.category,
            "certifying": self.certifying,
            "work_study": self.work_study,
            "work_based_periods": self.work_based_periods,
            "subcontracted": self.subcontracted,
            "over_two_days": self.over_two_days,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "summary": summarise(self.indicators),
            "indicators": [i.as_json() for i in self.indicators],
        }


def summarise(items: Iterable[IndicatorCoverage]) -> dict[str, Any]:
    return summarise_statuses(item.status for item in items)


def summarise_statuses(statuses: Iterable[Status]) -> dict[str, Any]:
    """Counts per status, how many apply, and the proven percentage of those."""
    counts = {s.value: 0 for s in Status}
    for status in statuses:
        counts[status.value] += 1
    applicable = sum(v for k, v in counts.items() if k != Status.NOT_APPLICABLE.value)
    proven = counts[Status.PROVEN.value]
    return {
        "counts": counts,
        "applicable": applicable,
        "proven_percent": round(100 * proven / applicable, 1) if applicable else None,
    }


@dataclass(slots=True)
class CoverageResult:
    tenant: str
    referential_version: str
    referential_provisional: bool
    audit_date: date
    as_of: date
    new_entrant: bool
    organisation: list[IndicatorCoverage]
    actions: list[ActionCoverage]
    criteria: dict[int, str] = field(default_factory=dict)
    snapshot_id: int | None = None
    # Stored records the rules could not read ("<kind> #<evidence id>: <error>"):
    # they count for nothing, so the user must see them.
    problems: list[str] = field(default_factory=list)

    def indicator(self, number: int) -> IndicatorCoverage:
        for item in self.organisation:
            if item.indicator == number:
                return item
        raise KeyError(number)

    def action(self, action_ref: str) -> ActionCoverage:
        for item in self.actions:
            if item.action_ref == action_ref:
                return item
        raise KeyError(action_ref)

    def as_json(self) -> dict[str, Any]:
        by_criterion: dict[str, Any] = {}
        for number, title in self.criteria.items():
            items = [i for i in self.organisation if i.criterion == number]
            by_criterion[str(number)] = {"title": title, **summarise(items)}
        return {
            "tenant": self.tenant,
            "referential": {
                "version": self.referential_version,
                "provisional": self.referential_provisional,
            },
            "audit_date": self.audit_date.isoformat(),
            "as_of": self.as_of.isoformat(),
            "new_entrant": self.new_entrant,
            "snapshot_id": self.snapshot_id,
            "summary": summarise(self.organisation),
            "criteria": by_criterion,
            "organisation": [i.as_json() for i in self.organisation],
            "actions": [a.as_json() for a in self.actions],
            "problems": self.problems,
        }
