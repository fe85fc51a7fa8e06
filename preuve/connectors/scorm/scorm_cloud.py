"""SCORM Cloud registration reports: API v2 JSON and API v1 XML.

JSON (``RegistrationSchema``, alone, in a list, or under ``registrations``):
``score.scaled`` is 0..100 there, not -1..1. XML (v1 ``registrationreport``,
possibly inside ``registration`` list entries) is streamed registration by
registration. Field names: docs/scorm.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, tzinfo
from typing import Any, BinaryIO

import orjson

from preuve.connectors.scorm.cmi import (
    COMPLETION_2004,
    SUCCESS_2004,
    CompletionStatus,
    NormalisedAttempt,
    Score,
    SuccessStatus,
    normalise_cmi,
)
from preuve.connectors.scorm.constants import MAX_JSON_EXPORT_BYTES, VERSION_2004
from preuve.connectors.scorm.dates import DateError, parse_date
from preuve.connectors.scorm.durations import DurationError, parse_duration
from preuve.connectors.scorm.errors import MSG_ROOT, ScormError
from preuve.connectors.scorm.lom import child, children, text_of
from preuve.connectors.scorm.tracking import TrackedAttempt, TrackingProblem
from preuve.connectors.scorm.xmlsafe import iterparse, local
from preuve.i18n import Text

MSG_JSON = Text(fr="JSON illisible : {error}", en="unreadable JSON: {error}")
MSG_TOO_BIG = Text(
    fr="export JSON trop volumineux ({size} octets, maximum {limit})",
    en="JSON export too large ({size} bytes, limit {limit})",
)
MSG_NOT_REGISTRATIONS = Text(
    fr="rapport SCORM Cloud attendu (objet d'inscription ou liste « registrations »)",
    en="expected a SCORM Cloud report (a registration object or a 'registrations' list)",
)
MSG_NO_LEARNER = Text(
    fr="ni learner.email, ni learner.id, ni identifiant d'inscription",
    en="no learner.email, learner.id or registration id",
)
MSG_FAILED_RSP = Text(
    fr="réponse SCORM Cloud en erreur : {message}", en="SCORM Cloud error response: {message}"
)
MSG_BAD_FIELD = Text(fr="{field} : {error}", en="{field}: {error}")

_RUNTIME_TO_CMI = {
    "completionStatus": "cmi.completion_status",
    "runtimeSuccessStatus": "cmi.success_status",
    "successStatus": "cmi.success_status",
    "scoreScaled": "cmi.score.scaled",
    "scoreRaw": "cmi.score.raw",
    "scoreMin": "cmi.score.min",
    "scoreMax": "cmi.score.max",
    "progressMeasure": "cmi.progress_measure",
    "totalTime": "cmi.total_time",
    "entry": "cmi.entry",
    "exit": "cmi.exit",
    "credit": "cmi.credit",
    "completionThreshold": "cmi.completion_threshold",
    "scaledPassingScore": "cmi.scaled_passing_score",
}
_INTERACTION_FIELDS = {
    "id": "id",
    "type": "type",
    "timestamp": "timestamp",
    "weighting": "weighting",
    "learnerResponse": "learner_response",
    "result": "result",
    "latency": "latency",
    "description": "description",
}


def _dict(value: object) -> dict[str, Any]:
    """A JSON object, or {} for anything else (exports are not always well formed)."""
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return str(value).strip() or None if isinstance(value, str | int | float) else None


def _status(value: object) -> str:
    return str(value or "").strip().lower()


def _percent(value: object) -> float | None:
    """SCORM Cloud's 0..100 scaled score as -1..1 (None for 'unknown' or blank)."""
    if value is None or _status(value) in {"", "unknown"}:
        return None
    number = float(str(value).replace(",", "."))
    return round(number / 100, 6)


def _cmi_from_runtime(runtime: Mapping[str, Any]) -> dict[str, str]:
    elements: dict[str, str] = {}
    for key, element in _RUNTIME_TO_CMI.items():
        value = runtime.get(key)
        if value is not None and str(value).strip():
            elements[element] = str(value).strip().lower() if "status" in element else str(value)
    interactions = runtime.get("runtimeInteractions")
    for index, raw_interaction in enumerate(interactions if isinstance(interactions, list) else ()):
        interaction = _dict(raw_interaction)
        for key, name in _INTERACTION_FIELDS.items():
            if (value := interaction.get(key)) is not None:
                elements[f"cmi.interactions.{index}.{name}"] = str(value)
        linked = interaction.get("objectives")
        for n, objective in enumerate(linked if isinstance(linked, list) else ()):
            elements[f"cmi.interactions.{index}.objectives.{n}.id"] = str(objective)
    objectives = runtime.get("runtimeObjectives")
    for index, raw_objective in enumerate(objectives if isinstance(objectives, list) else ()):
        objective = _dict(raw_objective)
        elements[f"cmi.objectives.{index}.id"] = str(objective.get("id", index))
        for key, name in (
            ("runtimeObjectiveSuccessStatus", "success_status"),
            ("successStatus", "success_status"),
            ("runtimeObjectiveCompletionStatus", "completion_status"),
            ("completionStatus", "completion_status"),
            ("scoreScaled", "score.scaled"),
            ("scoreRaw", "score.raw"),
            ("scoreMin", "score.min"),
            ("scoreMax", "score.max"),
            ("description", "description"),
        ):
            if (value := objective.get(key)) is not None and str(value).strip():
                text = str(value).strip()
                elements[f"cmi.objectives.{index}.{name}"] = (
                    text.lower() if "status" in name else text
                )
    return elements


def _summary(
    completion: object, success: object, scaled_percent: object, seconds: object
) -> NormalisedAttempt:
    problems: list[str] = []
    scaled: float | None = None
    try:
        scaled = _percent(scaled_percent)
    except ValueError as exc:
        problems.append(MSG_BAD_FIELD(field="score", error=exc))
    total: float | None = None
    if seconds is not None and _status(seconds) not in {"", "unknown"}:
        try:
            total = float(str(seconds))
        except ValueError:
            try:
                total = parse_duration(str(seconds))
            except DurationError as exc:
                problems.append(MSG_BAD_FIELD(field="time", error=exc))
        total = total or None
    return NormalisedAttempt(
        version=VERSION_2004,
        completion=COMPLETION_2004.get(_status(completion), CompletionStatus.UNKNOWN),
        success=SUCCESS_2004.get(_status(success), SuccessStatus.UNKNOWN),
        score=Score(scaled=scaled) if scaled is not None else None,
        total_seconds=total,
        problems=tuple(problems),
    )


def _date(value: object, zone: tzinfo) -> datetime | None:
    try:
        return parse_date(str(value), zone) if value else None
    except DateError:
        return None


def _json_registration(
    registration: Mapping[str, Any], index: int, zone: tzinfo
) -> Iterator[TrackedAttempt | TrackingProblem]:
    reg_id = str(registration.get("id") or "")
    where = f"registration {reg_id or index}"
    learner = _dict(registration.get("learner"))
    course = _dict(registration.get("course"))
    email = _text(learner.get("email"))
    user_id = _text(learner.get("id")) or reg_id or None
    if not email and not user_id:
        yield TrackingProblem(where, MSG_NO_LEARNER(), "no_learner")
        return
    course_id = _text(course.get("id"))
    course_title = _text(course.get("title"))
    first = _date(registration.get("firstAccessDate"), zone)
    last = _date(registration.get("lastAccessDate"), zone)
    completed = _date(registration.get("completedDate"), zone)
    score = _dict(registration.get("score"))
    summary = _summary(
        registration.get("registrationCompletion"),
        registration.get("registrationSuccess"),
        score.get("scaled"),
        registration.get("totalSecondsTracked"),
    )
    progress = registration.get("registrationCompletionAmount")
    if isinstance(progress, int | float) and 0 <= progress <= 1:
        summary = NormalisedAttempt(**{**_fields(summary), "progress": float(progress)})
    details = _dict(registration.get("activityDetails"))
    attempts = details.get("attempts")
    attempt = int(attempts) if isinstance(attempts, int) else None
    yield TrackedAttempt(
        where,
        "scorm_cloud",
        course_id,
        course_title,
        None,
        None,
        email,
        user_id,
        attempt,
        first,
        last,
        completed,
        summary,
    )
    for activity in _leaves(details):
        runtime = _dict(activity.get("runtime"))
        if runtime:
            result = normalise_cmi(_cmi_from_runtime(runtime), VERSION_2004)
        else:
            result = _summary(
                activity.get("activityCompletion"),
                activity.get("activitySuccess"),
                _dict(activity.get("score")).get("scaled"),
                activity.get("timeTracked"),
            )
        tries = activity.get("attempts")
        yield TrackedAttempt(
            where,
            "scorm_cloud",
            course_id,
            course_title,
            str(activity.get("id")),
            _text(activity.get("title")),
            email,
            user_id,
            int(tries) if isinstance(tries, int) else attempt,
            first,
            last,
            completed if result.completion is CompletionStatus.COMPLETED else None,
            result,
        )


def _fields(attempt: NormalisedAttempt) -> dict[str, Any]:
    return {name: getattr(attempt, name) for name in attempt.__slots__}


def _leaves(activity: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Activities that are SCOs (no children): the course root is reported as a whole."""
    kids = activity.get("children")
    if not isinstance(kids, list) or not kids:
        if activity.get("id") is not None and _dict(activity.get("runtime")):
            yield activity
        return
    for kid in kids:
        yield from _leaves(_dict(kid))


def check_json_size(size: int, file: str) -> None:
    """JSON is loaded whole (no streaming parser): refuse a file past the limit first."""
    if size > MAX_JSON_EXPORT_BYTES:
        raise ScormError(
            file, MSG_TOO_BIG(size=size, limit=MAX_JSON_EXPORT_BYTES), code="too_large"
        )


def read_cloud_json(
    data: bytes, *, file: str, zone: tzinfo
) -> Iterator[TrackedAttempt | TrackingProblem]:
    check_json_size(len(data), file)
    try:
        document = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        raise ScormError(file, MSG_JSON(error=exc), code="bad_json") from exc
    if isinstance(document, dict) and isinstance(document.get("registrations"), list):
        registrations = document["registrations"]
    elif isinstance(document, list):
        registrations = document
    elif isinstance(document, dict) and "registrationCompletion" in document:
        registrations = [document]
    else:
        raise ScormError(file, MSG_NOT_REGISTRATIONS(), where=MSG_ROOT(), code="not_cloud")
    for index, registration in enumerate(registrations):
        if not isinstance(registration, dict):
            yield TrackingProblem(f"registrations[{index}]", MSG_NOT_REGISTRATIONS())
            continue
        yield from _json_registration(registration, index, zone)


def _xml_activity(node: Any) -> Iterator[Any]:
    holder = child(node, "children")
    kids = list(children(holder if holder is not None else node, "activity"))
    if not kids:
        yield node
        return
    for kid in kids:
        yield from _xml_activity(kid)


def _xml_runtime(runtime: Any) -> dict[str, str]:
    elements: dict[str, str] = {}
    for node in runtime:
        name = local(node.tag)
        value = text_of(node)
        if value is None or name in {"interactions", "objectives", "suspend_data"}:
            continue
        element = {
            "completion_status": "cmi.completion_status",
            "success_status": "cmi.success_status",
            "score_scaled": "cmi.score.scaled",
            "score_raw": "cmi.score.raw",
            "score_min": "cmi.score.min",
            "score_max": "cmi.score.max",
            "progress_measure": "cmi.progress_measure",
            "total_time": "cmi.total_time",
            "credit": "cmi.credit",
            "entry": "cmi.entry",
            "exit": "cmi.exit",
        }.get(name)
        if element:
            elements[element] = value.lower() if "status" in element else value
    return elements


def _xml_report(
    report: Any, registration: Any | None, zone: tzinfo
) -> Iterator[TrackedAttempt | TrackingProblem]:
    reg_id = report.get("regid") or (registration.get("id") if registration is not None else None)
    where = f"registration {reg_id or '?'}"
    source = registration if registration is not None else report
    lowered = {local(c.tag): text_of(c) for c in source} | {
        k.lower(): v for k, v in source.attrib.items()
    }
    email = lowered.get("email") or lowered.get("learneremail")
    user_id = lowered.get("learnerid") or reg_id
    if not email and not user_id:
        yield TrackingProblem(where, MSG_NO_LEARNER(), "no_learner")
        return
    course_id = lowered.get("courseid")
    course_title = lowered.get("coursetitle")
    first = _date(lowered.get("firstaccessdate"), zone)
    last = _date(lowered.get("lastaccessdate"), zone)
    completed = _date(lowered.get("completeddate"), zone)
    summary = _summary(
        text_of(child(report, "complete")),
        text_of(child(report, "success")),
        text_of(child(report, "score")),
        text_of(child(report, "totaltime")),
    )
    yield TrackedAttempt(
        where,
        "scorm_cloud",
        course_id,
        course_title,
        None,
        None,
        email,
        user_id,
        None,
        first,
        last,
        completed,
        summary,
    )
    top = child(report, "activity")
    if top is None:
        return
    for activity in _xml_activity(top):
        if activity is top and child(top, "runtime") is None:
            continue
        runtime = child(activity, "runtime")
        if runtime is not None:
            result = normalise_cmi(_xml_runtime(runtime), VERSION_2004)
        else:
            result = _summary(
                text_of(child(activity, "complete")),
                text_of(child(activity, "success")),
                text_of(child(activity, "score")),
                text_of(child(activity, "time")),
            )
        tries = text_of(child(activity, "attempts"))
        yield TrackedAttempt(
            where,
            "scorm_cloud",
            course_id,
            course_title,
            activity.get("id"),
            text_of(child(activity, "title")),
            email,
            user_id,
            int(tries) if tries and tries.isdigit() else None,
            first,
            last,
            completed if result.completion is CompletionStatus.COMPLETED else None,
            result,
        )


def read_cloud_xml(
    data: bytes | BinaryIO, *, file: str, zone: tzinfo
) -> Iterator[TrackedAttempt | TrackingProblem]:
    """Registration reports, one ``registrationreport`` element at a time.

    ``data``: bytes or a seekable binary file (read as it is parsed, never whole).
    """
    seen_root = False
    for event, element in iterparse(data, file, events=("start", "end")):
        name = local(element.tag)
        if event == "start":
            if not seen_root:
                seen_root = True
                if name not in {"rsp", "registrationreport", "registrationlist", "registration"}:
                    raise ScormError(
                        file, MSG_NOT_REGISTRATIONS(), where=f"<{name}>", code="not_cloud"
                    )
            continue
        if name == "err" and element.getparent() is not None:
            message = element.get("msg") or text_of(element) or "?"
            raise ScormError(file, MSG_FAILED_RSP(message=message), where="<err>", code="rsp_fail")
        if name != "registrationreport":
            continue
        parent = element.getparent()
        registration = (
            parent if parent is not None and local(parent.tag) == "registration" else None
        )
        yield from _xml_report(element, registration, zone)
        element.clear()
        done = element
        if registration is not None:
            # The enclosing <registration> is done with once its report is read.
            registration.clear()
            done = registration
        # Drop the finished siblings too: memory stays flat however many registrations.
        holder = done.getparent()
        while holder is not None and done.getprevious() is not None:
            del holder[0]
