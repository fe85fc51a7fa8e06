"""One xAPI statement -> one evidence record (or withdrawals, for a voiding one).

The record's ``source_id`` is the statement id, so re-reading a statement is an
upsert of the same record. The verb table is in docs/xapi.md; in short:

- ``attended`` -> Attendance (half-day from the timestamp, Paris time);
- ``passed``/``failed``/``scored`` (ADL, TLA), or ``completed`` with a score
  (Moodle quiz attempt, lesson) -> Assessment;
- ``completed``/``submit`` of a survey or feedback activity -> SatisfactionResponse;
- ``completed``, ``satisfied``, ``waived``, ``achieved``, ``uncompleted`` -> Completion;
- everything else (launched, initialized, terminated, abandoned, progressed,
  answered, BigBlueButton join/leave, unknown verbs...) -> ActivityTrace with
  the verb IRI, the duration and the progress when the statement has them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from preuve.connectors.base import Connector
from preuve.connectors.errors import SkippedItem
from preuve.connectors.xapi import constants as c
from preuve.connectors.xapi.actors import ActorResolver
from preuve.connectors.xapi.options import XapiOptions
from preuve.connectors.xapi.validation import parse_duration, parse_timestamp
from preuve.constants import PARIS_TZ
from preuve.evidence.model import (
    ActivityTrace,
    Assessment,
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    Completion,
    CompletionState,
    EvidenceData,
    EvidenceRecord,
    HalfDay,
    SatisfactionResponse,
    Withdrawal,
)
from preuve.i18n import Text

MSG_NO_ACTOR = Text(
    fr="acteur sans identifiant exploitable (groupe anonyme ?)",
    en="actor without a usable identifier (anonymous group?)",
)
MSG_NO_ID = Text(fr="déclaration sans id", en="statement without an id")
MSG_BAD_SHAPE = Text(fr="déclaration illisible : {error}", en="unreadable statement: {error}")
MSG_VOIDED_BY = "voided by xAPI statement {id}"

_PARIS = ZoneInfo(PARIS_TZ)
_ACTION_REF_MAX = 255
_AFTERNOON_FROM_HOUR = 13
_COMPLETION_VERBS = frozenset({c.COMPLETED, c.SATISFIED, c.WAIVED, c.TLA_ACHIEVED, c.UNCOMPLETED})
_ASSESSMENT_VERBS = frozenset({c.PASSED, c.FAILED, c.SCORED, c.TLA_SCORED})
_SURVEY_VERBS = frozenset({c.SUBMIT, c.SUBMIT_SHORT, c.COMPLETED})
_CONTEXT_ORDER = ("grouping", "parent", "other")


@dataclass(slots=True)
class Mapped:
    """What one statement gives: a record, withdrawals, or a reported skip."""

    record: EvidenceRecord | None = None
    withdrawals: list[Withdrawal] = field(default_factory=list)
    skipped: SkippedItem | None = None


def compute_score(score: Any) -> tuple[float | None, float | None]:
    """(score, max_score) from raw/min/max, falling back on scaled.

    raw/min/max are what the grader wrote; a scaled value is only used when they
    are incomplete (Moodle sends ``raw 50, max 100, scaled 0.0``: trusting scaled
    would record a fail).
    """
    if not isinstance(score, dict):
        return None, None
    raw, low, high, scaled = (_num(score.get(k)) for k in ("raw", "min", "max", "scaled"))
    if raw is not None and high is not None:
        base = low if low is not None else 0.0
        span = high - base
        if span > 0:
            return min(max(raw - base, 0.0), span), span
    if scaled is not None:
        return scaled, 1.0
    return raw, None


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _activities(context: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = (context.get("contextActivities") or {}).get(key)
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _type_of(activity: dict[str, Any]) -> str | None:
    definition = activity.get("definition")
    kind = definition.get("type") if isinstance(definition, dict) else None
    return kind if isinstance(kind, str) else None


def _title(activity: dict[str, Any]) -> str | None:
    definition = activity.get("definition")
    names = definition.get("name") if isinstance(definition, dict) else None
    if not isinstance(names, dict) or not names:
        return None
    for lang in ("fr-FR", "fr", "en-US", "en", "en-GB"):
        if isinstance(names.get(lang), str) and names[lang].strip():
            return str(names[lang]).strip()
    first = next(iter(names.values()))
    return first.strip() or None if isinstance(first, str) else None


def _bounded_ref(prefix: str, iri: str) -> str:
    ref = prefix + iri
    if len(ref) <= _ACTION_REF_MAX:
        return ref
    return prefix + "sha256:" + hashlib.sha256(iri.encode()).hexdigest()


class StatementMapper:
    """Maps statements for one connector (its tenant, source, options and clock)."""

    def __init__(
        self,
        connector: Connector,
        options: XapiOptions,
        *,
        stream: str = "statements",
        url_for: Callable[[str], str | None] | None = None,
    ) -> None:
        self.connector = connector
        self.options = options
        self.stream = stream
        self.actors = ActorResolver(connector.context.pseudonymiser, options)
        self._rules = options.compiled_rules()
        self._url_for = url_for

    # -- public ------------------------------------------------------------

    def map(self, statement: Any) -> Mapped:
        try:
            return self._map(statement)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            # A statement the LRS accepted but whose shape we cannot read: report it.
            ident = statement.get("id") if isinstance(statement, dict) else None
            return Mapped(
                skipped=SkippedItem(
                    stream=self.stream,
                    item=f"statement {ident or '?'}",
                    reason=MSG_BAD_SHAPE(error=f"{type(exc).__name__}: {exc}"[:300]),
                    code="unreadable_statement",
                )
            )

    @staticmethod
    def voided_target(statement: dict[str, Any]) -> str | None:
        """The id a voiding statement voids; None for any other statement."""
        verb = statement.get("verb")
        if not isinstance(verb, dict) or verb.get("id") != c.VOIDED:
            return None
        target = statement.get("object")
        if isinstance(target, dict) and target.get("objectType") == "StatementRef":
            ident = target.get("id")
            return ident if isinstance(ident, str) else None
        return None

    def withdrawals_for(self, target: str, voiding_id: str, at: datetime) -> list[Withdrawal]:
        reason = MSG_VOIDED_BY.format(id=voiding_id)
        return [
            Withdrawal(kind=kind, source_id=target, reason=reason, at=at)
            for kind in c.STATEMENT_KINDS
        ]

    def action_ref(self, statement: dict[str, Any]) -> str:
        """The training action: first configured rule matching an activity of the
        statement, else the course-typed activity, else the first grouping activity,
        else the last parent, else the object."""
        candidates = list(self._candidates(statement))
        for pattern, template in self._rules:
            for activity in candidates:
                match = pattern.search(activity["id"])
                if match is not None:
                    try:
                        return template.format(*match.groups(), **match.groupdict())[
                            :_ACTION_REF_MAX
                        ]
                    except (IndexError, KeyError):
                        continue
        for activity in candidates:
            if _type_of(activity) in c.COURSE_TYPES:
                return _bounded_ref("xapi:", activity["id"])
        context = statement.get("context") or {}
        grouping = _activities(context, "grouping")
        if grouping and isinstance(grouping[0].get("id"), str):
            return _bounded_ref("xapi:", grouping[0]["id"])
        parents = _activities(context, "parent")
        if parents and isinstance(parents[-1].get("id"), str):
            return _bounded_ref("xapi:", parents[-1]["id"])
        target = statement.get("object") or {}
        return _bounded_ref("xapi:", str(target.get("id") or "unknown"))

    # -- internals -----------------------------------------------------------

    def _candidates(self, statement: dict[str, Any]) -> Iterator[dict[str, Any]]:
        target = statement.get("object")
        if (
            isinstance(target, dict)
            and target.get("objectType", "Activity") == "Activity"
            and isinstance(target.get("id"), str)
        ):
            yield target
        context = statement.get("context") or {}
        for key in _CONTEXT_ORDER:
            for activity in _activities(context, key):
                if isinstance(activity.get("id"), str):
                    yield activity

    def _when(self, statement: dict[str, Any]) -> datetime:
        for key in ("timestamp", "stored"):
            value = statement.get(key)
            if isinstance(value, str):
                parsed = parse_timestamp(value)
                if parsed is not None:
                    return parsed
        return self.connector.context.clock()

    def _map(self, statement: Any) -> Mapped:
        ident = statement.get("id")
        if not isinstance(ident, str) or not ident:
            return Mapped(
                skipped=SkippedItem(
                    stream=self.stream, item="statement ?", reason=MSG_NO_ID(), code="no_id"
                )
            )
        when = self._when(statement)
        target = self.voided_target(statement)
        if target is not None:
            return Mapped(withdrawals=self.withdrawals_for(target, ident, when))
        person = self.actors.person_ref(statement.get("actor"))
        if person is None:
            return Mapped(
                skipped=SkippedItem(
                    stream=self.stream,
                    item=f"statement {ident}",
                    reason=MSG_NO_ACTOR(),
                    code="no_actor",
                )
            )
        data = self._payload(statement, person, when)
        record = self.connector.record(
            data,
            source_id=ident,
            effective_at=when,
            source_url=self._url_for(ident) if self._url_for else None,
        )
        return Mapped(record=record)

    def _payload(self, statement: dict[str, Any], person: str, when: datetime) -> EvidenceData:
        verb = statement["verb"]["id"]
        target = statement["object"]
        target_type = _type_of(target) if isinstance(target, dict) else None
        result = statement.get("result") or {}
        context = statement.get("context") or {}
        action = self.action_ref(statement)
        activity = self._activity_ref(target, context)
        score, max_score = compute_score(result.get("score"))
        success = result.get("success") if isinstance(result.get("success"), bool) else None

        if verb == c.ATTENDED:
            local = when.astimezone(_PARIS)
            absent = result.get("completion") is False
            return Attendance(
                action_ref=action,
                person_ref=person,
                day=local.date(),
                half=HalfDay.AFTERNOON if local.hour >= _AFTERNOON_FROM_HOUR else HalfDay.MORNING,
                status=AttendanceStatus.ABSENT if absent else AttendanceStatus.PRESENT,
                method=AttendanceMethod.TRAINER
                if context.get("instructor")
                else AttendanceMethod.SYSTEM,
                status_label="attended",
            )
        if target_type in c.SURVEY_TYPES and verb in _SURVEY_VERBS:
            rating = None
            if score is not None and max_score:
                rating = min(max(score / max_score, 0.0), 1.0)
            return SatisfactionResponse(
                action_ref=action,
                survey_ref=str(target["id"]),
                timing=self.options.survey_timing,
                respondent_ref=person,
                responded_at=when,
                rating=rating,
            )
        if verb in _ASSESSMENT_VERBS or (verb == c.COMPLETED and score is not None):
            passed = success
            if passed is None and verb in (c.PASSED, c.FAILED):
                passed = verb == c.PASSED
            return Assessment(
                action_ref=action,
                person_ref=person,
                assessment_kind=self.options.assessment_kind,
                activity_ref=activity,
                title=_title(target) if isinstance(target, dict) else None,
                score=score,
                max_score=max_score,
                passed=passed,
                assessed_at=when,
            )
        if verb in _COMPLETION_VERBS:
            incomplete = verb == c.UNCOMPLETED or result.get("completion") is False
            whole_action = target_type in c.COURSE_TYPES
            return Completion(
                action_ref=action,
                person_ref=person,
                activity_ref=None if whole_action else activity,
                state=CompletionState.INCOMPLETE if incomplete else CompletionState.COMPLETED,
                completed_at=None if incomplete else when,
            )
        duration = result.get("duration")
        return ActivityTrace(
            action_ref=action,
            person_ref=person,
            activity_ref=activity,
            verb=verb,
            at=when,
            duration_seconds=parse_duration(duration) if isinstance(duration, str) else None,
            progress=_progress(result),
        )

    @staticmethod
    def _activity_ref(target: Any, context: dict[str, Any]) -> str:
        if not isinstance(target, dict):
            return "unknown"
        object_type = target.get("objectType", "Activity")
        if object_type == "Activity":
            # A quiz attempt is one try at the quiz: the quiz is the activity.
            if _type_of(target) == c.ACT + "attempt":
                parents = _activities(context, "parent")
                if parents and isinstance(parents[0].get("id"), str):
                    return str(parents[0]["id"])
            return str(target.get("id"))
        if object_type == "StatementRef":
            return f"statement:{target.get('id')}"
        if object_type == "SubStatement":
            inner = target.get("object") or {}
            return str(inner.get("id") or "substatement")
        return str(object_type).lower()


def _progress(result: dict[str, Any]) -> float | None:
    extensions = result.get("extensions")
    if not isinstance(extensions, dict):
        return None
    value = _num(extensions.get(c.CMI5_PROGRESS_EXT))
    if value is not None and 0 <= value <= 100:
        return value / 100
    value = _num(extensions.get(c.SCORM_PROGRESS_EXT))
    if value is not None and 0 <= value <= 1:
        return value
    return None
