"""Courses -> TrainingAction, CourseDescription and LearningResource (course contents)."""

from __future__ import annotations

import re
from typing import ClassVar

from preuve.connectors.moodle.constants import F_CONTENTS, F_COURSES
from preuve.connectors.moodle.site import CourseInfo
from preuve.connectors.moodle.stream_base import CourseOutput, CourseStream, Keys
from preuve.connectors.moodle.values import duration_hours, epoch, epoch_date, text
from preuve.evidence.model import (
    CertificationRegister,
    CourseDescription,
    LearningResource,
    Modality,
    TrainingAction,
)

_CERTIFICATION = re.compile(r"^\s*(RNCP|RS)\s*-?\s*(\d+)\s*$", re.I)
_MODALITIES = (
    (re.compile(r"(?i)mixte|hybride|blended|multimodal"), Modality.BLENDED),
    (re.compile(r"(?i)distan|foad|ligne|online|e-?learning|remote"), Modality.DISTANCE),
    (re.compile(r"(?i)pr(é|e)sentiel|face|inter|intra|site"), Modality.FACE_TO_FACE),
)
# Activities that are learning done at a distance (FOAD evidence).
COURSE_UNIT = "course"  # the course's own records; other units are module ids
DISTANCE_MODULES = frozenset({"scorm", "h5pactivity", "lesson", "lti", "bigbluebuttonbn"})


def modality(value: str | None) -> Modality | None:
    if not value:
        return None
    for pattern, found in _MODALITIES:
        if pattern.search(value):
            return found
    return None


def certification(value: str | None) -> tuple[CertificationRegister | None, str | None]:
    match = _CERTIFICATION.match(value or "")
    if not match:
        return None, None
    register = CertificationRegister(match.group(1).upper())
    return register, f"{register.value}{match.group(2)}"


class CoursesStream(CourseStream):
    name = "courses"
    functions: ClassVar[tuple[str, ...]] = (F_COURSES, F_CONTENTS)

    def keys(self, course_id: int, unit: str, user: int) -> Keys:
        if user:
            return ()
        if unit == COURSE_UNIT:
            return (
                ("training_action", f"course:{course_id}"),
                ("course_description", f"course:{course_id}"),
            )
        return (("learning_resource", f"cm:{unit}"),)

    async def read_course(self, course: CourseInfo) -> CourseOutput:
        out = self.output()
        site = self.site
        fields = self.connector.options.course_fields
        tz = self.connector.options.tz
        custom = course.customfields
        action_ref = site.action_ref(course.id)
        info = await site.info()
        url = f"{info.site_url}/course/view.php?id={course.id}" if info.site_url else None
        register, code = certification(custom.get(fields.certification_code))
        hours = duration_hours(custom.get(fields.duration))
        start = epoch_date(custom.get(fields.start_date), tz) or epoch_date(course.startdate, tz)
        end = epoch_date(custom.get(fields.end_date), tz) or epoch_date(course.enddate, tz)
        modality_text = text(custom.get(fields.modality))
        item = f"cours {course.id}"
        self.emit(
            out,
            item,
            TrainingAction,
            source_id=f"course:{course.id}",
            unit=COURSE_UNIT,
            effective_at=epoch(course.startdate),
            source_url=url,
            action_ref=action_ref,
            title=course.fullname,
            certification_register=register,
            certification_code=code,
            duration_hours=hours,
            modality=modality(modality_text),
            start_date=start,
            end_date=end,
        )
        objectives = text(custom.get(fields.objectives))
        self.emit(
            out,
            item,
            CourseDescription,
            source_id=f"course:{course.id}",
            unit=COURSE_UNIT,
            source_url=url,
            action_ref=action_ref,
            title=course.fullname,
            objectives=tuple(o.strip() for o in re.split(r"[;\n]", objectives) if o.strip())
            if objectives
            else (),
            prerequisites=text(custom.get(fields.prerequisites)),
            duration_hours=hours,
            modalities=modality_text,
            price=text(custom.get(fields.price)),
            access_lead_time=text(custom.get(fields.access_lead_time)),
            accessibility=text(custom.get(fields.accessibility)),
            published_url=url,
        )
        for module in await site.contents(course.id):
            self.emit(
                out,
                f"cours {course.id}, activité {module.cmid}",
                LearningResource,
                source_id=f"cm:{module.cmid}",
                unit=str(module.cmid),
                source_url=module.url,
                action_ref=action_ref,
                resource_ref=f"{site.source_id}:cm:{module.cmid}",
                title=module.name,
                resource_type=module.modname,
                url=module.url,
                distance=module.modname in DISTANCE_MODULES,
            )
        return out
