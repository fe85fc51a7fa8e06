"""mod_scorm tracks -> ActivityTrace, Completion and Assessment per learner and SCO.

One ``mod_scorm_get_scorm_sco_tracks`` call per learner and SCO (``attempt=0``:
the last attempt). The raw CMI elements of the answer (``cmi.core.*`` for SCORM
1.2, ``cmi.*`` for 2004) are normalised by the SCORM subsystem
(:func:`preuve.connectors.scorm.normalise_cmi`), so both standards are read in
one place; Moodle's own summary elements (``status``, ``score_raw``) are not used.
The attempt's date comes from Moodle's ``timemodified`` / ``x.start.time``.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from preuve.connectors.errors import SkipItem
from preuve.connectors.moodle.constants import (
    F_SCORM_SCOES,
    F_SCORM_TRACKS,
    F_SCORMS,
    TAG_FUNCTIONS,
)
from preuve.connectors.moodle.site import CourseInfo, Member
from preuve.connectors.moodle.stream_assessments import assessment_kind
from preuve.connectors.moodle.stream_base import CourseOutput, CourseStream, Keys
from preuve.connectors.moodle.tags import carried
from preuve.connectors.moodle.values import epoch, text, to_float, to_int
from preuve.connectors.scorm import CompletionStatus, NormalisedAttempt, normalise_cmi
from preuve.connectors.scorm.constants import VERSION_12
from preuve.evidence.model import (
    ActivityTrace,
    Assessment,
    Completion,
    CompletionState,
    PersonRole,
)
from preuve.i18n import Text

SCORM_VERB = "http://adlnet.gov/expapi/verbs/attempted"
DEFAULT_VERSION = "SCORM_1.2"
SCORM_12_SCORE_MAX = 100.0
# extradata elements of a SCO (from the manifest) that SCORM 2004 rules need.
THRESHOLD_ELEMENTS = ("completionthreshold", "threshold", "completion_threshold")
PASSING_ELEMENTS = ("scaled_passing_score", "minnormalizedmeasure", "scaledpassingscore")
COMPLETION_STATES = {
    CompletionStatus.COMPLETED: CompletionState.COMPLETED,
    CompletionStatus.INCOMPLETE: CompletionState.INCOMPLETE,
    CompletionStatus.NOT_ATTEMPTED: CompletionState.NOT_STARTED,
}
MSG_TRACK_VALUE = Text(
    fr="valeur SCORM illisible, ignorée : {problem}",
    en="unreadable SCORM value, left out: {problem}",
)


def sco_thresholds(sco: dict[str, Any]) -> tuple[float | None, float | None]:
    """(completion_threshold, scaled_passing_score) from a SCO's manifest extradata."""
    extra = {
        str(e.get("element", "")).lower(): e.get("value")
        for e in sco.get("extradata") or ()
        if isinstance(e, dict)
    }
    threshold = next((to_float(extra[k]) for k in THRESHOLD_ELEMENTS if k in extra), None)
    passing = next((to_float(extra[k]) for k in PASSING_ELEMENTS if k in extra), None)
    return threshold, passing


class ScormStream(CourseStream):
    name = "scorm"
    functions: ClassVar[tuple[str, ...]] = (F_SCORMS, F_SCORM_SCOES, F_SCORM_TRACKS)

    def required_functions(self) -> tuple[str, ...]:
        tags = TAG_FUNCTIONS if self.connector.options.activity_tags else ()
        return (*self.functions, *tags)

    def keys(self, course_id: int, unit: str, user: int) -> Keys:
        if not user:
            return ()
        return (
            ("activity", f"scorm:{unit}:{user}"),
            ("completion", f"scorm-completion:{unit}:{user}"),
            ("assessment", f"scorm-score:{unit}:{user}"),
        )

    async def read_course(self, course: CourseInfo) -> CourseOutput:
        out = self.output()
        site = self.site
        if not await site.modules(course.id, "scorm"):
            return out
        item = f"cours {course.id}"
        raw = await self.fetch(out, F_SCORMS, {"courseids": [course.id]}, item)
        members = await site.members(course.id)
        out.members = {m.user_id for m in members}
        learners = [m for m in members if m.role is PersonRole.LEARNER]
        tag_index = await site.tag_index()  # empty, and no request, without tag options
        for scorm in raw.get("scorms") or ():
            tags = carried(tag_index, to_int(scorm.get("coursemodule")))
            scoes = await self.fetch(
                out, F_SCORM_SCOES, {"scormid": scorm["id"]}, f"{item}, SCORM {scorm['id']}"
            )
            for sco in scoes.get("scoes") or ():
                if sco.get("scormtype") != "sco":
                    continue
                answers = await asyncio.gather(
                    *(self._tracks(int(sco["id"]), m, item) for m in learners),
                    return_exceptions=True,
                )
                for member, answer in zip(learners, answers, strict=True):
                    if isinstance(answer, SkipItem):
                        out.skipped.append(
                            self.skipped(f"{item}, SCO {sco['id']}", answer.message, answer.code)
                        )
                    elif isinstance(answer, BaseException):
                        raise answer
                    else:
                        self._records(out, course, scorm, sco, member, answer, tags)
        return out

    async def _tracks(self, sco_id: int, member: Member, item: str) -> dict[str, str]:
        raw = await self.site.client.call(
            F_SCORM_TRACKS,
            {"scoid": sco_id, "userid": member.user_id, "attempt": 0},
            item=f"{item}, SCO {sco_id}",
        )
        data = raw.get("data") or {}
        # Values come as ints or strings: the CMI model is text.
        return {
            str(t.get("element")): str(t.get("value"))
            for t in data.get("tracks") or ()
            if isinstance(t, dict) and t.get("value") is not None
        }

    def _records(
        self,
        out: CourseOutput,
        course: CourseInfo,
        scorm: dict[str, Any],
        sco: dict[str, Any],
        member: Member,
        tracks: dict[str, str],
        tags: frozenset[str] = frozenset(),
    ) -> None:
        if not tracks:
            return
        site = self.site
        sco_id = int(sco["id"])
        item = f"cours {course.id}, SCO {sco_id}, apprenant {member.user_id}"
        threshold, passing = sco_thresholds(sco)
        attempt = normalise_cmi(
            tracks,
            str(scorm.get("version") or DEFAULT_VERSION),
            completion_threshold=threshold,
            scaled_passing_score=passing,
        )
        for problem in attempt.problems:
            out.skipped.append(
                self.skipped(item, MSG_TRACK_VALUE(problem=problem), "invalid_value")
            )
        at = epoch(tracks.get("timemodified")) or epoch(tracks.get("x.start.time"))
        cmid = to_int(scorm.get("coursemodule")) or 0
        activity_ref = f"{site.source_id}:cm:{cmid}"
        common: dict[str, Any] = {
            "effective_at": at,
            "unit": str(sco_id),
            "user": member.user_id,
            "action_ref": site.action_ref(course.id),
            "person_ref": member.person_ref,
            "activity_ref": activity_ref,
        }
        if at is not None:
            self.emit(
                out,
                item,
                ActivityTrace,
                source_id=f"scorm:{sco_id}:{member.user_id}",
                verb=SCORM_VERB,
                at=at,
                duration_seconds=attempt.time_seconds,
                progress=attempt.progress,
                **common,
            )
        state = COMPLETION_STATES.get(attempt.completion)
        if state is not None:
            self.emit(
                out,
                item,
                Completion,
                source_id=f"scorm-completion:{sco_id}:{member.user_id}",
                state=state,
                completed_at=at if state is CompletionState.COMPLETED else None,
                **common,
            )
        self._score(out, item, scorm, sco_id, member, attempt, at, common, tags)

    def _score(
        self,
        out: CourseOutput,
        item: str,
        scorm: dict[str, Any],
        sco_id: int,
        member: Member,
        attempt: NormalisedAttempt,
        at: Any,
        common: dict[str, Any],
        tags: frozenset[str],
    ) -> None:
        score, maximum = attempt.score.points() if attempt.score else (None, None)
        if score is None and attempt.passed is None:
            return
        if score is not None and maximum is None and attempt.version == VERSION_12:
            # A SCORM 1.2 raw score is 0..100 unless cmi.core.score.max says otherwise.
            maximum = SCORM_12_SCORE_MAX if 0 <= score <= SCORM_12_SCORE_MAX else None
        name = text(scorm.get("name"))
        self.emit(
            out,
            item,
            Assessment,
            source_id=f"scorm-score:{sco_id}:{member.user_id}",
            assessment_kind=assessment_kind(self.connector.options, None, name, tags),
            title=name,
            score=score,
            max_score=maximum,
            passed=attempt.passed,
            assessed_at=at,
            **common,
        )
