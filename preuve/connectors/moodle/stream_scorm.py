"""mod_scorm tracks -> ActivityTrace, Completion and Assessment per learner and SCO.

One ``mod_scorm_get_scorm_sco_tracks`` call per learner and SCO (``attempt=0``:
the last attempt); values come as ints or strings, ``total_time`` as hh:mm:ss.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from preuve.connectors.errors import SkipItem
from preuve.connectors.moodle.constants import F_SCORM_SCOES, F_SCORM_TRACKS, F_SCORMS
from preuve.connectors.moodle.site import CourseInfo, Member
from preuve.connectors.moodle.stream_base import CourseOutput, CourseStream
from preuve.connectors.moodle.values import epoch, hms_seconds, to_float
from preuve.evidence.model import (
    ActivityTrace,
    Assessment,
    AssessmentKind,
    Completion,
    CompletionState,
    PersonRole,
)

SCORM_VERB = "http://adlnet.gov/expapi/verbs/attempted"
DONE = frozenset({"completed", "passed", "failed"})
STARTED = frozenset({"incomplete", "browsed"})
DEFAULT_SCORE_MAX = 100.0  # SCORM 1.2 cmi.core.score.raw is 0..100 unless score_max says


class ScormStream(CourseStream):
    name = "scorm"
    functions: ClassVar[tuple[str, ...]] = (F_SCORMS, F_SCORM_SCOES, F_SCORM_TRACKS)

    async def read_course(self, course: CourseInfo) -> CourseOutput:
        out = self.output()
        site = self.site
        if not await site.modules(course.id, "scorm"):
            return out
        item = f"cours {course.id}"
        raw = await site.client.call(F_SCORMS, {"courseids": [course.id]}, item=item)
        learners = [m for m in await site.members(course.id) if m.role is PersonRole.LEARNER]
        for scorm in raw.get("scorms") or ():
            scoes = await site.client.call(
                F_SCORM_SCOES, {"scormid": scorm["id"]}, item=f"{item}, SCORM {scorm['id']}"
            )
            cmid = int(scorm.get("coursemodule") or 0)
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
                        self._records(out, course, cmid, int(sco["id"]), member, answer)
        return out

    async def _tracks(self, sco_id: int, member: Member, item: str) -> dict[str, Any]:
        raw = await self.site.client.call(
            F_SCORM_TRACKS,
            {"scoid": sco_id, "userid": member.user_id, "attempt": 0},
            item=f"{item}, SCO {sco_id}",
        )
        data = raw.get("data") or {}
        return {str(t.get("element")): t.get("value") for t in data.get("tracks") or ()}

    def _records(
        self,
        out: CourseOutput,
        course: CourseInfo,
        cmid: int,
        sco_id: int,
        member: Member,
        tracks: dict[str, Any],
    ) -> None:
        if not tracks:
            return
        site = self.site
        item = f"cours {course.id}, SCO {sco_id}, apprenant {member.user_id}"
        at = epoch(tracks.get("timemodified")) or epoch(tracks.get("x.start.time"))
        status = str(tracks.get("status") or tracks.get("cmi.core.lesson_status") or "").lower()
        activity_ref = f"{site.source_id}:cm:{cmid}"
        action_ref = site.action_ref(course.id)
        if at is not None:
            self.emit(
                out,
                item,
                ActivityTrace,
                source_id=f"scorm:{sco_id}:{member.user_id}",
                effective_at=at,
                action_ref=action_ref,
                person_ref=member.person_ref,
                activity_ref=activity_ref,
                verb=SCORM_VERB,
                at=at,
                duration_seconds=hms_seconds(tracks.get("total_time")),
            )
        state = (
            CompletionState.COMPLETED
            if status in DONE
            else CompletionState.INCOMPLETE
            if status in STARTED
            else CompletionState.NOT_STARTED
        )
        self.emit(
            out,
            item,
            Completion,
            source_id=f"scorm-completion:{sco_id}:{member.user_id}",
            effective_at=at,
            action_ref=action_ref,
            person_ref=member.person_ref,
            activity_ref=activity_ref,
            state=state,
            completed_at=at if state is CompletionState.COMPLETED else None,
        )
        score = to_float(tracks.get("score_raw", tracks.get("cmi.core.score.raw")))
        if score is not None:
            maximum = to_float(tracks.get("score_max")) or DEFAULT_SCORE_MAX
            self.emit(
                out,
                item,
                Assessment,
                source_id=f"scorm-score:{sco_id}:{member.user_id}",
                effective_at=at,
                action_ref=action_ref,
                person_ref=member.person_ref,
                assessment_kind=AssessmentKind.FORMATIVE,
                activity_ref=activity_ref,
                score=score,
                max_score=maximum,
                passed=True if status == "passed" else False if status == "failed" else None,
                assessed_at=at,
            )
