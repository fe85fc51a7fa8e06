"""The user grade report -> Assessment (entry positioning, formative, final).

``gradereport_user_get_grade_items`` gives every learner's grades of a course in
one call, with raw numbers (``graderaw``) next to HTML-formatted strings that
are never parsed. Which activity is the entry positioning test or the final
assessment is decided by the ``positioning`` / ``final_assessment`` options.

An entry positioning quiz is dated by when the learner took it: the report's
``gradedatesubmitted`` (a quiz's last finished attempt), not ``gradedategraded``
(the last regrade). When the report has no date or no grade (imported or
overridden grades, a grade awaiting a regrade), the quiz is asked: its first
finished attempt (the function chosen per Moodle version:
``mod_quiz_get_user_quiz_attempts`` from 5.0, else ``mod_quiz_get_user_attempts``)
and, without a grade, ``mod_quiz_get_user_best_grade`` (with the pass mark). Only
those learners cost requests.

Withdrawals: the report lists only learners with an *active* enrolment (Moodle's
default "show only active enrolments"; recorded on 4.5: a suspended learner is
absent). A learner still enrolled but absent from it (suspended, or the
enrolment has ended) keeps their grades (``hidden``); a learner who left the
course has them withdrawn, and so does a grade deleted for a listed learner.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from preuve.connectors.errors import SkipItem
from preuve.connectors.moodle.constants import F_GRADE_ITEMS, F_QUIZ_BEST_GRADE, TAG_FUNCTIONS
from preuve.connectors.moodle.options import MoodleOptions
from preuve.connectors.moodle.site import CourseInfo, Member
from preuve.connectors.moodle.stream_base import CourseOutput, CourseStream, Keys
from preuve.connectors.moodle.tags import carried
from preuve.connectors.moodle.values import epoch, text, to_float, to_int
from preuve.evidence.model import Assessment, AssessmentKind, PersonRole

GRADED_MODULES = frozenset({"quiz", "assign", "lesson", "h5pactivity", "workshop", "scorm"})
FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class ItemInfo:
    kind: AssessmentKind | None  # None: not an assessment (course total, category...)
    title: str | None
    max_score: float | None
    activity_ref: str | None
    quiz_id: int | None = None  # set for an entry positioning quiz: read its attempts


@dataclass(frozen=True, slots=True)
class QuizResult:
    """What the quiz functions say of one learner's positioning test."""

    finished_at: datetime | None  # first finished attempt
    score: float | None = None  # best grade, asked only when the report has none
    passed: bool | None = None


def assessment_kind(
    options: MoodleOptions,
    idnumber: str | None,
    name: str | None,
    tags: frozenset[str] = frozenset(),
) -> AssessmentKind:
    """Entry positioning, final or formative, by idnumber, name or (option) tag."""
    if options.positioning.matches_activity(idnumber=idnumber, name=name, tags=tags):
        return AssessmentKind.ENTRY_POSITIONING
    if options.final_assessment.matches_activity(idnumber=idnumber, name=name, tags=tags):
        return AssessmentKind.FINAL
    return AssessmentKind.FORMATIVE


class AssessmentsStream(CourseStream):
    name = "assessments"
    functions: ClassVar[tuple[str, ...]] = (F_GRADE_ITEMS,)

    def required_functions(self) -> tuple[str, ...]:
        tags = TAG_FUNCTIONS if self.connector.options.activity_tags else ()
        return (*self.functions, *tags)

    def keys(self, course_id: int, unit: str, user: int) -> Keys:
        return (("assessment", f"grade:{course_id}:{unit}:{user}"),) if user else ()

    async def read_course(self, course: CourseInfo) -> CourseOutput:
        out = self.output()
        site = self.site
        raw = await self.fetch(out, F_GRADE_ITEMS, {"courseid": course.id}, f"cours {course.id}")
        people = {m.user_id: m for m in await site.members(course.id)}
        out.members = set(people)
        items: dict[object, ItemInfo] = {}
        quizzes: list[tuple[Member, dict[str, Any], ItemInfo]] = []
        attempts_function = (await site.info()).quiz_attempts_function
        read_quizzes = (await site.info()).has(attempts_function)
        tag_index = await site.tag_index()  # empty, and no request, without tag options
        listed: set[int] = set()
        present: set[str] = set()  # assessment items in the report, graded or not
        for user in raw.get("usergrades") or ():
            uid = to_int(user.get("userid"))
            member = people.get(uid) if uid is not None else None
            if member is None or member.role is not PersonRole.LEARNER:
                continue
            listed.add(member.user_id)
            for grade in user.get("gradeitems") or ():
                info = items.get(grade.get("id"))
                if info is None:
                    info = items[grade.get("id")] = self._item(grade, tag_index)
                if info.kind is not None:
                    present.add(str(grade.get("id")))
                if info.quiz_id is not None and read_quizzes and self._needs_quiz(grade):
                    quizzes.append((member, grade, info))
                elif info.kind is not None:
                    self._grade(out, course, member, grade, info)
        results = await asyncio.gather(
            *(self._quiz(course, m, g, i, attempts_function) for m, g, i in quizzes),
            return_exceptions=True,
        )
        for (member, grade, info), result in zip(quizzes, results, strict=True):
            if isinstance(result, SkipItem):
                out.skipped.append(
                    self.skipped(self._where(course, grade, member), result.message, result.code)
                )
                self._grade(out, course, member, grade, info)  # the report's data still holds
            elif isinstance(result, BaseException):
                raise result
            else:
                self._grade(out, course, member, grade, info, result)
        out.hidden = {
            m.user_id
            for m in people.values()
            if m.role is PersonRole.LEARNER and m.user_id not in listed
        }
        if out.hidden:
            # The items still there, graded or not: the grades the hidden learners had
            # on them are kept; an item gone from the report was deleted.
            out.units |= present
        return out

    @staticmethod
    def _needs_quiz(grade: dict[str, Any]) -> bool:
        return to_float(grade.get("graderaw")) is None or not epoch(grade.get("gradedatesubmitted"))

    @staticmethod
    def _where(course: CourseInfo, grade: dict[str, Any], member: Member) -> str:
        return f"cours {course.id}, note {grade.get('id')}, apprenant {member.user_id}"

    async def _quiz(
        self,
        course: CourseInfo,
        member: Member,
        grade: dict[str, Any],
        info: ItemInfo,
        attempts_function: str,
    ) -> QuizResult:
        client = self.site.client
        where = self._where(course, grade, member)
        asked = {"quizid": info.quiz_id, "userid": member.user_id}
        raw = await client.call(attempts_function, {**asked, "status": FINISHED}, item=where)
        times = [
            t
            for a in raw.get("attempts") or ()
            if isinstance(a, dict) and a.get("state") == FINISHED and not a.get("preview")
            for t in (to_int(a.get("timefinish")),)
            if t
        ]
        finished = epoch(min(times)) if times else None
        if to_float(grade.get("graderaw")) is not None or finished is None:
            return QuizResult(finished)
        if not (await self.site.info()).has(F_QUIZ_BEST_GRADE):
            return QuizResult(finished)
        best = await client.call(F_QUIZ_BEST_GRADE, asked, item=where)
        score = to_float(best.get("grade")) if best.get("hasgrade") else None
        to_pass = to_float(best.get("gradetopass"))
        passed = score >= to_pass if score is not None and to_pass else None
        return QuizResult(finished, score, passed)

    def _item(self, grade: dict[str, Any], tag_index: dict[str, frozenset[int]]) -> ItemInfo:
        """What is the same for every learner: computed once per grade item."""
        if grade.get("itemtype") != "mod" or grade.get("itemmodule") not in GRADED_MODULES:
            return ItemInfo(None, None, None, None)
        name = text(grade.get("itemname"))
        idnumber = str(grade.get("idnumber") or "") or None
        maximum = to_float(grade.get("grademax"))
        cmid = to_int(grade.get("cmid"))
        tags = carried(tag_index, cmid)
        kind = assessment_kind(self.connector.options, idnumber, name, tags)
        positioning_quiz = (
            kind is AssessmentKind.ENTRY_POSITIONING and grade.get("itemmodule") == "quiz"
        )
        return ItemInfo(
            kind,
            name,
            maximum if maximum and maximum > 0 else None,
            f"{self.site.source_id}:cm:{cmid}" if cmid else None,
            to_int(grade.get("iteminstance")) if positioning_quiz else None,
        )

    def _grade(
        self,
        out: CourseOutput,
        course: CourseInfo,
        member: Member,
        grade: dict[str, Any],
        info: ItemInfo,
        quiz: QuizResult | None = None,
    ) -> None:
        score = to_float(grade.get("graderaw"))
        passed: bool | None = None
        if score is None and quiz is not None:
            score, passed = quiz.score, quiz.passed
        if score is None and (quiz is None or quiz.finished_at is None):
            return  # not graded yet, not even attempted
        site = self.site
        uid = member.user_id
        graded = epoch(grade.get("gradedategraded")) or epoch(grade.get("gradedatesubmitted"))
        if info.quiz_id is not None:
            # When the learner was positioned, not when the quiz was last regraded.
            graded = epoch(grade.get("gradedatesubmitted")) or graded
        if quiz is not None and quiz.finished_at is not None:
            graded = quiz.finished_at
        self.emit(
            out,
            self._where(course, grade, member),
            Assessment,
            source_id=f"grade:{course.id}:{grade.get('id')}:{uid}",
            unit=str(grade.get("id")),
            user=uid,
            effective_at=graded,
            action_ref=site.action_ref(course.id),
            person_ref=member.person_ref,
            assessment_kind=info.kind,
            activity_ref=info.activity_ref,
            title=info.title,
            score=score,
            max_score=info.max_score,
            passed=passed,
            assessed_at=graded,
        )
