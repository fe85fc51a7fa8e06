"""What every tracking reader yields: attempts in the common model, or located problems."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from preuve.connectors.scorm.cmi import NormalisedAttempt


@dataclass(slots=True)  # not frozen: built once per row, frozen init costs a third more
class TrackedAttempt:
    """One learner's attempt at a package (``activity_key`` None) or at one SCO."""

    location: str  # "ligne 12" / "line 12", "registration r-1"... for messages
    export: str  # "moodle_report", "scorm_cloud"
    course_key: str | None  # the export's own course id, when it has one
    course_title: str | None
    activity_key: str | None
    activity_title: str | None
    email: str | None
    user_id: str | None
    attempt: int | None
    started_at: datetime | None
    last_at: datetime | None
    completed_at: datetime | None
    result: NormalisedAttempt


@dataclass(frozen=True, slots=True)
class TrackingProblem:
    """A row or element that cannot be read; the file goes on."""

    location: str
    message: str
    code: str = "invalid_row"
