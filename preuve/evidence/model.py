"""The evidence model: what a Qualiopi auditor looks at, independent of any LMS.

Every record a connector produces is an :class:`EvidenceRecord`: a typed payload
(`data`, discriminated by `kind`) plus its :class:`Provenance`. The payload types
say only what the audit needs; personal data is limited to a pseudonymous key and,
for people, an optional display name.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------


class ActionCategory(StrEnum):
    """The four categories of action of art. L.6313-1 Code du travail."""

    TRAINING = "training"  # actions de formation (AFC)
    SKILLS_ASSESSMENT = "skills_assessment"  # bilans de compétences (BC)
    VAE = "vae"  # validation des acquis de l'expérience
    APPRENTICESHIP = "apprenticeship"  # actions de formation par apprentissage (CFA)


class Modality(StrEnum):
    FACE_TO_FACE = "face_to_face"
    DISTANCE = "distance"
    BLENDED = "blended"


class CertificationRegister(StrEnum):
    RNCP = "RNCP"
    RS = "RS"


class PersonRole(StrEnum):
    LEARNER = "learner"
    TRAINER = "trainer"
    NON_EDITING_TRAINER = "non_editing_trainer"
    TUTOR = "tutor"
    OTHER = "other"


TRAINER_ROLES = frozenset({PersonRole.TRAINER, PersonRole.NON_EDITING_TRAINER})


class EnrolmentStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    DROPPED_OUT = "dropped_out"


class HalfDay(StrEnum):
    MORNING = "am"
    AFTERNOON = "pm"


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    LATE = "late"
    EXCUSED = "excused"


class AttendanceMethod(StrEnum):
    """How the attendance was recorded: matters for its probative value."""

    SIGNATURE = "signature"  # signed sheet or e-signature (émargement)
    TRAINER = "trainer"  # taken by the trainer in the LMS
    SELF = "self"  # self-declared by the learner
    SYSTEM = "system"  # virtual classroom or LMS connection log
    IMPORTED = "imported"


class AssessmentKind(StrEnum):
    ENTRY_POSITIONING = "entry_positioning"
    FORMATIVE = "formative"
    FINAL = "final"
    CERTIFICATION = "certification"


class CompletionState(StrEnum):
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    NOT_STARTED = "not_started"


class SurveyTiming(StrEnum):
    HOT = "hot"  # à chaud: at the end of the action
    COLD = "cold"  # à froid: weeks or months later


class Stakeholder(StrEnum):
    LEARNER = "learner"
    EMPLOYER = "employer"
    FUNDER = "funder"
    TRAINER = "trainer"
    # The client organisation (donneur d'ordres) of an action delivered as a
    # subcontractor: guide V9, indicator 30, "Sous-traitance".
    CLIENT = "client"


class SupportChannel(StrEnum):
    FORUM = "forum"
    MESSAGE = "message"
    TICKET = "ticket"
    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"


class SupportTopic(StrEnum):
    PEDAGOGICAL = "pedagogical"
    TECHNICAL = "technical"
    ADMINISTRATIVE = "administrative"
    DROPOUT_FOLLOWUP = "dropout_followup"
    COMPLAINT = "complaint"


# ---------------------------------------------------------------------------
# Value types
# ---------------------------------------------------------------------------

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class PartialDate(BaseModel):
    """A date known to the year, the month or the day.

    CVs often say "2019" or "03/2021": such a date stays partial rather than
    being invented. Serialised as "YYYY", "YYYY-MM" or "YYYY-MM-DD".
    """

    model_config = ConfigDict(frozen=True)

    year: int = Field(ge=1900, le=2200)
    month: int | None = Field(default=None, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            return {"year": value.year, "month": value.month, "day": value.day}
        if isinstance(value, date):
            return {"year": value.year, "month": value.month, "day": value.day}
        if isinstance(value, str):
            match = _PARTIAL_DATE.match(value.strip())
            if not match:
                raise ValueError("expected YYYY, YYYY-MM or YYYY-MM-DD")
            year, month, day = match.groups()
            return {
                "year": int(year),
                "month": int(month) if month else None,
                "day": int(day) if day else None,
            }
        return value

    @model_validator(mode="after")
    def _check(self) -> PartialDate:
        if self.day is not None and self.month is None:
            raise ValueError("a day needs a month")
        if self.day is not None and self.month is not None:
            date(self.year, self.month, self.day)  # raises on 2023-02-30
        return self

    @property
    def precision(self) -> Literal["year", "month", "day"]:
        if self.day is not None:
            return "day"
        if self.month is not None:
            return "month"
        return "year"

    def earliest(self) -> date:
        """First day the partial date may stand for."""
        return date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> date:
        """Last day the partial date may stand for (used for recency checks)."""
        if self.day is not None and self.month is not None:
            return date(self.year, self.month, self.day)
        if self.month is not None:
            next_month = date(self.year + self.month // 12, self.month % 12 + 1, 1)
            return date.fromordinal(next_month.toordinal() - 1)
        return date(self.year, 12, 31)

    def __str__(self) -> str:
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text


class DocumentRef(BaseModel):
    """A document kept by reference and hash, not copied (privacy by default)."""

    model_config = ConfigDict(frozen=True)

    uri: str = Field(min_length=1, description="path, URL or source link of the document")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    media_type: str | None = None
    title: str | None = None


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    @property
    def facet(self) -> str | None:
        """The record's category within its kind, as the coverage rules group it.

        Derived from the payload and kept in its own store column so that coverage
        counts come from an index, not from parsing every payload. ``None`` for
        kinds the rules do not split.
        """
        return None


# ---------------------------------------------------------------------------
# Payloads: one per kind of evidence
# ---------------------------------------------------------------------------


class Organisation(_Payload):
    """The tenant: a training organisation (organisme de formation)."""

    kind: Literal["organisation"] = "organisation"
    name: str = Field(min_length=1)
    siret: str | None = Field(default=None, pattern=r"^\d{14}$")
    activity_declaration_number: str | None = Field(default=None, pattern=r"^\d{11}$")
    categories: tuple[ActionCategory, ...] = (ActionCategory.TRAINING,)
    new_entrant: bool = False
    subcontracting: bool = False


class TrainingAction(_Payload):
    """A training action (or skills assessment, VAE, apprenticeship programme)."""

    kind: Literal["training_action"] = "training_action"
    action_ref: str = Field(min_length=1)
    title: str = Field(min_length=1)
    category: ActionCategory = ActionCategory.TRAINING
    certification_register: CertificationRegister | None = None
    certification_code: str | None = None
    duration_hours: float | None = Field(default=None, ge=0)
    modality: Modality | None = None
    work_study: bool = False
    # Periods of training in a company (internships, AFEST, work placements), which
    # work-study always has. None: not stated (older payloads); work_study decides.
    work_based_periods: bool | None = None
    subcontracted: bool = False
    start_date: date | None = None
    end_date: date | None = None
    domains: tuple[str, ...] = ()

    @property
    def certifying(self) -> bool:
        return self.certification_code is not None

    @property
    def in_company_periods(self) -> bool:
        """True when the action includes periods in a company (work-study always does)."""
        return self.work_study or bool(self.work_based_periods)

    @model_validator(mode="after")
    def _dates_in_order(self) -> TrainingAction:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        if self.work_study and self.work_based_periods is False:
            raise ValueError(
                "work_based_periods is false but work_study is true "
                "(work-study includes periods in a company)"
            )
        return self


class TrainingSession(_Payload):
    """One dated run (session) of a training action."""

    kind: Literal["session"] = "session"
    action_ref: str
    session_ref: str
    title: str | None = None
    start: datetime
    end: datetime | None = None
    location: str | None = None
    online: bool = False


class Slot(_Payload):
    """A half-day slot: the unit attendance is signed for."""

    kind: Literal["slot"] = "slot"
    action_ref: str
    slot_ref: str
    day: date
    half: HalfDay
    session_ref: str | None = None


class Person(_Payload):
    """A learner or a trainer. Only a pseudonymous key and a display name."""

    kind: Literal["person"] = "person"
    person_ref: str = Field(min_length=1, description="stable pseudonymous key")
    roles: tuple[PersonRole, ...] = ()
    display_name: str | None = None


class Enrolment(_Payload):
    kind: Literal["enrolment"] = "enrolment"
    action_ref: str
    person_ref: str
    role: PersonRole = PersonRole.LEARNER
    status: EnrolmentStatus = EnrolmentStatus.ACTIVE
    start_date: date | None = None
    end_date: date | None = None


class Attendance(_Payload):
    kind: Literal["attendance"] = "attendance"
    action_ref: str
    person_ref: str
    slot_ref: str | None = None
    day: date
    half: HalfDay
    status: AttendanceStatus
    method: AttendanceMethod = AttendanceMethod.TRAINER
    status_label: str | None = Field(default=None, description="status as named in the source")

    @property
    def facet(self) -> str:
        """``<status>:<day><half>``, e.g. ``present:2026-10-05am``: the slot and whether
        the learner was there, readable from the coverage index."""
        return f"{self.status.value}:{self.day.isoformat()}{self.half.value}"


class ActivityTrace(_Payload):
    """A trace of learning activity (connection, progress, time on task)."""

    kind: Literal["activity"] = "activity"
    action_ref: str | None = None
    person_ref: str
    activity_ref: str
    verb: str = Field(description="what happened, e.g. an xAPI verb IRI or 'viewed'")
    at: datetime
    duration_seconds: float | None = Field(default=None, ge=0)
    progress: float | None = Field(default=None, ge=0, le=1)


class Assessment(_Payload):
    kind: Literal["assessment"] = "assessment"
    action_ref: str
    person_ref: str
    assessment_kind: AssessmentKind
    activity_ref: str | None = None
    title: str | None = None
    score: float | None = None
    max_score: float | None = Field(default=None, gt=0)
    passed: bool | None = None
    assessed_at: datetime | None = None
    objective: str | None = Field(default=None, description="objective or competency measured")

    @model_validator(mode="after")
    def _score_in_range(self) -> Assessment:
        if self.score is not None and self.max_score is not None and self.score > self.max_score:
            raise ValueError(f"score {self.score} is above max_score {self.max_score}")
        return self

    @property
    def facet(self) -> str:
        """``<assessment kind>:<passed|failed|unknown>``, e.g. ``final:passed``."""
        result = "unknown" if self.passed is None else ("passed" if self.passed else "failed")
        return f"{self.assessment_kind.value}:{result}"

    @staticmethod
    def facets_of(assessment_kind: str, *, passed_only: bool = False) -> tuple[str, ...]:
        """Every facet an assessment of this kind can have (or only the passed one)."""
        results = ("passed",) if passed_only else ("passed", "failed", "unknown")
        return tuple(f"{assessment_kind}:{result}" for result in results)

    @property
    def ratio(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return self.score / self.max_score


class Completion(_Payload):
    """Completion of the whole action (activity_ref None) or of one activity."""

    kind: Literal["completion"] = "completion"
    action_ref: str
    person_ref: str
    activity_ref: str | None = None
    state: CompletionState
    completed_at: datetime | None = None

    @property
    def facet(self) -> str:
        """``action:<state>`` for the whole action, ``activity:<state>`` for one activity."""
        scope = "action" if self.activity_ref is None else "activity"
        return f"{scope}:{self.state.value}"


class SatisfactionSurvey(_Payload):
    """A survey campaign: who was asked, how many answered."""

    kind: Literal["satisfaction_survey"] = "satisfaction_survey"
    action_ref: str
    survey_ref: str
    title: str | None = None
    timing: SurveyTiming
    stakeholder: Stakeholder = Stakeholder.LEARNER
    anonymous: bool = False
    invited_count: int | None = Field(default=None, ge=0)
    response_count: int = Field(default=0, ge=0)
    opens_at: datetime | None = None
    closes_at: datetime | None = None


class SatisfactionResponse(_Payload):
    kind: Literal["satisfaction_response"] = "satisfaction_response"
    action_ref: str
    survey_ref: str
    timing: SurveyTiming
    stakeholder: Stakeholder = Stakeholder.LEARNER
    respondent_ref: str | None = Field(default=None, description="None when anonymous")
    responded_at: datetime | None = None
    rating: float | None = Field(default=None, ge=0, le=1, description="overall, normalised")


class TrainerQualification(_Payload):
    kind: Literal["trainer_qualification"] = "trainer_qualification"
    person_ref: str
    title: str = Field(min_length=1)
    level: str | None = None
    issuer: str | None = None
    obtained: PartialDate | None = None
    domains: tuple[str, ...] = ()
    document: DocumentRef | None = None
    needs_review: bool = Field(default=False, description="guessed from free text")


class TrainerExperience(_Payload):
    kind: Literal["trainer_experience"] = "trainer_experience"
    person_ref: str
    title: str = Field(min_length=1)
    employer: str | None = None
    start: PartialDate | None = None
    end: PartialDate | None = None
    years: float | None = Field(default=None, ge=0)
    domains: tuple[str, ...] = ()
    document: DocumentRef | None = None
    needs_review: bool = False


class ContinuingDevelopment(_Payload):
    kind: Literal["trainer_cpd"] = "trainer_cpd"
    person_ref: str
    title: str = Field(min_length=1)
    provider: str | None = None
    completed: PartialDate | None = None
    hours: float | None = Field(default=None, ge=0)
    document: DocumentRef | None = None
    needs_review: bool = False


class TrainerCv(_Payload):
    """A CV on file for a trainer, by reference and hash."""

    kind: Literal["trainer_cv"] = "trainer_cv"
    person_ref: str
    document: DocumentRef
    updated: PartialDate | None = None
    format: str | None = Field(default=None, description="europass-xml, jsonresume, pdf...")


class CourseDescription(_Payload):
    """The programme sheet of an action (indicators 1, 5, 6)."""

    kind: Literal["course_description"] = "course_description"
    action_ref: str
    title: str | None = None
    objectives: tuple[str, ...] = ()
    prerequisites: str | None = None
    duration_hours: float | None = Field(default=None, ge=0)
    modalities: str | None = None
    price: str | None = None
    access_lead_time: str | None = None
    assessment_methods: str | None = None
    accessibility: str | None = None
    contacts: str | None = None
    teaching_methods: str | None = None
    published_url: str | None = None


class LearningResource(_Payload):
    kind: Literal["learning_resource"] = "learning_resource"
    action_ref: str
    resource_ref: str
    title: str = Field(min_length=1)
    resource_type: str | None = None
    url: str | None = None
    updated_at: datetime | None = None
    distance: bool = False


class SupportInteraction(_Payload):
    kind: Literal["support_interaction"] = "support_interaction"
    action_ref: str | None = None
    person_ref: str | None = None
    channel: SupportChannel
    topic: SupportTopic = SupportTopic.PEDAGOGICAL
    at: datetime
    answered_at: datetime | None = None

    @property
    def facet(self) -> str:
        return self.topic.value


class ManualProof(_Payload):
    """A document or URL attached by hand for an indicator no LMS can prove."""

    kind: Literal["manual_proof"] = "manual_proof"
    indicator: int = Field(ge=1, le=99)
    action_ref: str | None = Field(default=None, description="None: organisation-wide")
    title: str = Field(min_length=1)
    document: DocumentRef
    dated: date
    valid_until: date | None = None
    # The manual part of the indicator this proves, as the coverage rules name it
    # (``risk_analysis`` for 32's quality-risk analysis...). None: the indicator's
    # main manual part; such a proof never counts for a named part.
    component: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")

    @model_validator(mode="after")
    def _validity(self) -> ManualProof:
        if self.valid_until is not None and self.valid_until < self.dated:
            raise ValueError("valid_until is before dated")
        return self


EvidenceData = Annotated[
    Organisation
    | TrainingAction
    | TrainingSession
    | Slot
    | Person
    | Enrolment
    | Attendance
    | ActivityTrace
    | Assessment
    | Completion
    | SatisfactionSurvey
    | SatisfactionResponse
    | TrainerQualification
    | TrainerExperience
    | ContinuingDevelopment
    | TrainerCv
    | CourseDescription
    | LearningResource
    | SupportInteraction
    | ManualProof,
    Field(discriminator="kind"),
]

EVIDENCE_KINDS: tuple[str, ...] = (
    "organisation",
    "training_action",
    "session",
    "slot",
    "person",
    "enrolment",
    "attendance",
    "activity",
    "assessment",
    "completion",
    "satisfaction_survey",
    "satisfaction_response",
    "trainer_qualification",
    "trainer_experience",
    "trainer_cpd",
    "trainer_cv",
    "course_description",
    "learning_resource",
    "support_interaction",
    "manual_proof",
)

# The kinds whose payload class gives a facet (see ``_Payload.facet``).
FACETED_KINDS = frozenset({"attendance", "assessment", "completion", "support_interaction"})

# ---------------------------------------------------------------------------
# The envelope
# ---------------------------------------------------------------------------

_KEY = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class Provenance(BaseModel):
    """Where a record comes from, and when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str = Field(pattern=_KEY)
    source: str = Field(pattern=_KEY, description="id of the configured source")
    source_id: str = Field(min_length=1, max_length=255, description="id in that source")
    effective_at: datetime | None = Field(default=None, description="when the thing happened")
    fetched_at: datetime
    connector: str = Field(min_length=1, max_length=32)
    connector_version: str = Field(min_length=1, max_length=32)
    source_url: str | None = None

    @field_validator("effective_at", "fetched_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("datetime must carry a time zone (e.g. 2026-01-31T09:00:00+01:00)")
        return value


class EvidenceRecord(BaseModel):
    """One piece of evidence with its provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provenance: Provenance
    data: EvidenceData

    @property
    def kind(self) -> str:
        return self.data.kind

    @property
    def action_ref(self) -> str | None:
        value = getattr(self.data, "action_ref", None)
        return value if isinstance(value, str) else None

    @property
    def person_ref(self) -> str | None:
        value = getattr(self.data, "person_ref", None)
        return value if isinstance(value, str) else None

    @property
    def facet(self) -> str | None:
        return self.data.facet

    @cached_property
    def payload(self) -> dict[str, Any]:
        """The data as plain JSON-compatible values (what the store keeps)."""
        return self.data.model_dump(mode="json", exclude_none=True)

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the canonical payload plus the effective date.

        The fetch time, connector version and link are left out: re-fetching an
        unchanged thing must hash the same.
        """
        canonical = orjson.dumps(
            {"data": self.payload, "effective_at": self.provenance.effective_at},
            option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z,
        )
        return hashlib.sha256(canonical).hexdigest()


class Withdrawal(BaseModel):
    """Withdraws earlier evidence (e.g. an xAPI voiding statement).

    The record stays in the history but no longer counts as evidence.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    source_id: str
    reason: str
    at: datetime
