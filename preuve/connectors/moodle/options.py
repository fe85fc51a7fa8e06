"""The ``options`` of a Moodle source, validated with a pydantic model.

Every key is documented in docs/moodle.md. A bad key fails the sync (and
``preuve check``) with the key named.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from preuve.config.settings import describe_validation_error
from preuve.connectors.errors import PermanentError
from preuve.connectors.moodle.constants import DEFAULT_ROLE_MAP
from preuve.constants import DEFAULT_BATCH_SIZE, PARIS_TZ
from preuve.evidence.model import AttendanceStatus, PersonRole, Stakeholder
from preuve.i18n import Text

MSG_BAD_OPTIONS = Text(
    fr="options invalides pour la source {source} : {problems}",
    en="invalid options for source {source}: {problems}",
)

STREAM_NAMES = (
    "courses",
    "enrolments",
    "trainers",
    "attendance",
    "assessments",
    "completion",
    "surveys",
    "scorm",
)


def _compile(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Matcher(_Options):
    """Recognises an activity by its idnumber or its name (regular expressions)."""

    idnumber: str | None = None
    name: str | None = None

    @field_validator("idnumber", "name")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            _compile(value)
        return value

    def matches(self, *, idnumber: str | None, name: str | None) -> bool:
        if self.idnumber and idnumber and re.search(self.idnumber, idnumber):
            return True
        return bool(self.name and name and re.search(self.name, name))


class ActivityMatcher(Matcher):
    """Recognises an activity by its idnumber, its name, or a tag it carries.

    ``tag`` is a Moodle tag name (case-insensitive, as Moodle compares them). Moodle
    has no web service giving an activity's tags, only the index of the activities
    carrying a tag (``core_tag_get_tagindex_per_area``), read once per sync and tag.
    """

    tag: str | None = None

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("empty tag")
        return value.strip() if value is not None else None

    def matches_activity(
        self, *, idnumber: str | None, name: str | None, tags: frozenset[str] = frozenset()
    ) -> bool:
        if self.tag and self.tag.casefold() in tags:
            return True
        return self.matches(idnumber=idnumber, name=name)


class CourseFields(_Options):
    """Shortnames of the course custom fields holding programme data."""

    duration: str = "duree"
    price: str = "tarif"
    modality: str = "modalite"
    certification_code: str = "code_rncp"
    prerequisites: str = "prerequis"
    objectives: str = "objectifs"
    accessibility: str = "accessibilite"
    access_lead_time: str = "delai_acces"
    start_date: str = "date_debut"
    end_date: str = "date_fin"


class TrainerFields(_Options):
    """Shortnames of the user profile fields holding trainer data."""

    cv_url: str = "cv_url"
    qualifications: str = "qualifications"
    last_cpd_date: str = "last_cpd_date"
    last_cpd_title: str = "last_cpd_title"


class MoodleOptions(_Options):
    concurrency: int = Field(default=4, ge=1, le=16)
    request_timeout: float = Field(default=30.0, gt=0, le=600)
    retry_attempts: int = Field(default=5, ge=1, le=20)
    retry_initial_wait: float = Field(default=0.5, ge=0, le=60)
    retry_max_wait: float = Field(default=30.0, ge=0, le=600)
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=100_000)
    page_size: int = Field(default=500, ge=1, le=10_000)
    timezone: str = PARIS_TZ
    category_ids: tuple[int, ...] = ()
    disabled_streams: tuple[str, ...] = ()
    course_fields: CourseFields = CourseFields()
    trainer_fields: TrainerFields = TrainerFields()
    role_map: dict[str, PersonRole] = Field(
        default_factory=lambda: {k: PersonRole(v) for k, v in DEFAULT_ROLE_MAP.items()}
    )
    display_names: Literal["trainers", "all", "none"] = "trainers"
    positioning: ActivityMatcher = ActivityMatcher(
        idnumber=r"(?i)position", name=r"(?i)positionnement"
    )
    final_assessment: ActivityMatcher = ActivityMatcher(
        idnumber=r"(?i)final|certif", name=r"(?i)(é|e)valuation finale|examen|certification"
    )
    attendance_status_map: dict[str, AttendanceStatus] = Field(default_factory=dict)
    # A trainer's Moodle badge is continuing development when its name matches, else
    # a qualification.
    badge_cpd: Matcher = Matcher(
        name=r"(?i)formation continue|perfectionnement|recyclage|mise (à|a) jour|cpd"
    )
    survey_cold: Matcher = Matcher(idnumber=r"(?i)froid|cold", name=r"(?i)(à|a) froid|cold")
    survey_stakeholders: dict[Stakeholder, str] = Field(
        default_factory=lambda: {
            Stakeholder.EMPLOYER: r"(?i)employeur|entreprise|manager",
            Stakeholder.FUNDER: r"(?i)financeur|opco",
            Stakeholder.TRAINER: r"(?i)formateur|intervenant",
        }
    )
    survey_rating_label: str = "SAT_GLOBAL"
    survey_rating_scale: int = Field(default=4, ge=2, le=100)
    activity_completion: bool = False
    overlap_seconds: int = Field(default=600, ge=0, le=7 * 86400)
    full_resync_days: int = Field(default=7, ge=0, le=365)
    running_grace_days: int = Field(default=7, ge=0, le=365)
    poll_closed_courses_days: int = Field(default=60, ge=0, le=3650)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("disabled_streams")
    @classmethod
    def _streams(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(STREAM_NAMES))
        if unknown:
            raise ValueError(f"unknown streams {unknown}; expected some of {list(STREAM_NAMES)}")
        return value

    @field_validator("survey_stakeholders")
    @classmethod
    def _patterns(cls, value: dict[Stakeholder, str]) -> dict[Stakeholder, str]:
        for pattern in value.values():
            _compile(pattern)
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def tag_option_names(self) -> str:
        """The option keys holding a tag, for messages (``positioning.tag``)."""
        named = (("positioning", self.positioning), ("final_assessment", self.final_assessment))
        return ", ".join(f"{name}.tag" for name, m in named if m.tag)

    @property
    def activity_tags(self) -> tuple[str, ...]:
        """The tags the ``positioning`` / ``final_assessment`` options recognise."""
        matchers = (self.positioning, self.final_assessment)
        return tuple(dict.fromkeys(m.tag.casefold() for m in matchers if m.tag))


def parse_options(source_id: str, raw: dict[str, Any]) -> MoodleOptions:
    """Validate, naming each bad key as ``options.<key>``."""
    try:
        return MoodleOptions.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"options.{line}" for line in describe_validation_error(exc))
        raise PermanentError(
            MSG_BAD_OPTIONS(source=source_id, problems=problems), code="invalid_options"
        ) from exc
