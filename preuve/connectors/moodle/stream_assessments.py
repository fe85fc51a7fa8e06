"""The user grade report -> Assessment (entry positioning, formative, final).

``gradereport_user_get_grade_items`` gives every learner's grades of a course in
one call, with raw numbers (``graderaw``) next to HTML-formatted strings that
are never parsed. Which activity is the entry positioning test or the final
assessment is decided by the ``positioning`` / ``final_assessment`` options.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from preuve.connectors.moodle.constants import F_GRADE_ITEMS
from preuve.connectors.moodle.options import MoodleOptions
from preuve.connectors.moodle.site import CourseInfo
from preuve.connectors.moodle.stream_base import CourseOutput, CourseStream
from preuve.connectors.moodle.values import epoch, text, to_float, to_int
from preuve.evidence.model import Assessment, AssessmentKind

GRADED_MODULES = frozenset({"quiz", "assign", "lesson", "h5pactivity", "workshop", "scorm"})


@dataclass(frozen=True, slots=True)
class ItemInfo:
    kind: AssessmentKind | None  # None: not an assessment (course total, category...)
    title: str | None
    max_score: float | None
    activity_ref: str | None


def assessment_kind(
    options: MoodleOptions, idnumber: str | None, name: str | None
) -> AssessmentKind:
    if options.positioning.matches(idnumber=idnumber, name=name):
        return AssessmentKind.ENTRY_POSITIONING
    if options.final_assessment.matches(idnumber=idnumber, name=name):
        return AssessmentKind.FINAL
    return AssessmentKind.FORMATIVE


class AssessmentsStream(CourseStream):
    name = "assessments"
    functions: ClassVar[tuple[str, ...]] = (F_GRADE_ITEMS,)

    async def read_course(self, course: CourseInfo) -> CourseOutput:
        out = self.output()
        site = self.site
        raw = await site.client.call(
            F_GRADE_ITEMS, {"courseid": course.id}, item=f"cours {course.id}"
        )
        people = {m.user_id: m for m in await site.members(course.id)}
        items: dict[object, ItemInfo] = {}
        for user in raw.get("usergrades") or ():
            uid = to_int(user.get("userid"))
            member = people.get(uid) if uid is not None else None
            if member is None or member.role.value != "learner":
                continue
            for grade in user.get("gradeitems") or ():
                info = items.get(grade.get("id"))
                if info is None:
                    info = items[grade.get("id")] = self._item(grade)
                if info.kind is not None:
                    self._grade(out, course, member.person_ref, uid or 0, grade, info)
        return out

    def _item(self, grade: dict[str, Any]) -> ItemInfo:
        """What is the same for every learner: computed once per grade item."""
        if grade.get("itemtype") != "mod" or grade.get("itemmodule") not in GRADED_MODULES:
            return ItemInfo(None, None, None, None)
        name = text(grade.get("itemname"))
        idnumber = str(grade.get("idnumber") or "") or None
        maximum = to_float(grade.get("grademax"))
        cmid = to_int(grade.get("cmid"))
        return ItemInfo(
            assessment_kind(self.connector.options, idnumber, name),
            name,
            maximum if maximum and maximum > 0 else None,
            f"{self.site.source_id}:cm:{cmid}" if cmid else None,
        )

    def _grade(
        self,
        out: CourseOutput,
        course: CourseInfo,
        person_ref: str,
        uid: int,
        grade: dict[str, Any],
        info: ItemInfo,
    ) -> None:
        score = to_float(grade.get("graderaw"))
        if score is None:
            return  # not graded yet
        site = self.site
        graded = epoch(grade.get("gradedategraded")) or epoch(grade.get("gradedatesubmitted"))
        self.emit(
            out,
            f"cours {course.id}, note {grade.get('id')}, apprenant {uid}",
            Assessment,
            source_id=f"grade:{course.id}:{grade.get('id')}:{uid}",
            effective_at=graded,
            action_ref=site.action_ref(course.id),
            person_ref=person_ref,
            assessment_kind=info.kind,
            activity_ref=info.activity_ref,
            title=info.title,
            score=score,
            max_score=info.max_score,
            assessed_at=graded,
        )
