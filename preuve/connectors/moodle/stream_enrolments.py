"""Enrolments and roles -> Person and Enrolment (learners, trainers; active or suspended)."""

from __future__ import annotations

from typing import ClassVar

from preuve.connectors.moodle.constants import F_ENROLLED
from preuve.connectors.moodle.site import CourseInfo
from preuve.connectors.moodle.stream_base import CourseOutput, CourseStream, Keys
from preuve.evidence.model import Enrolment, EnrolmentStatus, Person


class EnrolmentsStream(CourseStream):
    name = "enrolments"
    functions: ClassVar[tuple[str, ...]] = (F_ENROLLED,)
    live = True
    MEMBERS = "members"  # the one unit: every enrolment of the course

    def keys(self, course_id: int, unit: str, user: int) -> Keys:
        # The Person record is per user across courses: it stays.
        return (("enrolment", f"enrol:{course_id}:{user}"),) if user else ()

    async def read_course(self, course: CourseInfo) -> CourseOutput:
        out = self.output()
        site = self.site
        action_ref = site.action_ref(course.id)
        members = await site.members(course.id)
        out.members = {m.user_id for m in members}
        for member in members:
            item = f"cours {course.id}, utilisateur {member.user_id}"
            # One Person per (user, role): a trainer here may be a learner elsewhere.
            self.emit(
                out,
                item,
                Person,
                source_id=f"user:{member.user_id}:{member.role.value}",
                person_ref=member.person_ref,
                roles=(member.role,),
                display_name=member.display_name,
            )
            self.emit(
                out,
                item,
                Enrolment,
                source_id=f"enrol:{course.id}:{member.user_id}",
                unit=self.MEMBERS,
                user=member.user_id,
                action_ref=action_ref,
                person_ref=member.person_ref,
                role=member.role,
                status=EnrolmentStatus.SUSPENDED if member.suspended else EnrolmentStatus.ACTIVE,
            )
        return out
