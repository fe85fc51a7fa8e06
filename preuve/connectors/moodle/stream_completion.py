"""Completion -> Completion of the whole action, and optionally of each activity.

``core_enrol_get_users_courses`` gives one learner's progress and completion
for all their courses in one call, so each learner is asked once per sync.
Activity completion (``activity_completion`` option) costs one call per learner
and course.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from preuve.connectors.errors import SkipItem
from preuve.connectors.moodle.constants import F_ACTIVITIES_COMPLETION, F_USER_COURSES
from preuve.connectors.moodle.site import CourseInfo, Member
from preuve.connectors.moodle.stream_base import CourseOutput, CourseStream, Keys
from preuve.connectors.moodle.values import epoch, to_float, to_int
from preuve.evidence.model import Completion, CompletionState, PersonRole

# core_completion states: 0 incomplete, 1 complete, 2 complete-pass, 3 complete-fail.
COMPLETE_STATES = {
    1: CompletionState.COMPLETED,
    2: CompletionState.COMPLETED,
    3: CompletionState.COMPLETED,
}


def course_state(entry: dict[str, Any]) -> CompletionState:
    if entry.get("completed"):
        return CompletionState.COMPLETED
    progress = to_float(entry.get("progress"))
    return CompletionState.INCOMPLETE if progress else CompletionState.NOT_STARTED


class CompletionStream(CourseStream):
    name = "completion"
    functions: ClassVar[tuple[str, ...]] = (F_USER_COURSES,)

    def keys(self, course_id: int, unit: str, user: int) -> Keys:
        # Only activity completion is tracked: a course completion is read once per
        # learner and sync, from whichever of their courses comes first.
        return (("completion", f"completion:{course_id}:cm{unit}:{user}"),) if user else ()

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        self._asked: set[int] = set()

    async def read_course(self, course: CourseInfo) -> CourseOutput:
        out = self.output()
        site = self.site
        if not course.enablecompletion:
            return out
        known = {c.id: c for c in await site.courses()}
        learners = [m for m in await site.members(course.id) if m.role is PersonRole.LEARNER]
        ask = [m for m in learners if m.user_id not in self._asked]
        self._asked.update(m.user_id for m in ask)
        answers = await asyncio.gather(
            *(self._user_courses(course, m) for m in ask), return_exceptions=True
        )
        for member, entries in zip(ask, answers, strict=True):
            if isinstance(entries, SkipItem):
                out.skipped.append(
                    self.skipped(f"apprenant {member.user_id}", entries.message, entries.code)
                )
                continue
            if isinstance(entries, BaseException):
                raise entries
            for entry in entries or ():
                other = known.get(to_int(entry.get("id")) or 0)
                if other is None or not other.enablecompletion:
                    continue
                self.emit(
                    out,
                    f"cours {other.id}, apprenant {member.user_id}",
                    Completion,
                    source_id=f"completion:{other.id}:{member.user_id}",
                    action_ref=site.action_ref(other.id),
                    person_ref=member.person_ref,
                    state=course_state(entry),
                )
        if self.connector.options.activity_completion and (await site.info()).has(
            F_ACTIVITIES_COMPLETION
        ):
            for member in learners:
                await self._activities(out, course, member)
        return out

    async def _user_courses(self, course: CourseInfo, member: Member) -> Any:
        return await self.site.client.call(
            F_USER_COURSES,
            {"userid": member.user_id},
            item=f"cours {course.id}, apprenant {member.user_id}",
        )

    async def _activities(self, out: CourseOutput, course: CourseInfo, member: Member) -> None:
        site = self.site
        raw = await site.client.call(
            F_ACTIVITIES_COMPLETION,
            {"courseid": course.id, "userid": member.user_id},
            item=f"cours {course.id}, apprenant {member.user_id}",
        )
        for status in raw.get("statuses") or ():
            cmid = to_int(status.get("cmid"))
            state = to_int(status.get("state")) or 0
            if cmid is None or not status.get("hascompletion", True):
                continue
            done = epoch(status.get("timecompleted"))
            self.emit(
                out,
                f"cours {course.id}, activité {cmid}, apprenant {member.user_id}",
                Completion,
                source_id=f"completion:{course.id}:cm{cmid}:{member.user_id}",
                unit=str(cmid),
                user=member.user_id,
                effective_at=done,
                action_ref=site.action_ref(course.id),
                person_ref=member.person_ref,
                activity_ref=f"{site.source_id}:cm:{cmid}",
                state=CompletionState.COMPLETED
                if state in (1, 2, 3)
                else CompletionState.INCOMPLETE,
                completed_at=done,
            )
