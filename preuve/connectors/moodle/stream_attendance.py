"""mod_attendance sessions -> TrainingSession, Slot (half-days) and Attendance.

Status sets differ per activity (acronyms and descriptions are free text), so a
status is recognised by the ``attendance_status_map`` option, then by common
acronyms and descriptions, then by its grade (full grade: present, 0: absent).

mod_attendance keeps the statuses of people who left the course and still
returns them; they are left out (and withdrawn if read before), like the other
records of a learner who is no longer enrolled: the coverage only counts
enrolled learners, and the withdrawn rows stay in the history.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from preuve.connectors.moodle.constants import F_ATTENDANCE_SESSIONS
from preuve.connectors.moodle.site import CourseInfo
from preuve.connectors.moodle.stream_base import CourseOutput, CourseStream, Keys
from preuve.connectors.moodle.values import epoch, half_days, text, to_float, to_int
from preuve.evidence.model import Attendance, AttendanceStatus, Slot, TrainingSession
from preuve.i18n import Text

MSG_UNKNOWN_STATUS = Text(
    fr="statut de présence « {label} » non reconnu : ajoutez-le à attendance_status_map",
    en="attendance status '{label}' not recognised: add it to attendance_status_map",
)

KNOWN_STATUSES: dict[str, AttendanceStatus] = {
    "p": AttendanceStatus.PRESENT,
    "present": AttendanceStatus.PRESENT,
    "présent": AttendanceStatus.PRESENT,
    "a": AttendanceStatus.ABSENT,
    "absent": AttendanceStatus.ABSENT,
    "l": AttendanceStatus.LATE,
    "r": AttendanceStatus.LATE,
    "late": AttendanceStatus.LATE,
    "retard": AttendanceStatus.LATE,
    "en retard": AttendanceStatus.LATE,
    "e": AttendanceStatus.EXCUSED,
    "excused": AttendanceStatus.EXCUSED,
    "excusé": AttendanceStatus.EXCUSED,
    "absence justifiée": AttendanceStatus.EXCUSED,
}


def status_of(
    status: dict[str, Any], best_grade: float | None, custom: dict[str, AttendanceStatus]
) -> AttendanceStatus | None:
    keys = [str(status.get("acronym") or ""), str(status.get("description") or "")]
    lowered = {k.lower(): v for k, v in custom.items()}
    for key in keys:
        found = lowered.get(key.strip().lower())
        if found is not None:
            return found
    for key in keys:
        found = KNOWN_STATUSES.get(key.strip().lower())
        if found is not None:
            return found
    grade = to_float(status.get("grade"))
    if grade is not None and best_grade:
        if grade >= best_grade:
            return AttendanceStatus.PRESENT
        if grade == 0:
            return AttendanceStatus.ABSENT
    return None


class AttendanceStream(CourseStream):
    name = "attendance"
    functions: ClassVar[tuple[str, ...]] = (F_ATTENDANCE_SESSIONS,)
    live = True

    def keys(self, course_id: int, unit: str, user: int) -> Keys:
        # unit: "session" or "session:attendance:day:half" (one half-day of a session).
        parts = unit.split(":")
        if len(parts) != 4:
            return () if user else (("session", f"attsession:{unit}"),)
        session, attendance, day, half = parts
        if user:
            return (("attendance", f"att:{session}:{user}:{half}:{day}"),)
        return (("slot", f"slot:{attendance}:{day}:{half}"),)

    async def read_course(self, course: CourseInfo) -> CourseOutput:
        out = self.output()
        site = self.site
        modules = await site.modules(course.id, "attendance")
        if not modules:
            return out
        people = {m.user_id: m.person_ref for m in await site.members(course.id)}
        out.members = set(people)
        for module in modules:
            sessions = await self.fetch(
                out,
                F_ATTENDANCE_SESSIONS,
                {"attendanceid": module.instance},
                f"cours {course.id}, émargement {module.instance}",
            )
            for session in sessions or ():
                self._session(out, course, module.instance, session, people)
        return out

    def _session(
        self,
        out: CourseOutput,
        course: CourseInfo,
        attendance_id: int,
        session: dict[str, Any],
        people: dict[int, str],
    ) -> None:
        site = self.site
        options = self.connector.options
        action_ref = site.action_ref(course.id)
        session_id = int(session["id"])
        start = to_int(session.get("sessdate")) or 0
        duration = to_int(session.get("duration")) or 0
        begins = epoch(start)
        item = f"cours {course.id}, séance {session_id}"
        if begins is None:
            return
        session_ref = f"{site.source_id}:attsession:{session_id}"
        self.emit(
            out,
            item,
            TrainingSession,
            source_id=f"attsession:{session_id}",
            unit=str(session_id),
            effective_at=begins,
            action_ref=action_ref,
            session_ref=session_ref,
            title=text(session.get("description")),
            start=begins,
            end=begins + timedelta(seconds=duration) if duration else None,
        )
        slots = half_days(start, duration, options.tz)
        # Per half-day: its key in this attendance activity and its tracking unit.
        halves = [
            (day, half, f"{day.isoformat()}:{half.value}", f"{session_id}:{attendance_id}")
            for day, half in slots
        ]
        for day, half, key, session_unit in halves:
            self.emit(
                out,
                item,
                Slot,
                source_id=f"slot:{attendance_id}:{key}",
                unit=f"{session_unit}:{key}",
                effective_at=begins,
                action_ref=action_ref,
                slot_ref=f"{site.source_id}:att{attendance_id}:{key}",
                day=day,
                half=half,
                session_ref=session_ref,
            )
        statuses = {str(s.get("id")): s for s in session.get("statuses") or ()}
        grades = [g for g in (to_float(s.get("grade")) for s in statuses.values()) if g is not None]
        best = max(grades) if grades else None
        for log in session.get("attendance_log") or ():
            student = to_int(log.get("studentid"))
            status = statuses.get(str(log.get("statusid")))
            if student is None or student not in people:
                continue  # no longer enrolled (or never with a mapped role)
            who = f"{item}, apprenant {student}"
            found = status_of(status, best, options.attendance_status_map) if status else None
            if found is None or status is None:
                label = str((status or {}).get("description") or log.get("statusid"))
                out.skipped.append(
                    self.skipped(who, MSG_UNKNOWN_STATUS(label=label), "unknown_status")
                )
                continue
            person_ref = people[student]
            for day, half, key, session_unit in halves:
                self.emit(
                    out,
                    who,
                    Attendance,
                    source_id=f"att:{session_id}:{student}:{half.value}:{day.isoformat()}",
                    unit=f"{session_unit}:{key}",
                    user=student,
                    effective_at=begins,
                    action_ref=action_ref,
                    person_ref=person_ref,
                    slot_ref=f"{site.source_id}:att{attendance_id}:{key}",
                    day=day,
                    half=half,
                    status=found,
                    status_label=text(status.get("description")) or str(status.get("acronym")),
                )
