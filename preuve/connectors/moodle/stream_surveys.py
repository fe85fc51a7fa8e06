"""mod_feedback -> SatisfactionSurvey (+ SatisfactionResponse per answer).

Anonymous feedbacks give answers without a user (``anonattempts``); named ones
give who answered and, with ``mod_feedback_get_non_respondents``, who was asked.
Hot or cold, and the stakeholder asked, come from the options (name or idnumber
patterns). The overall rating is the answer to the question labelled
``survey_rating_label``, normalised to 0..1 on ``survey_rating_scale`` choices.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from preuve.connectors.moodle.constants import (
    F_FEEDBACK_NON_RESPONDENTS,
    F_FEEDBACK_RESPONSES,
    F_FEEDBACKS,
)
from preuve.connectors.moodle.site import CourseInfo
from preuve.connectors.moodle.stream_base import CourseOutput, CourseStream, Keys
from preuve.connectors.moodle.values import epoch, question_label, text, to_float, to_int
from preuve.evidence.model import (
    SatisfactionResponse,
    SatisfactionSurvey,
    Stakeholder,
    SurveyTiming,
)

ANONYMOUS = 1  # mod_feedback: 1 anonymous, 2 named


class SurveysStream(CourseStream):
    name = "surveys"
    functions: ClassVar[tuple[str, ...]] = (F_FEEDBACKS, F_FEEDBACK_RESPONSES)

    def keys(self, course_id: int, unit: str, user: int) -> Keys:
        # unit: the feedback id; user: a response (attempt) id.
        if not user:
            return (("satisfaction_survey", f"feedback:{unit}"),)
        return (("satisfaction_response", f"feedback:{unit}:attempt:{user}"),)

    def _timing(self, name: str | None) -> SurveyTiming:
        cold = self.connector.options.survey_cold.matches(idnumber=None, name=name)
        return SurveyTiming.COLD if cold else SurveyTiming.HOT

    def _stakeholder(self, name: str | None) -> Stakeholder:
        for stakeholder, pattern in self.connector.options.survey_stakeholders.items():
            if name and re.search(pattern, name):
                return stakeholder
        return Stakeholder.LEARNER

    def _rating(self, responses: list[dict[str, Any]]) -> float | None:
        options = self.connector.options
        for response in responses:
            label, _ = question_label(str(response.get("name") or ""))
            if label == options.survey_rating_label:
                raw = to_float(response.get("rawval"))
                if raw is None or raw < 1:
                    return None
                return min(max((raw - 1) / (options.survey_rating_scale - 1), 0.0), 1.0)
        return None

    async def read_course(self, course: CourseInfo) -> CourseOutput:
        out = self.output()
        site = self.site
        if not await site.modules(course.id, "feedback"):
            return out
        raw = await self.fetch(out, F_FEEDBACKS, {"courseids": [course.id]}, f"cours {course.id}")
        people = {m.user_id: m.person_ref for m in await site.members(course.id)}
        for feedback in raw.get("feedbacks") or ():
            await self._feedback(out, course, feedback, people)
        return out

    async def _responses(self, feedback_id: int, item: str) -> dict[str, Any]:
        """Every page of the analysis, merged."""
        size = self.connector.options.page_size
        merged: dict[str, Any] = {"attempts": [], "anonattempts": []}
        page = 0
        while True:
            raw = await self.site.client.call(
                F_FEEDBACK_RESPONSES,
                {"feedbackid": feedback_id, "page": page, "perpage": size},
                item=item,
            )
            attempts = raw.get("attempts") or []
            anon = raw.get("anonattempts") or []
            merged["attempts"].extend(attempts)
            merged["anonattempts"].extend(anon)
            merged["totalattempts"] = to_int(raw.get("totalattempts")) or 0
            merged["totalanonattempts"] = to_int(raw.get("totalanonattempts")) or 0
            if len(attempts) < size and len(anon) < size:
                return merged
            page += 1

    async def _feedback(
        self,
        out: CourseOutput,
        course: CourseInfo,
        feedback: dict[str, Any],
        people: dict[int, str],
    ) -> None:
        site = self.site
        feedback_id = int(feedback["id"])
        item = f"cours {course.id}, questionnaire {feedback_id}"
        name = text(feedback.get("name"))
        anonymous = to_int(feedback.get("anonymous")) == ANONYMOUS
        timing = self._timing(name)
        stakeholder = self._stakeholder(name)
        survey_ref = f"{site.source_id}:feedback:{feedback_id}"
        action_ref = site.action_ref(course.id)
        answers = await self._responses(feedback_id, item)
        count = answers["totalanonattempts"] if anonymous else answers["totalattempts"]
        invited: int | None = None
        if not anonymous and (await site.info()).has(F_FEEDBACK_NON_RESPONDENTS):
            missing = await site.client.call(
                F_FEEDBACK_NON_RESPONDENTS, {"feedbackid": feedback_id, "perpage": 1}, item=item
            )
            invited = count + (to_int(missing.get("total")) or 0)
        self.emit(
            out,
            item,
            SatisfactionSurvey,
            source_id=f"feedback:{feedback_id}",
            unit=str(feedback_id),
            effective_at=epoch(feedback.get("timeopen")),
            action_ref=action_ref,
            survey_ref=survey_ref,
            title=name,
            timing=timing,
            stakeholder=stakeholder,
            anonymous=anonymous,
            invited_count=invited,
            response_count=count,
            opens_at=epoch(feedback.get("timeopen")),
            closes_at=epoch(feedback.get("timeclose")),
        )
        for attempt in answers["anonattempts"] if anonymous else answers["attempts"]:
            uid = to_int(attempt.get("userid"))
            respondent = None
            if not anonymous and uid is not None:
                respondent = people.get(uid) or site.person_ref(uid)
            self.emit(
                out,
                f"{item}, réponse {attempt.get('id')}",
                SatisfactionResponse,
                source_id=f"feedback:{feedback_id}:attempt:{attempt.get('id')}",
                unit=str(feedback_id),
                user=to_int(attempt.get("id")),  # the attempt stands for the user here
                effective_at=epoch(attempt.get("timemodified")),
                action_ref=action_ref,
                survey_ref=survey_ref,
                timing=timing,
                stakeholder=stakeholder,
                respondent_ref=respondent,
                responded_at=epoch(attempt.get("timemodified")),
                rating=self._rating(attempt.get("responses") or []),
            )
