"""Coverage evaluation: referential + rules + aggregated facts -> statuses.

Action-scope rules run per training action; organisation-scope rules run once.
An indicator's status combines its rules' findings with
:func:`preuve.mapping.result.combine`; the organisation-level status of an
action-scope indicator is derived from the actions' statuses with
:func:`preuve.mapping.result.combine_across` (both documented in ``docs/coverage.md``,
"Combining statuses").
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from preuve.config.settings import TenantConfig
from preuve.mapping import checks
from preuve.mapping import messages as m
from preuve.mapping.applicability import (
    Applicability,
    ProfileKey,
    action_applicability,
    organisation_applicability,
    over_two_days,
)
from preuve.mapping.facts import ActionFacts, TenantFacts, evaluation_today, load_facts
from preuve.mapping.gcpause import gc_paused
from preuve.mapping.referential import Indicator, Referential, select_referential
from preuve.mapping.result import (
    DUE_SOON_DAYS,
    MAX_EVIDENCE_IDS,
    ActionCoverage,
    CoverageResult,
    Finding,
    IndicatorCoverage,
    Reason,
    Status,
    combine,
    combine_across,
    name_refs,
)
from preuve.mapping.rules import (
    FinalAssessmentParams,
    ManualParams,
    Rule,
    build_rules,
    rules_for_version,
)
from preuve.store import Store

log = logging.getLogger(__name__)

# Used for indicators of a (new) referential that no rule names: a manual proof.
_DEFAULT_MANUAL = Rule(
    id="manual_default",
    indicators=(),
    scope="organisation",
    check="manual_proof",
    params=ManualParams(),
)


_NOT_APPLICABLE = Reason.of(m.NOT_APPLICABLE)
_NO_ACTIONS = Reason.of(m.NO_ACTIONS)


def warning_window(rule: Rule) -> int:
    """Days before a deadline of this rule from which ``indicator.due_soon`` is raised.

    The rule's ``due_soon_days`` parameter when it has one (tenants override it
    under ``[tenants.rules.<rule id>]``), else :data:`DUE_SOON_DAYS`.
    """
    days = getattr(rule.params, "due_soon_days", None)
    return days if isinstance(days, int) else DUE_SOON_DAYS


def _windowed(finding: Finding, rule: Rule) -> Finding:
    """The finding with the day its deadline enters the rule's warning window."""
    if finding.due_by is not None:
        finding.warn_from = finding.due_by - timedelta(days=warning_window(rule))
    return finding


def _warn_from(items: list[tuple[date | None, date | None]], due_by: date | None) -> date | None:
    """The warning day of the earliest deadline, from (due_by, warn_from) pairs."""
    found = [warn for due, warn in items if due is not None and due == due_by and warn is not None]
    return min(found) if found else None


def _coverage(
    indicator: Indicator, findings: list[Finding], applicability: Applicability
) -> IndicatorCoverage:
    if not applicability.applies:
        return IndicatorCoverage(
            indicator=indicator.number,
            criterion=indicator.criterion,
            status=Status.NOT_APPLICABLE,
            reason=_NOT_APPLICABLE,
            minor_nc_possible=indicator.minor_nc_possible,
            disputed=applicability.disputed,
            provisional=indicator.provisional,
        )
    status = combine(f.status for f in findings)
    shown = [f for f in findings if f.status not in (Status.PROVEN, Status.NOT_APPLICABLE)]
    # Not-applicable findings (nothing to check) are named only when nothing else is.
    applicable = [f for f in findings if f.status is not Status.NOT_APPLICABLE]
    reason = Reason("", "")
    for finding in shown or applicable or findings:
        reason = reason.join(finding.reason)
    dues = [f.due_by for f in findings if f.due_by is not None]
    due_by = min(dues) if dues else None
    ids = sorted({i for f in findings for i in f.evidence_ids})[:MAX_EVIDENCE_IDS]
    metrics = next((f.metrics for f in findings if f.metrics is not None), None)
    return IndicatorCoverage(
        indicator=indicator.number,
        criterion=indicator.criterion,
        status=status,
        reason=reason,
        minor_nc_possible=indicator.minor_nc_possible,
        # Two rules of one indicator (10/12: attendance, drop-outs) can name the same ref.
        at_fault=list(dict.fromkeys(ref for f in findings for ref in f.at_fault)),
        evidence_ids=ids,
        evidence_count=sum(f.evidence_count for f in findings),
        due_by=due_by,
        warn_from=_warn_from([(f.due_by, f.warn_from) for f in findings], due_by),
        disputed=applicability.disputed,
        provisional=indicator.provisional,
        new_entrant_process_only=applicability.new_entrant_process_only,
        findings=findings,
        metrics=metrics,
    )


def _new_entrant(
    coverage: IndicatorCoverage, facts: TenantFacts, action_ref: str | None, as_of: date
) -> None:
    """At the initial audit a new entrant shows the formalised process (a manual proof)."""
    if not coverage.new_entrant_process_only or coverage.status not in (
        Status.MISSING,
        Status.PARTIAL,
        Status.MANUAL,
    ):
        return
    proof = _windowed(
        checks.manual_proof(
            _DEFAULT_MANUAL,
            coverage.indicator,
            facts.manual_proofs.get(coverage.indicator, []),
            action_ref,
            as_of,
        ),
        _DEFAULT_MANUAL,
    )
    if proof.status is Status.PROVEN:
        coverage.status = Status.PROVEN
        coverage.reason = proof.reason
        coverage.evidence_ids = sorted({*coverage.evidence_ids, *proof.evidence_ids})
    else:
        coverage.status = Status.MANUAL
        coverage.reason = Reason(
            fr=m.NEW_ENTRANT.render("fr", detail=coverage.reason.fr),
            en=m.NEW_ENTRANT.render("en", detail=coverage.reason.en),
        )
    coverage.findings.append(proof)


def _rules_by_indicator(rules: tuple[Rule, ...]) -> dict[int, list[Rule]]:
    found: dict[int, list[Rule]] = {}
    for rule in rules:
        for number in rule.indicators:
            found.setdefault(number, []).append(rule)
    return found


def _sole_parts(rules: tuple[Rule, ...]) -> frozenset[str]:
    """The ids of the manual parts that are their indicator's only manual part.

    An indicator whose rules (of the version in force) declare exactly one
    component and no main manual part (``manual_proof``): a proof of it without a
    component can only be meant for that part, so it counts there
    (docs/coverage.md, "Manual proofs").
    """
    sole: set[str] = set()
    for number, indicator_rules in _rules_by_indicator(rules).items():
        parts = [r for r in indicator_rules if r.check == "manual_component"]
        main = any(r.check == "manual_proof" for r in indicator_rules)
        components = {getattr(r.params, "component", None) for r in parts}
        if not main and len(components) == 1:
            sole.update(r.id for r in parts if r.indicators[0] == number)
    return frozenset(sole)


def _run_action_rule(
    rule: Rule,
    indicator: int,
    action: ActionFacts,
    facts: TenantFacts,
    as_of: date,
    sole_parts: frozenset[str] = frozenset(),
) -> Finding:
    if rule.check == "manual_component":
        finding = checks.manual_component_action(
            rule, action, as_of, untagged=rule.id in sole_parts
        )
    elif rule.check == "manual_proof":
        finding = checks.manual_proof(
            rule,
            indicator,
            facts.manual_proofs.get(indicator, []),
            action.action.action_ref,
            as_of,
        )
    else:
        finding = checks.ACTION_CHECKS[rule.check](rule, action, as_of)
    return _windowed(finding, rule)


def _derive(indicator: Indicator, per_action: list[tuple[str, IndicatorCoverage]]) -> Finding:
    """Organisation status of an action-scope indicator, from the actions' statuses."""
    applicable = [(ref, c) for ref, c in per_action if c.status is not Status.NOT_APPLICABLE]
    status = combine_across(c.status for _, c in applicable)
    total = len(applicable)
    gaps = [
        (ref, c)
        for ref, c in applicable
        if c.status in (Status.MISSING, Status.PARTIAL, Status.MANUAL)
    ]
    due = [(ref, c) for ref, c in applicable if c.status is Status.DUE]
    reason = Reason("", "")
    if gaps:
        reason = Reason(
            fr=m.DERIVED_GAPS.render(
                "fr",
                n=len(gaps),
                total=total,
                refs=name_refs([f"{ref} ({m.STATUS_FR[c.status.value]})" for ref, c in gaps]),
            ),
            en=m.DERIVED_GAPS.render(
                "en",
                n=len(gaps),
                total=total,
                refs=name_refs([f"{ref} ({m.STATUS_EN[c.status.value]})" for ref, c in gaps]),
            ),
        )
    due_by = min((c.due_by for _, c in due if c.due_by is not None), default=None)
    if due:
        reason = reason.join(
            Reason.of(
                m.DERIVED_DUE if due_by is not None else m.DERIVED_DUE_UNDATED,
                n=len(due),
                total=total,
                due=due_by,
                refs=name_refs([ref for ref, _ in due]),
            )
        )
    if not gaps and not due:
        reason = Reason.of(m.DERIVED_ALL_PROVEN, total=total)
    ids = sorted({i for _, c in applicable for i in c.evidence_ids})[:MAX_EVIDENCE_IDS]
    return Finding(
        rule=f"derived:{indicator.number}",
        status=status,
        reason=reason,
        at_fault=[ref for ref, _ in gaps],
        evidence_ids=ids,
        evidence_count=sum(c.evidence_count for _, c in applicable),
        due_by=due_by,
        warn_from=_warn_from([(c.due_by, c.warn_from) for _, c in due], due_by),
    )


def _declared_by_profile(
    indicator: Indicator, rules: list[Rule], facts: TenantFacts, as_of: date
) -> Finding:
    """An indicator the profile declares but no action needs: an organisation-wide proof."""
    rule = next((r for r in rules if r.check == "manual_proof"), _DEFAULT_MANUAL)
    finding = checks.manual_proof(
        rule, indicator.number, facts.manual_proofs.get(indicator.number, []), None, as_of
    )
    if finding.status is not Status.PROVEN:
        finding.reason = Reason(
            fr=m.PROFILE_DECLARED.render("fr", detail=finding.reason.fr),
            en=m.PROFILE_DECLARED.render("en", detail=finding.reason.en),
        )
    return finding


def evaluate_facts(
    facts: TenantFacts,
    tenant: TenantConfig,
    referential: Referential,
    rules: tuple[Rule, ...],
    as_of: date,
    audit_date: date,
) -> CoverageResult:
    """Pure part of the evaluation (no database): facts in, coverage out.

    Only the rules that apply under ``referential``'s version are used.
    """
    in_force = rules_for_version(rules, referential.version)
    by_indicator = _rules_by_indicator(in_force)
    sole_parts = _sole_parts(in_force)
    action_rules_of = {
        i.number: [r for r in by_indicator.get(i.number, []) if r.scope == "action"]
        for i in referential.indicators
    }
    actions_out: list[ActionCoverage] = []
    per_indicator: dict[int, list[tuple[str, IndicatorCoverage]]] = {}
    cache: dict[ProfileKey, dict[int, Applicability]] = {}
    for ref, action_facts in sorted(facts.actions.items()):
        action = action_facts.action
        applicability = action_applicability(referential, tenant, action, cache)
        items: list[IndicatorCoverage] = []
        for indicator in referential.indicators:
            action_rules = action_rules_of[indicator.number]
            if not action_rules:
                continue
            findings = [
                _run_action_rule(r, indicator.number, action_facts, facts, as_of, sole_parts)
                for r in action_rules
            ]
            coverage = _coverage(indicator, findings, applicability[indicator.number])
            _new_entrant(coverage, facts, ref, as_of)
            items.append(coverage)
            per_indicator.setdefault(indicator.number, []).append((ref, coverage))
        actions_out.append(
            ActionCoverage(
                action_ref=ref,
                title=action.title,
                category=action.category.value,
                certifying=action.certifying,
                work_study=action.work_study,
                work_based_periods=action.in_company_periods,
                subcontracted=action.subcontracted,
                over_two_days=over_two_days(action),
                start_date=action.start_date,
                end_date=action.end_date,
                indicators=items,
            )
        )
    org_applicability = organisation_applicability(
        referential, tenant, [a.action for a in facts.actions.values()]
    )
    organisation: list[IndicatorCoverage] = []
    for indicator in referential.indicators:
        indicator_rules = by_indicator.get(indicator.number) or [_DEFAULT_MANUAL]
        org_findings: list[Finding] = []
        if any(r.scope == "action" for r in indicator_rules):
            if facts.actions:
                org_findings.append(_derive(indicator, per_indicator.get(indicator.number, [])))
            else:
                org_findings.append(
                    Finding(f"derived:{indicator.number}", Status.MISSING, _NO_ACTIONS)
                )
        for rule in indicator_rules:
            if rule.scope != "organisation":
                continue
            if rule.check == "manual_proof":
                finding = checks.manual_proof(
                    rule,
                    indicator.number,
                    facts.manual_proofs.get(indicator.number, []),
                    None,
                    as_of,
                )
            elif rule.check == "manual_component":
                finding = checks.manual_component_organisation(
                    rule, facts, as_of, untagged=rule.id in sole_parts
                )
            else:
                finding = checks.ORGANISATION_CHECKS[rule.check](rule, facts, as_of)
            org_findings.append(_windowed(finding, rule))
        org_applies = org_applicability[indicator.number]
        derived_only = all(r.scope == "action" for r in indicator_rules)
        if derived_only and org_findings and org_findings[0].status is Status.NOT_APPLICABLE:
            if org_applies.from_profile:
                org_findings = [_declared_by_profile(indicator, indicator_rules, facts, as_of)]
            else:
                org_applies = Applicability(applies=False, disputed=org_applies.disputed)
        coverage = _coverage(indicator, org_findings, org_applies)
        if not derived_only:
            _new_entrant(coverage, facts, None, as_of)
        organisation.append(coverage)
    return CoverageResult(
        tenant=tenant.id,
        referential_version=referential.version,
        referential_provisional=referential.provisional,
        audit_date=audit_date,
        as_of=as_of,
        new_entrant=tenant.new_entrant,
        organisation=organisation,
        actions=actions_out,
        criteria={c.number: c.title_fr for c in referential.criteria},
        problems=list(facts.problems),
    )


async def evaluate(
    store: Store,
    tenant: TenantConfig,
    *,
    as_of: date | None = None,
    audit_date: date | None = None,
) -> CoverageResult:
    """Evaluate a tenant's coverage from the stored evidence.

    ``as_of`` is the day the evaluation stands on (deadlines, windows); the
    referential version follows ``audit_date`` (default: the tenant's
    ``audit_date``, else ``as_of``) unless the tenant pins ``referential_version``.
    """
    as_of = as_of or evaluation_today()
    audit_day = audit_date or tenant.audit_date or as_of
    rules = build_rules(tenant.rules, where=f"tenants[{tenant.id}].rules")
    referential = select_referential(audit_day, tenant.referential_version)
    final_kinds = next(
        (r.params.assessment_kinds for r in rules if isinstance(r.params, FinalAssessmentParams)),
        ("final", "certification"),
    )
    with gc_paused():
        facts = await load_facts(store.engine, tenant.id, as_of, tuple(final_kinds))
        result = evaluate_facts(facts, tenant, referential, rules, as_of, audit_day)
    if facts.problems:
        # Evidence ids and error kinds only: no payload value is logged.
        log.warning(
            "coverage of %s: %d stored records could not be read (first: %s)",
            tenant.id,
            len(facts.problems),
            facts.problems[0],
        )
    return result
