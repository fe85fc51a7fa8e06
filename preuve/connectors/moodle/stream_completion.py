"""Completion -> Completion of the whole action, and optionally of each activity.

``core_enrol_get_users_courses`` gives one learner's progress and completion
for all their courses in one call, so each learner is asked at most once per
sync; the answer is kept for the sync. Each course read emits (and tracks, for
withdrawals) the completions of its own learners; the course that asks for a
learner first also refreshes the learner's other courses from the same answer
(so a completion reached in a course not re-read is still seen), without
tracking them: their own course does. Activity completion
(``activity_completion`` option) costs one call per learner and course.

Withdrawals: a learner who left the course (no longer among its members) has
their course and activity completions withdrawn. ``core_enrol_get_users_courses``
lists only *active* enrolments, so a learner whose enrolment is suspended or
has ended is left out of it while still enrolled: their completion is kept
(``hidden``), not withdrawn. A course whose completion tracking was switched
off keeps its completions the same way (Moodle keeps the data).
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
COURSE_UNIT = "course"  # the tracking unit of the course completion itself

# One learner's answer: course id -> their entry for that course.
UserCourses = dict[int, dict[str, Any]]


def course_state(entry: dict[str, Any]) -> CompletionState:
    if entry.get("completed"):
        return CompletionState.COMPLETED
    progress = to_float(entry.get("progress"))
    return CompletionState.INCOMPLETE if progress else CompletionState.NOT_STARTED


class CompletionStream(CourseStream):
    name = "completion"
    functions: ClassVar[tuple[str, ...]] = (F_USER_COURSES,)

    def keys(self, course_id: int, unit: str, user: int) -> Keys:
        if not user:
            return ()
        if unit == COURSE_UNIT:
            return (("completion", f"completion:{course_id}:{user}"),)
        return (("completion", f"completion:{course_id}:cm{unit}:{user}"),)

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        # Per sync: each learner's courses, asked once (shared by the courses read).
        self._answers: dict[int, asyncio.Future[UserCourses]] = {}
        self._spread: set[int] = set()  # learners whose other courses were emitted
        self._known: dict[int, CourseInfo] | None = None  # the course list, by id

    async def read_course(self, course: CourseInfo) -> CourseOutput:
        out = self.output()
        site = self.site
        members = await site.members(course.id)
        out.members = {m.user_id for m in members}
        learners = [m for m in members if m.role is PersonRole.LEARNER]
        if not course.enablecompletion:
            # Tracking switched off: Moodle keeps the data but no longer shows it.
            out.hidden = {m.user_id for m in learners}
            return out
        out.units.add(COURSE_UNIT)
        answers = await asyncio.gather(
            *(self._user_courses(m) for m in learners), return_exceptions=True
        )
        for member, entries in zip(learners, answers, strict=True):
            uid = member.user_id
            where = f"cours {course.id}, apprenant {uid}"
            if isinstance(entries, SkipItem):
                out.skipped.append(self.skipped(where, entries.message, entries.code))
                continue
            if isinstance(entries, BaseException):
                raise entries
            if uid not in self._spread:
                self._spread.add(uid)
                await self._elsewhere(out, course, member, entries)
            entry = entries.get(course.id)
            if entry is None or entry.get("completed") is None:
                # Only active enrolments are listed: suspended or ended, still enrolled.
                # No `completed` at all: the account may not see completion data
                # (report/completion:view; `preuve check` says so): nothing is known.
                out.hidden.add(uid)
                continue
            self.emit(
                out,
                where,
                Completion,
                source_id=f"completion:{course.id}:{uid}",
                unit=COURSE_UNIT,
                user=uid,
                action_ref=site.action_ref(course.id),
                person_ref=member.person_ref,
                state=course_state(entry),
            )
        if self.connector.options.activity_completion and (await site.info()).has(
            F_ACTIVITIES_COMPLETION
        ):
            for member in learners:
                await self._activities(out, course, member)
        return out

    async def _elsewhere(
        self, out: CourseOutput, course: CourseInfo, member: Member, entries: UserCourses
    ) -> None:
        """The learner's completions of their other courses, untracked here."""
        if self._known is None:
            self._known = {c.id: c for c in await self.site.courses()}
        for other_id, entry in entries.items():
            other = self._known.get(other_id)
            if other is None or other.id == course.id or not other.enablecompletion:
                continue
            if entry.get("completed") is None:
                continue  # completion data not visible to the account
            self.emit(
                out,
                f"cours {other.id}, apprenant {member.user_id}",
                Completion,
                source_id=f"completion:{other.id}:{member.user_id}",
                action_ref=self.site.action_ref(other.id),
                person_ref=member.person_ref,
                state=course_state(entry),
            )

    def _user_courses(self, member: Member) -> asyncio.Future[UserCourses]:
        """The learner's courses, fetched once per sync whatever course asks first."""
        found = self._answers.get(member.user_id)
        if found is None:
            found = asyncio.ensure_future(self._fetch_user_courses(member.user_id))
            self._answers[member.user_id] = found
        return found

    async def _fetch_user_courses(self, user_id: int) -> UserCourses:
        raw = await self.site.client.call(
            F_USER_COURSES, {"userid": user_id}, item=f"apprenant {user_id}"
        )
        entries: UserCourses = {}
        for entry in raw or ():
            course_id = to_int(entry.get("id")) if isinstance(entry, dict) else None
            if course_id is not None:
                entries[course_id] = {k: entry.get(k) for k in ("completed", "progress")}
        return entries

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
