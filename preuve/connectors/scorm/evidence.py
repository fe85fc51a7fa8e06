"""SCORM packages and attempts as evidence payloads (pure functions, no I/O).

Package -> CourseDescription + one LearningResource per launchable item
(indicators 5, 6, 19), and a TrainingAction when the package stands for its own
action. Attempt -> Completion, Assessment (attempt score and each objective)
and ActivityTrace with the time spent (indicators 10, 11, 12, 19).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from preuve.connectors.scorm.cmi import CompletionStatus, NormalisedAttempt, Score, SuccessStatus
from preuve.connectors.scorm.constants import MAX_SOURCE_ID, PACKAGE_SUFFIXES
from preuve.connectors.scorm.manifest import ScormCourse
from preuve.connectors.scorm.tracking import TrackedAttempt
from preuve.evidence.model import (
    ActivityTrace,
    Assessment,
    AssessmentKind,
    Completion,
    CompletionState,
    CourseDescription,
    EvidenceData,
    LearningResource,
    Modality,
    TrainingAction,
)
from preuve.i18n import Text

# Stored evidence text is French (auditors read it), whatever the UI language.
TXT_MASTERY = Text(
    fr="score de maîtrise SCORM : {value:g}/100", en="SCORM mastery score: {value:g}"
)
TXT_PASSING = Text(
    fr="seuil de réussite (score normalisé) : {value:g}",
    en="passing threshold (normalised score): {value:g}",
)
TXT_THRESHOLD = Text(
    fr="seuil d'achèvement (progression) : {value:g}",
    en="completion threshold (progress): {value:g}",
)
TXT_MODALITY = Text(fr="formation à distance (e-learning)", en="distance learning (e-learning)")
TXT_METHODS = Text(
    fr="modules e-learning SCORM {version}{edition} : {count} {count:module|modules}",
    en="SCORM {version}{edition} e-learning modules: {count} {count:module|modules}",
)
TXT_EDITION = Text(fr=" {edition}e édition", en=" edition {edition}")

_KEY_CHARS = re.compile(r"[^\w.:-]+")

VERB_ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"

_PASSED = {SuccessStatus.PASSED: True, SuccessStatus.FAILED: False}
_COMPLETION = {
    CompletionStatus.COMPLETED: CompletionState.COMPLETED,
    CompletionStatus.INCOMPLETE: CompletionState.INCOMPLETE,
    CompletionStatus.NOT_ATTEMPTED: CompletionState.NOT_STARTED,
}


@dataclass(frozen=True, slots=True)
class Draft:
    """A payload to build, with the key and date its record will carry.

    Built lazily so that one value the model refuses costs one record, reported
    with its place, not the whole file.
    """

    build: Callable[[], EvidenceData]  # validation happens here: the caller catches it
    source_id: str
    effective_at: datetime | None = None
    where: str | None = None  # place in the file, for messages

    @property
    def data(self) -> EvidenceData:
        """The validated payload (raises pydantic's ValidationError on bad values)."""
        return self.build()


def source_key(*parts: object) -> str:
    """A source id from parts; shortened with a hash past the store's limit."""
    key = ":".join("" if p is None else str(p) for p in parts)
    if len(key) <= MAX_SOURCE_ID:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return f"{key[: MAX_SOURCE_ID - 26]}~{digest}"


def package_key(course: ScormCourse, file_name: str) -> str:
    """The package's key: its file (or folder) name and its manifest identifier.

    Identifiers alone collide (Adapt writes ``adapt_manifest`` in every export); the
    name alone changes when a package is renamed. Both: a re-uploaded package with the
    same name updates its records (with history), a different course never overwrites.
    """
    stem = Path(file_name).stem if file_name.lower().endswith(PACKAGE_SUFFIXES) else file_name
    return _KEY_CHARS.sub("_", f"{stem}:{course.identifier or course.title}")


def package_ref(key: str) -> str:
    return f"scorm:{key}"


def package_evidence(
    course: ScormCourse, action_ref: str, *, own_action: bool, key: str | None = None
) -> list[Draft]:
    """Course description and resources of a package, for ``action_ref``.

    ``key`` (see :func:`package_key`) names the records; default: the identifier.
    """
    key = key or _KEY_CHARS.sub("_", course.identifier or course.title)
    drafts: list[Draft] = []
    hours = (
        round(course.duration_seconds / 3600, 2) if course.duration_seconds is not None else None
    )
    if own_action:
        drafts.append(
            Draft(
                partial(
                    TrainingAction,
                    action_ref=action_ref,
                    title=course.title,
                    duration_hours=hours,
                    modality=Modality.DISTANCE,
                ),
                source_key("action", key),
            )
        )
    methods = [TXT_MASTERY.render("fr", value=v) for v in dict.fromkeys(course.mastery_scores)]
    methods += [TXT_PASSING.render("fr", value=v) for v in dict.fromkeys(course.passing_measures)]
    methods += [
        TXT_THRESHOLD.render("fr", value=v) for v in dict.fromkeys(course.completion_thresholds)
    ]
    objectives = list(course.lom.objectives)
    for objective in course.sequencing_objectives:
        if objective.objective_id and not objective.primary:
            objectives.append(objective.objective_id)
    launchable = course.launchable_items()
    edition = TXT_EDITION.render("fr", edition=course.edition) if course.edition else ""
    drafts.append(
        Draft(
            partial(
                CourseDescription,
                action_ref=action_ref,
                title=course.title,
                objectives=tuple(dict.fromkeys(objectives)),
                duration_hours=hours,
                modalities=TXT_MODALITY.render("fr"),
                assessment_methods="; ".join(methods) or None,
                # The LOM description says what the course is about, not how it is
                # taught: it has no field of its own here and is not misfiled.
                teaching_methods=TXT_METHODS.render(
                    "fr", version=course.version, edition=edition, count=len(launchable)
                ),
            ),
            source_key("course", key),
        )
    )
    for item in launchable:
        drafts.append(
            Draft(
                partial(
                    LearningResource,
                    action_ref=action_ref,
                    resource_ref=f"{package_ref(key)}/{item.identifier}",
                    title=item.title or item.identifier,
                    resource_type=f"scorm_{item.scorm_type or 'sco'}",
                    url=item.launch_url,
                    distance=True,
                ),
                source_key("resource", key, item.identifier),
                where=f"<item {item.identifier}>",
            )
        )
    return drafts


def _completion_state(result: NormalisedAttempt) -> CompletionState | None:
    return _COMPLETION.get(result.completion)


def attempt_evidence(
    tracked: TrackedAttempt,
    *,
    action_ref: str,
    course_key: str,
    person_ref: str,
    assessment_kind: AssessmentKind = AssessmentKind.FORMATIVE,
) -> list[Draft]:
    """Evidence of one attempt. Keys hold the pseudonymous person key, never an address."""
    result = tracked.result
    activity_ref = f"scorm:{course_key}"
    if tracked.activity_key:
        activity_ref += f"/{tracked.activity_key}"
    attempt = tracked.attempt if tracked.attempt is not None else 0
    base = (tracked.export, course_key, tracked.activity_key or "", person_ref, attempt)
    when = tracked.last_at or tracked.completed_at or tracked.started_at
    title = tracked.activity_title or tracked.course_title
    drafts: list[Draft] = []
    state = _completion_state(result)
    if state is not None:
        drafts.append(
            Draft(
                partial(
                    Completion,
                    action_ref=action_ref,
                    person_ref=person_ref,
                    activity_ref=activity_ref,
                    state=state,
                    completed_at=tracked.completed_at
                    if state is CompletionState.COMPLETED
                    else None,
                ),
                source_key("completion", *base),
                when,
                tracked.location,
            )
        )
    # One Assessment for the attempt's score, one per objective with a result.
    scored: list[tuple[Score | None, bool | None, str | None, str]] = [
        (result.score, result.passed, None, source_key("assessment", *base))
    ]
    scored.extend(
        (
            objective.score,
            _PASSED.get(objective.success),
            objective.description or objective.id,
            source_key("objective", *base, objective.id),
        )
        for objective in result.objectives
    )
    for score, passed, objective_name, key in scored:
        points, max_points = score.points() if score is not None else (None, None)
        if points is None and passed is None:
            continue
        drafts.append(
            Draft(
                partial(
                    Assessment,
                    action_ref=action_ref,
                    person_ref=person_ref,
                    assessment_kind=assessment_kind,
                    activity_ref=activity_ref,
                    title=title,
                    score=points,
                    max_score=max_points,
                    passed=passed,
                    assessed_at=when,
                    objective=objective_name,
                ),
                key,
                when,
                tracked.location,
            )
        )
    if when is not None and (tracked.attempt is not None or result.time_seconds is not None):
        drafts.append(
            Draft(
                partial(
                    ActivityTrace,
                    action_ref=action_ref,
                    person_ref=person_ref,
                    activity_ref=activity_ref,
                    verb=VERB_ATTEMPTED,
                    at=when,
                    duration_seconds=result.time_seconds,
                    progress=result.progress,
                ),
                source_key("activity", *base),
                when,
                tracked.location,
            )
        )
    return drafts
