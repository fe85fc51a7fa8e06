"""What the rules need from the store, aggregated in SQL.

Heavy kinds (attendance, activity, assessment, completion, responses...) are
grouped per (action, learner) by the database; only the groups come back, never
the rows. Small kinds (training actions, course descriptions, trainer files,
manual proofs) are read as rows, with only the fields the rules use. Each query
targets a few kinds through an index on ``(tenant, kind, action_ref, ...)``, so
the whole evaluation reads the evidence table about once. Withdrawn rows never
count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from preuve.constants import PARIS_TZ
from preuve.evidence.model import (
    TRAINER_ROLES,
    Assessment,
    CompletionState,
    ContinuingDevelopment,
    CourseDescription,
    ManualProof,
    TrainerCv,
    TrainerExperience,
    TrainerQualification,
    TrainingAction,
)
from preuve.store.schema import evidence

# The organisations are French: an evaluation "as of" a day means that day in Paris.
EVALUATION_ZONE = ZoneInfo(PARIS_TZ)

_payload = evidence.c.payload
_TRAINER_ROLE_VALUES = tuple(r.value for r in TRAINER_ROLES)
# Completions of one activity (not of the whole action), whatever their state.
_MODULE_FACETS = tuple(f"activity:{state.value}" for state in CompletionState)


def _field(name: str) -> ColumnElement[str]:
    value: ColumnElement[str] = _payload[name].as_string()
    return value


def _base(tenant: str, *kinds: str) -> ColumnElement[bool]:
    kind_filter = evidence.c.kind == kinds[0] if len(kinds) == 1 else evidence.c.kind.in_(kinds)
    return and_(evidence.c.tenant == tenant, kind_filter, evidence.c.withdrawn.is_(False))


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@dataclass(slots=True)
class LearnerFacts:
    """One learner on one action, with the counts the rules need."""

    action_ref: str
    person_ref: str
    status: str
    start: date | None
    end: date | None
    enrolment_id: int
    # The enrolment's own end date (``end`` falls back on the action's): the day a
    # learner who dropped out or is suspended left, when known.
    enrolment_end: date | None = None
    positioning_at: date | None = None
    positioning_id: int | None = None
    finals: int = 0
    finals_passed: int = 0
    final_id: int | None = None
    # The action's slots (bits of ActionFacts.slot_bits) this learner attended:
    # records other than "absent", one bit per half-day whatever the number of records.
    attended: int = 0
    attendance_id: int | None = None
    activities: int = 0
    activity_id: int | None = None
    completed: bool = False
    completion_id: int | None = None
    followups: int = 0
    followup_id: int | None = None
    # Distance modules of the action (resource refs) this learner completed; None: none.
    modules_completed: set[str] | None = None
    module_id: int | None = None


@dataclass(slots=True)
class SurveyFacts:
    survey_ref: str
    timing: str
    stakeholder: str
    invited: int | None
    responses: int
    evidence_id: int


@dataclass(slots=True)
class ActionFacts:
    action: TrainingAction
    evidence_id: int
    learners: list[LearnerFacts] = field(default_factory=list)
    trainers: list[str] = field(default_factory=list)
    # Every half-day slot seen on the action ("YYYY-MM-DD" + "am"/"pm") and its bit
    # in the masks below: those of its declared ``slot`` records, and those some
    # enrolled learner has an attendance record for (absences included).
    slot_bits: dict[str, int] = field(default_factory=dict)
    declared_slots: int = 0
    recorded_slots: int = 0
    slot_ids: list[int] = field(default_factory=list)
    description: dict[str, Any] | None = None
    description_ids: list[int] = field(default_factory=list)
    resources: int = 0
    distance_resources: int = 0
    resource_ids: list[int] = field(default_factory=list)
    # The refs of the action's distance resources (its distance modules), and those
    # of them some completion record names (the platform tracks their completion).
    distance_modules: set[str] = field(default_factory=set)
    tracked_modules: set[str] = field(default_factory=set)
    surveys: list[SurveyFacts] = field(default_factory=list)
    rating_sum: float = 0.0
    rating_count: int = 0
    # The tenant's manual proofs by indicator (the same mapping as TenantFacts'), for
    # the manual parts of action-level indicators.
    manual_proofs: dict[int, list[ManualProofFacts]] = field(default_factory=dict)

    @property
    def slots(self) -> int:
        """The action's slots up to ``as_of``: declared ones, else those implied by
        the attendance records of its enrolled learners."""
        return self.declared_slots or self.recorded_slots

    @property
    def slot_count(self) -> int:
        return self.slots.bit_count()

    def slot_mask(self, keys: Iterable[str]) -> int:
        """The bits of these slot keys, new slots getting the next free bits."""
        bits = self.slot_bits
        mask = 0
        for key in keys:
            bit = bits.get(key)
            if bit is None:
                bit = bits[key] = 1 << len(bits)
            mask |= bit
        return mask

    def slots_between(self, first: date | None, last: date | None) -> int:
        """The action's slots from ``first`` to ``last`` (inclusive; None: open)."""
        low = first.isoformat() if first is not None else ""
        high = last.isoformat() if last is not None else "~"
        window = 0
        for key, bit in self.slot_bits.items():
            if low <= key[:10] <= high:
                window |= bit
        return window & self.slots


@dataclass(slots=True, frozen=True)
class Qualification:
    """A qualification or a professional experience, as indicator 21 weighs it."""

    title: str
    domains: tuple[str, ...]
    # When it was obtained (qualification) or last held (experience); None: undated.
    dated: date | None
    evidence_id: int


@dataclass(slots=True)
class TrainerFile:
    person_ref: str
    cv_dates: list[tuple[date | None, int]] = field(default_factory=list)
    qualifications: list[Qualification] = field(default_factory=list)
    cpd: list[tuple[date | None, int]] = field(default_factory=list)


@dataclass(slots=True)
class ManualProofFacts:
    evidence_id: int
    proof: ManualProof


@dataclass(slots=True)
class TenantFacts:
    actions: dict[str, ActionFacts]
    trainers: dict[str, TrainerFile]
    # By indicator: every action looks its proofs up, so no scan of them all per action.
    manual_proofs: dict[int, list[ManualProofFacts]]
    problems: list[str] = field(default_factory=list)


def _problem(kind: str, row_id: int, exc: ValidationError) -> str:
    """Names the record and field, never the value (it may be personal data)."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(payload)"
    return f"{kind} #{row_id} field {where}: {first['msg']}"


def _statements(tenant: str, as_of: date, final_kinds: tuple[str, ...]) -> dict[str, Select[Any]]:
    """Every query of an evaluation; independent, so they can run concurrently.

    Events (assessments, attendance, traces, follow-ups, surveys) dated after
    ``as_of`` do not count yet, so an evaluation "as of" a past day sees what
    was there that day. Undated rows count: their date is unknown, not late.
    Descriptions, resources and enrolments are current state and are not cut.
    """
    # The evaluation day is a French calendar day: it ends at midnight in Paris.
    until = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=EVALUATION_ZONE)
    by_as_of = or_(evidence.c.effective_at.is_(None), evidence.c.effective_at < until)
    day = _field("day")
    # A half-day slot: "YYYY-MM-DD" + "am"/"pm" (a slot record's or an attendance's).
    slot_key = day + _field("half")
    survey_ref = _field("survey_ref")
    per_learner = (evidence.c.action_ref, evidence.c.person_ref)
    facet = evidence.c.facet  # see EvidenceRecord.facet: read from the coverage index
    positioning = facet.in_(Assessment.facets_of("entry_positioning"))
    final = facet.in_([f for k in final_kinds for f in Assessment.facets_of(k)])
    final_passed = facet.in_(
        [f for k in final_kinds for f in Assessment.facets_of(k, passed_only=True)]
    )
    distance = _payload["distance"].as_boolean()
    rating = _payload["rating"].as_float()
    module_ref = _field("activity_ref")
    distance_actions = select(evidence.c.action_ref).where(
        _base(tenant, "learning_resource"), distance.is_(True)
    )
    return {
        "actions": select(evidence.c.id, evidence.c.payload)
        .where(_base(tenant, "training_action"))
        .order_by(evidence.c.id),
        "descriptions": select(evidence.c.id, evidence.c.action_ref, evidence.c.payload)
        .where(_base(tenant, "course_description"))
        .order_by(evidence.c.id),
        "enrolments": select(
            evidence.c.id,
            evidence.c.action_ref,
            evidence.c.person_ref,
            _field("role"),
            _field("status"),
            _field("start_date"),
            _field("end_date"),
        )
        .where(_base(tenant, "enrolment"))
        .order_by(evidence.c.id),
        # One row per learner: the facet "<assessment kind>:<result>" says which
        # assessments position the learner, which are final and which were passed.
        "assessments": select(
            *per_learner,
            # Raw value, not UtcDateTime: only its (UTC) day is used, and converting
            # every group's datetime costs more than the query on SQLite.
            type_coerce(func.min(case((positioning, evidence.c.effective_at))), String),
            func.min(case((positioning, evidence.c.id))),
            func.sum(case((final, 1), else_=0)),
            func.sum(case((final_passed, 1), else_=0)),
            func.min(case((final, evidence.c.id))),
        )
        .where(_base(tenant, "assessment"), by_as_of)
        .group_by(*per_learner),
        # One row per learner, from the covering index alone: the facets of the
        # records, "<status>:<YYYY-MM-DD><am|pm>", so that two records of one slot
        # (two sources) count once. Every record marks a slot (implied slots); an
        # "absent" one proves no attendance.
        "attendance": select(
            *per_learner,
            func.aggregate_strings(facet, ","),
            func.min(evidence.c.id),
        )
        .where(_base(tenant, "attendance"), by_as_of)
        .group_by(*per_learner),
        "slots": select(
            evidence.c.action_ref,
            func.aggregate_strings(slot_key, ","),
            func.min(evidence.c.id),
        )
        .where(_base(tenant, "slot"), day <= as_of.isoformat())
        .group_by(evidence.c.action_ref),
        "activity": select(*per_learner, func.count(), func.min(evidence.c.id))
        .where(_base(tenant, "activity"), by_as_of)
        .group_by(*per_learner),
        "completion": select(
            *per_learner,
            func.sum(case((facet == "action:completed", 1), else_=0)),
            func.count(),
            func.min(evidence.c.id),
        )
        .where(_base(tenant, "completion"), by_as_of)
        .group_by(*per_learner),
        "followups": select(*per_learner, func.count(), func.min(evidence.c.id))
        .where(_base(tenant, "support_interaction"), by_as_of, facet == "dropout_followup")
        .group_by(*per_learner),
        "resources": select(
            evidence.c.action_ref,
            func.count(),
            func.sum(case((distance.is_(True), 1), else_=0)),
            func.min(evidence.c.id),
        )
        .where(_base(tenant, "learning_resource"))
        .group_by(evidence.c.action_ref),
        "distance_modules": select(evidence.c.action_ref, _field("resource_ref")).where(
            _base(tenant, "learning_resource"), distance.is_(True)
        ),
        # Per-module completions, only on actions that declare distance resources: the
        # facet picks the activity-level completions from the coverage index, so the
        # JSON activity_ref is read for those rows alone (never for activity traces).
        "module_completions": select(
            *per_learner,
            module_ref,
            func.max(case((facet == "activity:completed", 1), else_=0)),
            func.min(evidence.c.id),
        )
        .where(
            _base(tenant, "completion"),
            by_as_of,
            facet.in_(_MODULE_FACETS),
            evidence.c.action_ref.in_(distance_actions),
        )
        .group_by(*per_learner, module_ref),
        "responses": select(
            evidence.c.action_ref, survey_ref, func.count(), func.sum(rating), func.count(rating)
        )
        .where(_base(tenant, "satisfaction_response"), by_as_of)
        .group_by(evidence.c.action_ref, survey_ref),
        "surveys": select(
            evidence.c.id,
            evidence.c.action_ref,
            survey_ref,
            _field("timing"),
            _field("stakeholder"),
            _payload["invited_count"].as_integer(),
            _payload["response_count"].as_integer(),
        ).where(_base(tenant, "satisfaction_survey"), by_as_of),
        "trainer_files": select(
            evidence.c.id, evidence.c.kind, evidence.c.effective_at, evidence.c.payload
        )
        .where(
            _base(
                tenant, "trainer_cv", "trainer_qualification", "trainer_experience", "trainer_cpd"
            )
        )
        .order_by(evidence.c.id),
        "manual_proofs": select(evidence.c.id, evidence.c.payload)
        .where(_base(tenant, "manual_proof"))
        .order_by(evidence.c.id),
    }


Rows = Sequence[Any]  # rows of a result, unpacked positionally
Learners = dict[tuple[str, str], LearnerFacts]


def _apply_actions(rows: Rows, facts: TenantFacts) -> None:
    for row_id, payload in rows:
        try:
            action = TrainingAction.model_validate(payload)
        except ValidationError as exc:
            facts.problems.append(_problem("training_action", row_id, exc))
            continue
        facts.actions[action.action_ref] = ActionFacts(
            action=action, evidence_id=row_id, manual_proofs=facts.manual_proofs
        )


def _apply_descriptions(rows: Rows, facts: TenantFacts) -> None:
    for row_id, action_ref, payload in rows:
        target = facts.actions.get(action_ref)
        if target is None:
            continue
        try:
            description = CourseDescription.model_validate(payload)
        except ValidationError as exc:
            facts.problems.append(_problem("course_description", row_id, exc))
            continue
        merged = dict(target.description or {})
        for key, value in description.model_dump(exclude_none=True).items():
            if value not in ((), "", None):
                merged[key] = value  # several sources: a field given by any counts
        target.description = merged
        target.description_ids.append(row_id)


def _apply_enrolments(rows: Rows, facts: TenantFacts) -> Learners:
    learners: Learners = {}
    for row_id, action_ref, person_ref, role_value, status, start, end in rows:
        target = facts.actions.get(action_ref)
        if target is None or person_ref is None:
            continue
        if role_value in _TRAINER_ROLE_VALUES:
            if person_ref not in target.trainers:
                target.trainers.append(person_ref)
            continue
        if role_value not in (None, "learner"):
            continue
        learner = LearnerFacts(
            action_ref=action_ref,
            person_ref=person_ref,
            status=status or "active",
            start=_date(start) or target.action.start_date,
            end=_date(end) or target.action.end_date,
            enrolment_id=row_id,
            enrolment_end=_date(end),
        )
        key = (action_ref, person_ref)
        if key not in learners:
            target.learners.append(learner)
        else:
            target.learners[target.learners.index(learners[key])] = learner
        learners[key] = learner
    return learners


def _apply_assessments(rows: Rows, learners: Learners) -> None:
    for action_ref, person_ref, positioned_at, positioning_id, finals, passed, final_id in rows:
        learner = learners.get((action_ref, person_ref))
        if learner is None:
            continue
        learner.positioning_at = _date(positioned_at)
        learner.positioning_id = positioning_id
        learner.finals = int(finals or 0)
        learner.finals_passed = int(passed or 0)
        learner.final_id = final_id


def _apply_attendance(rows: Rows, slots: Rows, facts: TenantFacts, learners: Learners) -> None:
    """An action's slots are its declared ``slot`` records, or else the slots its
    enrolled learners have a record for (absences included): a trainer's records or
    those of someone not enrolled imply none. A learner's attended slots leave the
    absences out. Slots are half-days, so duplicate records of one count once."""
    # Learners of one action usually share their records' pattern: parse it once.
    masks: dict[tuple[str, str], tuple[int, int]] = {}
    for action_ref, person_ref, facets, first_id in rows:
        learner = learners.get((action_ref, person_ref))
        if learner is None or not facets:
            continue
        target = facts.actions[action_ref]  # a learner's action is known
        found = masks.get((action_ref, facets))
        if found is None:
            recorded: list[str] = []
            attended: list[str] = []
            for item in facets.split(","):
                status, _, key = item.partition(":")
                recorded.append(key)
                if status != "absent":
                    attended.append(key)
            found = masks[action_ref, facets] = (
                target.slot_mask(recorded),
                target.slot_mask(attended),
            )
        target.recorded_slots |= found[0]
        learner.attended |= found[1]
        if learner.attendance_id is None or first_id < learner.attendance_id:
            learner.attendance_id = first_id
    for action_ref, keys, first_id in slots:
        declared = facts.actions.get(action_ref)
        if declared is not None and keys:
            declared.declared_slots |= declared.slot_mask(keys.split(","))  # they win
            declared.slot_ids.append(first_id)


def _apply_activity(activity: Rows, completion: Rows, learners: Learners) -> None:
    for action_ref, person_ref, count, first_id in activity:
        learner = learners.get((action_ref, person_ref))
        if learner is not None:
            learner.activities = count
            learner.activity_id = first_id
    for action_ref, person_ref, whole_done, count, first_id in completion:
        learner = learners.get((action_ref, person_ref))
        if learner is not None:
            learner.completed = bool(whole_done)
            learner.activities += count  # module completions are traces of activity too
            learner.completion_id = first_id


def _apply_followups(rows: Rows, learners: Learners) -> None:
    for action_ref, person_ref, count, first_id in rows:
        learner = learners.get((action_ref, person_ref))
        if learner is not None:
            learner.followups = count
            learner.followup_id = first_id


def _apply_resources(rows: Rows, facts: TenantFacts) -> None:
    for action_ref, count, distance_count, first_id in rows:
        target = facts.actions.get(action_ref)
        if target is not None:
            target.resources = count
            target.distance_resources = int(distance_count or 0)
            target.resource_ids.append(first_id)


def _apply_modules(
    modules: Rows, completions: Rows, facts: TenantFacts, learners: Learners
) -> None:
    """Distance modules, and which of them each learner completed.

    A module counts as tracked when any completion record names it (a platform
    records one per learner and tracked activity, completed or not).
    """
    for action_ref, resource_ref in modules:
        target = facts.actions.get(action_ref)
        if target is not None and resource_ref:
            target.distance_modules.add(resource_ref)
    for action_ref, person_ref, module, done, first_id in completions:
        target = facts.actions.get(action_ref)
        if target is None or module not in target.distance_modules:
            continue
        target.tracked_modules.add(module)
        learner = learners.get((action_ref, person_ref))
        if learner is not None and done:
            if learner.modules_completed is None:
                learner.modules_completed = set()
            learner.modules_completed.add(module)
            if learner.module_id is None or first_id < learner.module_id:
                learner.module_id = first_id


def _apply_surveys(responses_rows: Rows, survey_rows: Rows, facts: TenantFacts) -> None:
    responses: dict[tuple[str, str], int] = {}
    for action_ref, ref, count, rating_sum, rating_count in responses_rows:
        responses[(action_ref, ref)] = count
        target = facts.actions.get(action_ref)
        if target is not None and rating_count:
            target.rating_sum += float(rating_sum)
            target.rating_count += int(rating_count)
    for row_id, action_ref, ref, timing, stakeholder, invited, declared in survey_rows:
        target = facts.actions.get(action_ref)
        if target is None:
            continue
        target.surveys.append(
            SurveyFacts(
                survey_ref=ref,
                timing=timing,
                stakeholder=stakeholder or "learner",
                invited=invited,
                responses=max(int(declared or 0), responses.get((action_ref, ref), 0)),
                evidence_id=row_id,
            )
        )


def _apply_trainer_files(rows: Rows, facts: TenantFacts) -> None:
    for row_id, kind, effective_at, payload in rows:
        try:
            if kind == "trainer_cv":
                cv = TrainerCv.model_validate(payload)
                dated = cv.updated.latest() if cv.updated else _date(effective_at)
                facts.trainers.setdefault(
                    cv.person_ref, TrainerFile(cv.person_ref)
                ).cv_dates.append((dated, row_id))
            elif kind == "trainer_cpd":
                cpd = ContinuingDevelopment.model_validate(payload)
                dated = cpd.completed.latest() if cpd.completed else None
                facts.trainers.setdefault(cpd.person_ref, TrainerFile(cpd.person_ref)).cpd.append(
                    (dated, row_id)
                )
            else:
                item: TrainerQualification | TrainerExperience
                if kind == "trainer_qualification":
                    item = TrainerQualification.model_validate(payload)
                    # A partial date ("2019") is dated; its earliest day keeps a
                    # qualification obtained "this year" from looking future.
                    dated = item.obtained.earliest() if item.obtained else None
                else:
                    item = TrainerExperience.model_validate(payload)
                    held = item.end or item.start
                    dated = held.earliest() if held else None
                facts.trainers.setdefault(
                    item.person_ref, TrainerFile(item.person_ref)
                ).qualifications.append(Qualification(item.title, item.domains, dated, row_id))
        except ValidationError as exc:
            facts.problems.append(_problem(kind, row_id, exc))


def _apply_manual_proofs(rows: Rows, facts: TenantFacts) -> None:
    for row_id, payload in rows:
        try:
            proof = ManualProof.model_validate(payload)
            facts.manual_proofs.setdefault(proof.indicator, []).append(
                ManualProofFacts(row_id, proof)
            )
        except ValidationError as exc:
            facts.problems.append(_problem("manual_proof", row_id, exc))


async def _fetch(engine: AsyncEngine, statement: Select[Any]) -> Rows:
    async with engine.connect() as conn:
        rows: Rows = (await conn.execute(statement)).all()
        return rows


async def load_facts(
    engine: AsyncEngine,
    tenant: str,
    as_of: date,
    final_kinds: tuple[str, ...] = ("final", "certification"),
    *,
    concurrency: int = 4,
) -> TenantFacts:
    """Everything the rules need for one tenant, with aggregation done in SQL.

    The queries run concurrently on up to ``concurrency`` connections (SQLite
    reads in parallel in WAL mode; PostgreSQL from its pool). Each sees the
    committed state when it starts: a sync committing meanwhile can make one
    evaluation mix two states, which the next evaluation settles.
    """
    statements = _statements(tenant, as_of, final_kinds)
    limit = asyncio.Semaphore(max(1, concurrency))

    async def run(statement: Select[Any]) -> Rows:
        async with limit:
            return await _fetch(engine, statement)

    # The small queries whose rows can be refused come first and are applied in this
    # order (so ``problems`` keeps it); the largest next, so they are not the last to start.
    ordered = ["actions", "descriptions", "enrolments", "trainer_files", "manual_proofs"]
    order = [*ordered, "activity", "attendance", "assessments"]
    order += [name for name in statements if name not in order]
    tasks = {name: asyncio.ensure_future(run(statements[name])) for name in order}
    try:
        return await _assemble(tasks)
    finally:
        for task in tasks.values():
            if not task.done():
                task.cancel()  # after an error: stop the queries still running
            elif not task.cancelled():
                task.exception()  # the first error propagates; others are not logged again


async def _assemble(tasks: Mapping[str, asyncio.Future[Rows]]) -> TenantFacts:
    """Apply each result as soon as it and what it builds on are in.

    The Python work on one result then overlaps the queries still running in
    their threads, instead of waiting for the slowest query.
    """
    facts = TenantFacts(actions={}, trainers={}, manual_proofs={})
    _apply_actions(await tasks["actions"], facts)
    _apply_descriptions(await tasks["descriptions"], facts)
    learners = _apply_enrolments(await tasks["enrolments"], facts)
    _apply_trainer_files(await tasks["trainer_files"], facts)
    _apply_manual_proofs(await tasks["manual_proofs"], facts)

    def rows(name: str) -> Rows:
        return tasks[name].result()

    # Each step fills fields no other step touches, so their order is free.
    steps: list[tuple[tuple[str, ...], Callable[[], None]]] = [
        (("assessments",), lambda: _apply_assessments(rows("assessments"), learners)),
        (
            ("attendance", "slots"),
            lambda: _apply_attendance(rows("attendance"), rows("slots"), facts, learners),
        ),
        (
            ("activity", "completion"),
            lambda: _apply_activity(rows("activity"), rows("completion"), learners),
        ),
        (("followups",), lambda: _apply_followups(rows("followups"), learners)),
        (("resources",), lambda: _apply_resources(rows("resources"), facts)),
        (
            ("distance_modules", "module_completions"),
            lambda: _apply_modules(
                rows("distance_modules"), rows("module_completions"), facts, learners
            ),
        ),
        (
            ("responses", "surveys"),
            lambda: _apply_surveys(rows("responses"), rows("surveys"), facts),
        ),
    ]
    while steps:
        ready = [s for s in steps if all(tasks[n].done() for n in s[0])]
        if not ready:
            waiting = {tasks[n] for names, _ in steps for n in names if not tasks[n].done()}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            continue
        for step in ready:
            step[1]()
            steps.remove(step)
    return facts


def evaluation_today() -> date:
    """Today in France: the default day of an evaluation."""
    return datetime.now(EVALUATION_ZONE).date()
