"""The checks the rules name: each turns aggregated facts into a finding."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from preuve.evidence.model import ActionCategory, Modality, TrainingAction
from preuve.i18n import Text
from preuve.mapping import messages as m
from preuve.mapping.facts import (
    ActionFacts,
    LearnerFacts,
    ManualProofFacts,
    Qualification,
    TenantFacts,
)
from preuve.mapping.result import (
    MAX_EVIDENCE_IDS,
    Finding,
    Reason,
    Status,
    combine_across,
    name_refs,
)
from preuve.mapping.rules import (
    CourseFieldsParams,
    DistanceParams,
    DropoutParams,
    EntryPositioningParams,
    FinalAssessmentParams,
    ManualComponentParams,
    ManualParams,
    ResourcesParams,
    Rule,
    SatisfactionParams,
    TrainerCompetenceParams,
    TrainerCpdParams,
)

FINISHED = "completed"
DROPPED = "dropped_out"


def _ids(values: list[int | None]) -> list[int]:
    return sorted({v for v in values if v is not None})[:MAX_EVIDENCE_IDS]


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    return date(year, month, 28)


def _learner_finding(
    rule: Rule,
    *,
    total: int,
    faults: list[str],
    pending: list[tuple[str, date | None]],
    ok: Reason,
    fault_reason: Reason,
    due_text: Text,
    ids: list[int | None],
) -> Finding:
    """Status from learners at fault (deadline passed) and pending (deadline ahead).

    A pending learner whose deadline is not known yet (an action with no end
    date) keeps the finding ``due``, without a ``due_by``.
    """
    count = len([i for i in ids if i is not None])
    if not faults and not pending:
        return Finding(rule.id, Status.PROVEN, ok, evidence_ids=_ids(ids), evidence_count=count)
    reason = fault_reason if faults else Reason("", "")
    due_by = min((d for _, d in pending if d is not None), default=None)
    if pending:
        values = {"n": len(pending), "total": total, "refs": name_refs([r for r, _ in pending])}
        reason = reason.join(
            Reason(
                fr=due_text.render("fr", due=due_by or m.UNKNOWN_DUE_FR, **values),
                en=due_text.render("en", due=due_by or m.UNKNOWN_DUE_EN, **values),
            )
        )
    if not faults:
        status = Status.DUE
    elif len(faults) >= total:
        status = Status.MISSING
    else:
        status = Status.PARTIAL
    return Finding(
        rule.id,
        status,
        reason,
        at_fault=faults,
        evidence_ids=_ids(ids),
        evidence_count=count,
        due_by=due_by,
    )


def _split(
    learners: Iterable[LearnerFacts],
    proven: Callable[[LearnerFacts], bool],
    deadline: Callable[[LearnerFacts], date | None],
    as_of: date,
) -> tuple[list[str], list[tuple[str, date | None]]]:
    """Learners without proof: pending until their deadline, at fault after it.

    An unknown deadline (no date to count from) is a fault: "due" promises a date.
    """
    faults: list[str] = []
    pending: list[tuple[str, date | None]] = []
    for learner in learners:
        if proven(learner):
            continue
        due = deadline(learner)
        if due is not None and as_of <= due:
            pending.append((learner.person_ref, due))
        else:
            faults.append(learner.person_ref)
    return faults, pending


def _after(day: date | None, days: int) -> date | None:
    return day + timedelta(days=days) if day is not None else None


def _no_learners(
    rule: Rule, facts: ActionFacts, as_of: date, *, days: int = 0, from_end: bool = False
) -> Finding:
    """An action without learners: due before its start, else missing.

    Before the start, the deadline is the rule's own: ``days`` after the start, or
    after the end with ``from_end`` (an assessment follows the end); an end date
    not known yet leaves it ``due`` without a ``due_by``.
    """
    start = facts.action.start_date
    if start is not None and start > as_of:
        due = _after(facts.action.end_date if from_end else start, days)
        if due == start:
            reason = Reason.of(m.NOT_STARTED, start=start)
        elif due is None:
            reason = Reason.of(m.NOT_STARTED_DUE_UNKNOWN, start=start)
        else:
            reason = Reason.of(m.NOT_STARTED_DUE, start=start, due=due)
        return Finding(rule.id, Status.DUE, reason, due_by=due)
    return Finding(rule.id, Status.MISSING, Reason.of(m.NO_LEARNERS))


def _nobody_concerned(rule: Rule) -> Finding:
    """Learners are enrolled, but every one dropped out (or is suspended): nothing
    to check, so the rule does not take part in the indicator's status."""
    return Finding(rule.id, Status.NOT_APPLICABLE, Reason.of(m.NO_LEARNER_CONCERNED))


def entry_positioning(rule: Rule, facts: ActionFacts, as_of: date) -> Finding:
    params: EntryPositioningParams = rule.params
    learners = facts.learners
    days = params.max_days_after_start
    if not learners:
        return _no_learners(rule, facts, as_of, days=days)

    def deadline(learner: LearnerFacts) -> date | None:
        return _after(learner.start, days)

    # A stored positioning counts even undated (its lateness cannot be judged).
    missing, pending = _split(learners, lambda x: x.positioning_id is not None, deadline, as_of)
    late = [
        x.person_ref
        for x in learners
        if x.positioning_at is not None
        and (due := deadline(x)) is not None
        and x.positioning_at > due
    ]
    total = len(learners)
    fault_reason = Reason("", "")
    if missing:
        fault_reason = Reason.of(
            m.POSITIONING_MISSING, n=len(missing), total=total, refs=name_refs(missing)
        )
    if late:  # named apart from the missing ones: the fix differs (the date)
        fault_reason = fault_reason.join(
            Reason.of(m.POSITIONING_LATE, n=len(late), total=total, days=days, refs=name_refs(late))
        )
    return _learner_finding(
        rule,
        total=total,
        faults=missing + late,
        pending=pending,
        ok=Reason.of(m.POSITIONING_OK, n=total, total=total),
        fault_reason=fault_reason,
        due_text=m.POSITIONING_DUE,
        ids=[x.positioning_id for x in learners],
    )


def _finished(learner: LearnerFacts, as_of: date) -> bool:
    if learner.status == FINISHED:
        return True
    return learner.status == "active" and learner.end is not None and learner.end <= as_of


def final_assessment(rule: Rule, facts: ActionFacts, as_of: date) -> Finding:
    params: FinalAssessmentParams = rule.params
    if not facts.learners:
        return _no_learners(rule, facts, as_of, days=params.grace_days, from_end=True)
    concerned = [x for x in facts.learners if x.status not in (DROPPED, "suspended")]
    if not concerned:
        return _nobody_concerned(rule)
    faults: list[str] = []
    pending: list[tuple[str, date | None]] = []
    finished = 0
    for learner in concerned:
        deadline = _after(learner.end, params.grace_days)
        if learner.finals:
            finished += 1
        elif not _finished(learner, as_of) or (deadline is not None and as_of <= deadline):
            pending.append((learner.person_ref, deadline))  # still in training, or in grace
        else:  # finished, and the grace period is over (or the end date is unknown)
            finished += 1
            faults.append(learner.person_ref)
    return _learner_finding(
        rule,
        total=max(finished, 1) if faults else len(concerned),
        faults=faults,
        pending=pending,
        ok=Reason.of(m.FINAL_OK, n=len(concerned), total=len(concerned)),
        fault_reason=Reason.of(
            m.FINAL_MISSING, n=len(faults), total=finished, refs=name_refs(faults)
        ),
        due_text=m.FINAL_DUE,
        ids=[x.final_id for x in concerned],
    )


def attendance(rule: Rule, facts: ActionFacts, as_of: date) -> Finding:
    learners = facts.learners
    if not learners:
        return _no_learners(rule, facts, as_of)
    start = facts.action.start_date
    ids: list[int | None] = [x.attendance_id or x.activity_id for x in learners]
    total = len(learners)
    # A learner is asked from their own start (the enrolment's, else the action's):
    # one who starts after the evaluation day is not asked yet.
    asked = [x for x in learners if x.start is None or x.start <= as_of]
    if start is not None and start > as_of and not (asked and facts.slots):
        return Finding(rule.id, Status.DUE, Reason.of(m.NOT_STARTED, start=start), due_by=start)
    if not asked:
        first = min(x.start for x in learners if x.start is not None)
        return Finding(
            rule.id, Status.DUE, Reason.of(m.ATTENDANCE_NOT_STARTED, start=first), due_by=first
        )
    if not facts.slots:
        if not any(x.activities > 0 for x in asked):
            return Finding(rule.id, Status.MISSING, Reason.of(m.ATTENDANCE_NONE, start=start))
        faults = [x.person_ref for x in asked if x.activities == 0]
        fault_text = m.DISTANCE_NO_TRACE
        slots = 0
    else:
        # Activity traces stand in for signatures only on distance actions: on a
        # face-to-face or blended one, a learner opening the course page proves
        # nothing about the classroom slots. Each learner is asked for the action's
        # slots from their start to the evaluation day, or to the end of their
        # enrolment. Learners who dropped out or are suspended stop signing: without
        # the day they left (the enrolment's end) they are not asked (the drop-out
        # follow-up rule covers them).
        remote = facts.action.modality is Modality.DISTANCE
        windows: dict[tuple[date | None, date], int] = {}
        faults = []
        for x in asked:
            if remote and x.activities > 0:
                continue
            left = x.enrolment_end
            if left is None and x.status in (DROPPED, "suspended"):
                continue
            last = as_of if left is None or left > as_of else left
            expected = windows.get((x.start, last))
            if expected is None:
                expected = windows[x.start, last] = facts.slots_between(x.start, last)
            if expected & ~x.attended:
                faults.append(x.person_ref)
        fault_text = m.ATTENDANCE_MISSING
        slots = facts.slot_count
        ids.extend(facts.slot_ids)
    return _learner_finding(
        rule,
        total=total,
        faults=faults,
        pending=[],
        ok=Reason.of(m.ATTENDANCE_OK, slots=slots, total=total),
        fault_reason=Reason.of(
            fault_text, n=len(faults), total=total, slots=slots, refs=name_refs(faults)
        ),
        due_text=fault_text,
        ids=ids,
    )


def dropout_followup(rule: Rule, facts: ActionFacts, as_of: date) -> Finding:
    params: DropoutParams = rule.params
    dropped = [x for x in facts.learners if x.status == DROPPED]
    if not dropped:  # nothing to follow up: the rule takes no part in the status
        return Finding(rule.id, Status.NOT_APPLICABLE, Reason.of(m.DROPOUT_NONE))

    def deadline(learner: LearnerFacts) -> date | None:
        # The drop-out day is the enrolment's end, else the action's end (or start).
        left = learner.end or facts.action.end_date or facts.action.start_date
        return _after(left, params.followup_days)

    faults, pending = _split(dropped, lambda x: x.followups > 0, deadline, as_of)
    return _learner_finding(
        rule,
        total=len(dropped),
        faults=faults,
        pending=pending,
        ok=Reason.of(m.DROPOUT_OK, n=len(dropped)),
        fault_reason=Reason.of(
            m.DROPOUT_MISSING, n=len(faults), total=len(dropped), refs=name_refs(faults)
        ),
        due_text=m.DROPOUT_DUE,
        ids=[x.followup_id for x in dropped],
    )


def _filled(value: Any) -> bool:
    return value not in (None, "", (), [])


def course_fields(rule: Rule, facts: ActionFacts, as_of: date) -> Finding:
    params: CourseFieldsParams = rule.params
    description = facts.description
    if description is None:
        return Finding(rule.id, Status.MISSING, Reason.of(m.DESCRIPTION_MISSING))
    missing = [f for f in params.fields if not _filled(description.get(f))]
    ids = facts.description_ids[:MAX_EVIDENCE_IDS]
    if not missing:
        return Finding(
            rule.id,
            Status.PROVEN,
            Reason(
                fr=m.DESCRIPTION_OK.render("fr", fields=m.field_labels(params.fields, "fr")),
                en=m.DESCRIPTION_OK.render("en", fields=m.field_labels(params.fields, "en")),
            ),
            evidence_ids=ids,
            evidence_count=len(facts.description_ids),
        )
    return Finding(
        rule.id,
        Status.PARTIAL,
        Reason(
            fr=m.DESCRIPTION_FIELDS.render("fr", fields=m.field_labels(missing, "fr")),
            en=m.DESCRIPTION_FIELDS.render("en", fields=m.field_labels(missing, "en")),
        ),
        at_fault=missing,
        evidence_ids=ids,
        evidence_count=len(facts.description_ids),
    )


def resources(rule: Rule, facts: ActionFacts, as_of: date) -> Finding:
    params: ResourcesParams = rule.params
    if facts.resources >= params.min_resources:
        return Finding(
            rule.id,
            Status.PROVEN,
            Reason.of(m.RESOURCES_OK, n=facts.resources),
            evidence_ids=facts.resource_ids,
            evidence_count=facts.resources,
        )
    return Finding(
        rule.id,
        Status.MISSING,
        Reason.of(m.RESOURCES_MISSING, n=facts.resources, min=params.min_resources),
    )


def distance_followed(rule: Rule, facts: ActionFacts, as_of: date) -> Finding:
    """Distance modules actually followed (19, rnq-2026).

    Per module when the platform tracks the completion of the action's distance
    resources (completion records name them): each learner completes at least
    ``min_module_share`` of the tracked modules by ``modules_due_days`` after their
    end. Otherwise per learner: activity traces or completions, within
    ``grace_days`` of the start (activity traces are not tied to modules: see
    docs/coverage.md).
    """
    params: DistanceParams = rule.params
    modality = facts.action.modality
    if modality not in (Modality.DISTANCE, Modality.BLENDED) and not facts.distance_resources:
        return Finding(rule.id, Status.NOT_APPLICABLE, Reason.of(m.DISTANCE_NOT_CONCERNED))
    learners = [x for x in facts.learners if x.status != DROPPED]
    if not facts.learners:
        if facts.tracked_modules:  # completion expected after the end
            return _no_learners(rule, facts, as_of, days=params.modules_due_days, from_end=True)
        return _no_learners(rule, facts, as_of, days=params.grace_days)
    if not learners:
        return _nobody_concerned(rule)
    if facts.tracked_modules:
        return _modules_followed(rule, facts, learners, as_of)
    faults, pending = _split(
        learners,
        lambda x: x.activities >= params.min_traces,
        lambda x: _after(x.start, params.grace_days),
        as_of,
    )
    total = len(learners)
    return _learner_finding(
        rule,
        total=total,
        faults=faults,
        pending=pending,
        ok=Reason.of(m.DISTANCE_TRACES_OK, total=total),
        fault_reason=Reason.of(
            m.DISTANCE_NO_TRACE, n=len(faults), total=total, refs=name_refs(faults)
        ),
        due_text=m.DISTANCE_DUE,
        ids=[x.activity_id or x.completion_id for x in learners],
    )


def _modules_followed(
    rule: Rule, facts: ActionFacts, learners: list[LearnerFacts], as_of: date
) -> Finding:
    params: DistanceParams = rule.params
    modules = facts.tracked_modules
    # A small tolerance so that 0.8 x 5 modules asks for 4, not 5.
    required = max(1, math.ceil(params.min_module_share * len(modules) - 1e-9))
    concerned = [x for x in learners if x.status != "suspended"]
    if not concerned:
        return _nobody_concerned(rule)
    faults: list[str] = []
    pending: list[tuple[str, date | None]] = []
    for learner in concerned:
        if len((learner.modules_completed or set()) & modules) >= required:
            continue
        deadline = _after(learner.end, params.modules_due_days)
        if not _finished(learner, as_of) or (deadline is not None and as_of <= deadline):
            pending.append((learner.person_ref, deadline))  # still in training, or in grace
        else:
            faults.append(learner.person_ref)
    total = len(concerned)
    values = {"modules": len(modules), "required": required}
    finding = _learner_finding(
        rule,
        total=total,
        faults=faults,
        pending=pending,
        ok=Reason.of(m.DISTANCE_OK, total=total).join(
            Reason.of(m.DISTANCE_MODULES_CHECKED, **values)
        ),
        fault_reason=Reason.of(
            m.DISTANCE_MODULES_MISSING,
            n=len(faults),
            total=total,
            refs=name_refs(faults),
            **values,
        ),
        due_text=m.DISTANCE_MODULES_DUE,
        ids=[x.module_id for x in concerned],
    )
    untracked = len(facts.distance_modules - modules)
    if untracked:
        finding.reason = finding.reason.join(Reason.of(m.DISTANCE_MODULES_UNTRACKED, n=untracked))
    return finding


def _stakeholder_concerned(
    stakeholder: str, action: TrainingAction, params: SatisfactionParams
) -> bool:
    """Whether indicator 30 asks this stakeholder's views on this action.

    Guide V9, indicator 30: learners always; for an action delivered as a
    subcontractor, "l'appréciation des bénéficiaires et de son donneur d'ordres",
    i.e. the learners and the client only (the client on no other action); skills
    assessments, the learners and the teaching team only; companies where they are
    concerned.
    """
    if stakeholder == "learner":
        return True
    if action.subcontracted:
        return stakeholder == "client"
    if stakeholder == "client":
        return False
    if stakeholder == "trainer":
        return True
    if action.category is ActionCategory.SKILLS_ASSESSMENT:
        return False
    if stakeholder == "employer":
        return (
            params.employer_on_every_action
            or action.category is ActionCategory.APPRENTICESHIP
            or action.in_company_periods
        )
    return True  # funder, when a tenant asks it per action


def _default_invited(stakeholder: str, facts: ActionFacts) -> int:
    """Who was asked when the survey does not say: the learners, or the trainers,
    enrolled; the client of a subcontracted action is one organisation."""
    if stakeholder == "learner":
        return len(facts.learners)
    if stakeholder == "trainer":
        return len(facts.trainers)
    if stakeholder == "client":
        return 1
    return 0


def satisfaction(rule: Rule, facts: ActionFacts, as_of: date) -> Finding:
    params: SatisfactionParams = rule.params
    action = facts.action
    end = action.end_date or action.start_date
    parts: list[Finding] = []
    for stakeholder in params.stakeholders:
        if not _stakeholder_concerned(stakeholder, action, params):
            continue
        timings = [("hot", params.hot_due_days)]
        if params.cold_required and stakeholder in params.cold_stakeholders:
            timings.append(("cold", params.cold_due_days))
        for timing, due_days in timings:
            surveys = [
                s for s in facts.surveys if s.timing == timing and s.stakeholder == stakeholder
            ]
            values = {
                "timing": m.TIMING_FR[timing],
                "stakeholder": m.STAKEHOLDER_FR[stakeholder],
            }
            en_values = {
                "timing": m.TIMING_EN[timing],
                "stakeholder": m.STAKEHOLDER_EN[stakeholder],
            }
            # Surveys follow the end: with no date at all, due at an unknown day.
            deadline = _after(end, due_days)
            in_time = deadline is None or as_of <= deadline
            if not surveys:
                text = m.SURVEY_DUE if in_time else m.SURVEY_MISSING
                status = Status.DUE if in_time else Status.MISSING
                parts.append(
                    Finding(
                        rule.id,
                        status,
                        Reason(
                            fr=text.render("fr", due=deadline or m.UNKNOWN_DUE_FR, **values),
                            en=text.render("en", due=deadline or m.UNKNOWN_DUE_EN, **en_values),
                        ),
                        at_fault=[f"{timing}:{stakeholder}"] if status is Status.MISSING else [],
                        due_by=deadline if status is Status.DUE else None,
                    )
                )
                continue
            parts.append(
                _survey_finding(
                    rule,
                    surveys,
                    invited=sum(s.invited or 0 for s in surveys)
                    or _default_invited(stakeholder, facts),
                    deadline=deadline,
                    in_time=in_time,
                    values=values,
                    en_values=en_values,
                )
            )
    return _merge(rule, parts)


def _survey_finding(
    rule: Rule,
    surveys: list[Any],
    *,
    invited: int,
    deadline: date | None,
    in_time: bool,
    values: dict[str, Any],
    en_values: dict[str, Any],
) -> Finding:
    """One stakeholder's surveys at one timing: enough answers, or not (yet).

    Before the survey's deadline a low or unknown response rate is ``due`` (the
    campaign can still be reminded or its invited count declared); after it,
    ``partial``. Without an invited count the rate is unknown: proven only with
    at least ``min_responses_without_invited`` answers when a tenant sets it.
    """
    params: SatisfactionParams = rule.params
    answered = sum(s.responses for s in surveys)
    due = {"due": deadline or m.UNKNOWN_DUE_FR}
    due_en = {"due": deadline or m.UNKNOWN_DUE_EN}
    ids = [s.evidence_id for s in surveys]
    if invited:
        rate = answered / invited
        numbers: dict[str, Any] = {
            "responses": answered,
            "invited": invited,
            "rate": round(100 * rate),
            "threshold": round(100 * params.min_response_rate),
        }
        if rate >= params.min_response_rate:
            status, text = Status.PROVEN, m.SURVEY_OK
        elif in_time:
            status, text = Status.DUE, m.SURVEY_LOW_DUE
        else:
            status, text = Status.PARTIAL, m.SURVEY_LOW
    else:
        enough = params.min_responses_without_invited
        numbers = {"responses": answered, "min": enough}
        if enough is not None and answered >= enough:
            status, text = Status.PROVEN, m.SURVEY_OK_UNKNOWN_INVITED
        elif in_time:
            status, text = Status.DUE, m.SURVEY_RATE_UNKNOWN_DUE
        else:
            status, text = Status.PARTIAL, m.SURVEY_RATE_UNKNOWN
    return Finding(
        rule.id,
        status,
        Reason(
            fr=text.render("fr", **values, **numbers, **due),
            en=text.render("en", **en_values, **numbers, **due_en),
        ),
        at_fault=[s.survey_ref for s in surveys] if status is Status.PARTIAL else [],
        evidence_ids=_ids(ids),
        evidence_count=len(surveys),
        due_by=deadline if status is Status.DUE else None,
    )


def _merge(rule: Rule, parts: list[Finding]) -> Finding:
    """One finding from the stakeholders' and timings' parts of indicator 30.

    Combined across them (:func:`combine_across`): guide V9, indicator 30, the
    views of one stakeholder not sought is a minor non-conformity, so a survey
    missing next to others answered is ``partial``.
    """
    status = combine_across(p.status for p in parts)
    reason = Reason("", "")
    shown = [p for p in parts if p.status is not Status.PROVEN] or parts
    for part in shown:
        reason = reason.join(part.reason)
    dues = [p.due_by for p in parts if p.due_by is not None]
    return Finding(
        rule.id,
        status,
        reason,
        at_fault=[f for p in parts for f in p.at_fault],
        evidence_ids=_ids([i for p in parts for i in p.evidence_ids]),
        evidence_count=sum(p.evidence_count for p in parts),
        due_by=min(dues) if dues else None,
    )


# ---------------------------------------------------------------------------
# Organisation-level checks
# ---------------------------------------------------------------------------


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _active_trainers(facts: TenantFacts, as_of: date, window_days: int) -> dict[str, set[str]]:
    """Trainer -> domains of the active actions they are enrolled on."""
    since = as_of - timedelta(days=window_days)
    found: dict[str, set[str]] = {}
    for action_facts in facts.actions.values():
        action = action_facts.action
        if action.end_date is not None and action.end_date < since:
            continue
        for trainer in action_facts.trainers:
            found.setdefault(trainer, set()).update(action.domains)
    return found


def _matching(domains: set[str], qualifications: list[Qualification]) -> list[Qualification]:
    """The qualifications and experiences related to what the trainer teaches
    (all of them when the actions name no domain)."""
    if not domains:
        return list(qualifications)
    wanted = {_fold(d) for d in domains}
    found = []
    for item in qualifications:
        haystack = [_fold(item.title), *(_fold(q) for q in item.domains)]
        if any(
            keyword in text or (text and text in keyword) for keyword in wanted for text in haystack
        ):
            found.append(item)
    return found


def trainer_competence(rule: Rule, facts: TenantFacts, as_of: date) -> Finding:
    params: TrainerCompetenceParams = rule.params
    trainers = _active_trainers(facts, as_of, params.active_window_days)
    if not trainers:
        return Finding(rule.id, Status.MISSING, Reason.of(m.NO_TRAINERS))
    oldest = _months_before(as_of, params.max_cv_age_months)
    details_fr: list[str] = []
    details_en: list[str] = []
    faults: list[str] = []
    ids: list[int | None] = []
    for ref in sorted(trainers):
        file = facts.trainers.get(ref)
        problems: list[tuple[Text, dict[str, Any]]] = []
        cv_dates = file.cv_dates if file else []
        ids.extend(i for _, i in cv_dates)
        if not cv_dates:
            problems.append((m.TRAINER_NO_CV, {}))
        elif not any(d is not None and d >= oldest for d, _ in cv_dates):
            problems.append((m.TRAINER_OLD_CV, {"months": params.max_cv_age_months}))
        qualifications = file.qualifications if file else []
        ids.extend(q.evidence_id for q in qualifications)
        domains = trainers[ref] if params.require_domain_match else set()
        matching = _matching(domains, qualifications)
        named = ", ".join(sorted(domains))
        if not matching:
            text = m.TRAINER_NO_MATCH if named else m.TRAINER_NO_QUALIFICATION
            problems.append((text, {"domains": named}))
        elif params.require_dated_qualification and not any(
            q.dated is not None and q.dated <= as_of for q in matching
        ):
            text = m.TRAINER_UNDATED_MATCH if named else m.TRAINER_UNDATED
            problems.append((text, {"domains": named}))
        if problems:
            faults.append(ref)
            for language, details in (("fr", details_fr), ("en", details_en)):
                listed = ", ".join(t.render(language, **v) for t, v in problems)
                details.append(m.TRAINER_PROBLEMS.render(language, ref=ref, problems=listed))
    total = len(trainers)
    if not faults:
        return Finding(
            rule.id,
            Status.PROVEN,
            Reason.of(m.TRAINERS_OK, total=total),
            evidence_ids=_ids(ids),
            evidence_count=len(ids),
        )
    return Finding(
        rule.id,
        Status.MISSING if len(faults) == total else Status.PARTIAL,
        Reason(
            fr=m.TRAINERS_FAULT.render(
                "fr", n=len(faults), total=total, details=" ; ".join(details_fr)
            ),
            en=m.TRAINERS_FAULT.render(
                "en", n=len(faults), total=total, details="; ".join(details_en)
            ),
        ),
        at_fault=faults,
        evidence_ids=_ids(ids),
        evidence_count=len(ids),
    )


def trainer_cpd(rule: Rule, facts: TenantFacts, as_of: date) -> Finding:
    params: TrainerCpdParams = rule.params
    trainers = _active_trainers(facts, as_of, params.active_window_days)
    if not trainers:
        return Finding(rule.id, Status.MISSING, Reason.of(m.NO_TRAINERS))
    since = _months_before(as_of, params.window_months)
    faults: list[str] = []
    ids: list[int | None] = []
    for ref in sorted(trainers):
        file = facts.trainers.get(ref)
        recent = [i for d, i in (file.cpd if file else []) if d is not None and since <= d <= as_of]
        ids.extend(recent)
        if not recent:
            faults.append(ref)
    total = len(trainers)
    if not faults:
        return Finding(
            rule.id,
            Status.PROVEN,
            Reason.of(m.CPD_OK, total=total, months=params.window_months),
            evidence_ids=_ids(ids),
            evidence_count=len(ids),
        )
    return Finding(
        rule.id,
        Status.MISSING if len(faults) == total else Status.PARTIAL,
        Reason.of(
            m.CPD_FAULT,
            n=len(faults),
            total=total,
            months=params.window_months,
            refs=name_refs(faults),
        ),
        at_fault=faults,
        evidence_ids=_ids(ids),
        evidence_count=len(ids),
    )


_COUNT_KEYS = ("learners", "completed", "dropped_out", "assessed", "passed", "ratings")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def result_rates(rule: Rule, facts: TenantFacts, as_of: date) -> Finding:
    """Indicator 2: completion, drop-out, success and satisfaction rates, per action and year."""
    per_action: dict[str, dict[str, Any]] = {}
    per_year: dict[int, dict[str, Any]] = {}
    ended: list[str] = []
    empty: list[str] = []
    upcoming: list[date] = []
    ids: list[int | None] = []
    # Guide V9, indicator 2: an action delivered as a subcontractor is published by
    # the client (donneur d'ordres), not in the subcontractor's result indicators.
    subcontracted = sorted(ref for ref, a in facts.actions.items() if a.action.subcontracted)
    for ref, action_facts in sorted(facts.actions.items()):
        action = action_facts.action
        if action.subcontracted:
            continue
        if action.end_date is None or action.end_date > as_of:
            if action.end_date is not None:
                upcoming.append(action.end_date)
            continue
        learners = action_facts.learners
        ended.append(ref)
        if not learners:
            empty.append(ref)
            continue
        counts = {
            "learners": len(learners),
            "completed": sum(1 for x in learners if x.status == FINISHED or x.completed),
            "dropped_out": sum(1 for x in learners if x.status == DROPPED),
            "assessed": sum(1 for x in learners if x.finals),
            "passed": sum(1 for x in learners if x.finals_passed),
            "rating_sum": action_facts.rating_sum,
            "ratings": action_facts.rating_count,
        }
        ids.append(action_facts.evidence_id)
        per_action[ref] = _rates(counts)
        year = per_year.setdefault(
            action.end_date.year,
            dict.fromkeys(_COUNT_KEYS, 0) | {"rating_sum": 0.0, "actions": 0},
        )
        for key, value in counts.items():
            year[key] += value
        year["actions"] += 1
    if not facts.actions:
        return Finding(rule.id, Status.MISSING, Reason.of(m.NO_ACTIONS))
    if len(subcontracted) == len(facts.actions):
        return Finding(rule.id, Status.NOT_APPLICABLE, Reason.of(m.RATES_ONLY_SUBCONTRACTED))
    left_out = (
        Reason.of(m.RATES_SUBCONTRACTED, n=len(subcontracted), refs=name_refs(subcontracted))
        if subcontracted
        else Reason("", "")
    )
    metrics = {
        "per_action": per_action,
        "per_year": {str(y): _rates(v) | {"actions": v["actions"]} for y, v in per_year.items()},
    }
    if not ended:
        due = min(upcoming) if upcoming else None
        return Finding(
            rule.id,
            Status.DUE,
            Reason.of(m.RATES_DUE if due else m.RATES_DUE_UNDATED, due=due).join(left_out),
            due_by=due,
            metrics=metrics,
        )
    if empty:
        status = Status.MISSING if len(empty) == len(ended) else Status.PARTIAL
        return Finding(
            rule.id,
            status,
            Reason.of(m.RATES_NO_LEARNERS, refs=name_refs(empty)).join(left_out),
            at_fault=empty,
            evidence_ids=_ids(ids),
            evidence_count=len(ids),
            metrics=metrics,
        )
    return Finding(
        rule.id,
        Status.PROVEN,
        Reason.of(m.RATES_OK, n=len(ended)).join(left_out),
        evidence_ids=_ids(ids),
        evidence_count=len(ids),
        metrics=metrics,
    )


def _rates(counts: dict[str, Any]) -> dict[str, Any]:
    learners = int(counts["learners"])
    ratings = int(counts["ratings"])
    return {
        "learners": learners,
        "completion_rate": _rate(int(counts["completed"]), learners),
        "dropout_rate": _rate(int(counts["dropped_out"]), learners),
        "success_rate": _rate(int(counts["passed"]), int(counts["assessed"])),
        "satisfaction_rate": round(float(counts["rating_sum"]) / ratings, 4) if ratings else None,
    }


def _for_action(proof: ManualProofFacts, indicator: int, action_ref: str | None) -> bool:
    return proof.proof.indicator == indicator and (
        proof.proof.action_ref is None or proof.proof.action_ref == action_ref
    )


def manual_proof(
    rule: Rule,
    indicator: int,
    proofs: list[ManualProofFacts],
    action_ref: str | None,
    as_of: date,
    component: str | None = None,
    *,
    untagged: bool = False,
) -> Finding:
    """Manual proofs: organisation-wide ones count for every action.

    Only the proofs of ``component`` count: None (the indicator's main manual
    part) takes the proofs without a component, a key those that carry it (and,
    with ``untagged``, those without one: the indicator's only manual part).
    """
    params: ManualParams | ManualComponentParams = rule.params
    relevant = [
        p
        for p in proofs
        if (p.proof.component == component or (untagged and p.proof.component is None))
        and _for_action(p, indicator, action_ref)
        and p.proof.dated <= as_of
    ]
    valid = [p for p in relevant if p.proof.valid_until is None or p.proof.valid_until >= as_of]
    if valid:
        best = max(valid, key=lambda p: p.proof.valid_until or date.max)
        until = best.proof.valid_until
        due = (
            until
            if until is not None and until <= as_of + timedelta(params.due_soon_days)
            else None
        )
        return Finding(
            rule.id,
            Status.PROVEN,
            Reason.of(
                m.MANUAL_OK if until is not None else m.MANUAL_OK_OPEN,
                title=best.proof.title,
                dated=best.proof.dated,
                until=until,
            ),
            evidence_ids=_ids([p.evidence_id for p in valid]),
            evidence_count=len(valid),
            due_by=due,
        )
    if relevant:
        last = max(relevant, key=lambda p: p.proof.valid_until or date.min)
        return Finding(
            rule.id,
            Status.MANUAL,
            Reason.of(m.MANUAL_EXPIRED, title=last.proof.title, until=last.proof.valid_until),
            at_fault=[f"manual_proof:{last.evidence_id}"],
            evidence_ids=[last.evidence_id],
            evidence_count=0,
        )
    reason = Reason.of(m.MANUAL_NEEDED)
    if component is None:
        # Proofs of another part of the indicator do not count here: say so.
        others = sorted(
            {
                p.proof.component
                for p in proofs
                if p.proof.component is not None and _for_action(p, indicator, action_ref)
            }
        )
        if others:
            reason = reason.join(
                Reason.of(m.MANUAL_OTHER_COMPONENTS, n=len(others), keys=", ".join(others))
            )
    return Finding(rule.id, Status.MANUAL, reason)


# Rendered once: a component's label is named in every finding of its rule.
_COMPONENT_LABELS = {key: (t.render("fr"), t.render("en")) for key, t in m.COMPONENTS.items()}


def _label(params: ManualComponentParams) -> tuple[str, str]:
    """The component's label; a "le cas échéant" part has its own when one exists
    (``funder_feedback_if_any``: rnq-2026's funders)."""
    if params.if_any and f"{params.component}_if_any" in _COMPONENT_LABELS:
        return _COMPONENT_LABELS[f"{params.component}_if_any"]
    return _COMPONENT_LABELS[params.component]


def _component(
    rule: Rule,
    proofs: dict[int, list[ManualProofFacts]],
    action_ref: str | None,
    as_of: date,
    untagged: bool,
) -> Finding:
    """A part of an indicator only a document proves, named in every reason.

    Only the proofs whose ``component`` is the rule's count (docs/coverage.md,
    "Manual proofs"), and with ``untagged`` (the indicator's only manual part)
    those without a component too; otherwise the proofs of the indicator without
    a component are named when none counts, since they may be meant for it.
    """
    params: ManualComponentParams = rule.params
    indicator = rule.indicators[0]
    mine = proofs.get(indicator, [])
    found = manual_proof(
        rule, indicator, mine, action_ref, as_of, component=params.component, untagged=untagged
    )
    what_fr, what_en = _label(params)
    if found.status is Status.MANUAL and not found.at_fault:  # no proof at all
        found.reason = Reason(
            fr=m.COMPONENT_NEEDED.render("fr", what=what_fr),
            en=m.COMPONENT_NEEDED.render("en", what=what_en),
        )
        without_component = [
            p
            for p in mine
            if p.proof.component is None
            and _for_action(p, indicator, action_ref)
            and p.proof.dated <= as_of
        ]
        if without_component:
            found.reason = found.reason.join(
                Reason.of(
                    m.COMPONENT_UNTAGGED,
                    n=len(without_component),
                    indicator=indicator,
                    key=params.component,
                )
            )
    else:  # proven, or expired
        found.reason = Reason(
            fr=m.COMPONENT_DONE.render("fr", what=what_fr, detail=found.reason.fr),
            en=m.COMPONENT_DONE.render("en", what=what_en, detail=found.reason.en),
        )
    return found


def manual_component_action(
    rule: Rule, facts: ActionFacts, as_of: date, *, untagged: bool = False
) -> Finding:
    """An action-level manual component; an organisation-wide proof counts for every action.

    ``untagged``: the indicator's only manual part, for which a proof without a
    component counts too (see :func:`_component`).
    """
    params: ManualComponentParams = rule.params
    if params.component == "pedagogical_referent" and len(facts.trainers) < params.min_trainers:
        return Finding(
            rule.id,
            Status.NOT_APPLICABLE,
            Reason.of(m.REFERENT_NOT_REQUIRED, n=len(facts.trainers), min=params.min_trainers),
        )
    return _component(rule, facts.manual_proofs, facts.action.action_ref, as_of, untagged)


def manual_component_organisation(
    rule: Rule, facts: TenantFacts, as_of: date, *, untagged: bool = False
) -> Finding:
    params: ManualComponentParams = rule.params
    if not params.required:
        what_fr, what_en = _label(params)
        return Finding(
            rule.id,
            Status.NOT_APPLICABLE,
            Reason(
                fr=m.COMPONENT_WAIVED.render("fr", what=what_fr),
                en=m.COMPONENT_WAIVED.render("en", what=what_en),
            ),
        )
    actions = [a.action for a in facts.actions.values()]
    if (
        params.component == "funder_feedback"
        and actions
        and all(a.subcontracted or a.category is ActionCategory.SKILLS_ASSESSMENT for a in actions)
    ):
        # Guide V9, indicator 30: a skills assessment asks the beneficiaries and the
        # teaching team only; a subcontracted action, the beneficiaries and the client.
        return Finding(rule.id, Status.NOT_APPLICABLE, Reason.of(m.FUNDERS_NOT_CONCERNED))
    return _component(rule, facts.manual_proofs, None, as_of, untagged)


ActionCheck = Callable[[Rule, ActionFacts, date], Finding]
OrganisationCheck = Callable[[Rule, TenantFacts, date], Finding]

ACTION_CHECKS: dict[str, ActionCheck] = {
    "course_fields": course_fields,
    "entry_positioning": entry_positioning,
    "attendance": attendance,
    "final_assessment": final_assessment,
    "dropout_followup": dropout_followup,
    "resources": resources,
    "distance_followed": distance_followed,
    "satisfaction": satisfaction,
    "manual_component": manual_component_action,
}
ORGANISATION_CHECKS: dict[str, OrganisationCheck] = {
    "trainer_competence": trainer_competence,
    "trainer_cpd": trainer_cpd,
    "result_rates": result_rates,
    "manual_component": manual_component_organisation,
}
