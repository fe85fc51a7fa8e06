"""SCORM 1.2 and 2004 run-time data normalised into one model.

Public entry point: :func:`normalise_cmi` takes the raw element/value pairs of
one attempt (``cmi.core.lesson_status`` -> ``passed``...), as the Moodle
connector gets them from ``mod_scorm_get_scorm_sco_tracks`` or ``scorm_scoes_track``,
and returns a :class:`NormalisedAttempt`. Element names are matched, never
element ids (Moodle >= 4.3 ids are per site).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from preuve.connectors.scorm.constants import VERSION_12, VERSION_2004
from preuve.connectors.scorm.durations import DurationError, parse_duration
from preuve.i18n import Text

MSG_BAD_NUMBER = Text(
    fr="{element} : nombre attendu, reçu {value!r}",
    en="{element}: expected a number, got {value!r}",
)
MSG_BAD_STATUS = Text(
    fr="{element} : statut inconnu {value!r}", en="{element}: unknown status {value!r}"
)
MSG_BAD_TIME = Text(fr="{element} : {error}", en="{element}: {error}")
MSG_BAD_VERSION = Text(
    fr="version SCORM inconnue {value!r} (attendu 1.2 ou 2004)",
    en="unknown SCORM version {value!r} (expected 1.2 or 2004)",
)


class CompletionStatus(StrEnum):
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    NOT_ATTEMPTED = "not_attempted"
    UNKNOWN = "unknown"


class SuccessStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Score:
    """Raw, min and max as given; ``scaled`` in -1..1 (given or derived from raw/min/max)."""

    raw: float | None = None
    min: float | None = None
    max: float | None = None
    scaled: float | None = None

    def points(self) -> tuple[float | None, float | None]:
        """(score, max_score) for an Assessment: raw out of max, else scaled as a percentage."""
        if self.raw is not None:
            if self.max is not None and self.max > 0 and self.raw <= self.max:
                return self.raw, self.max
            return self.raw, None
        if self.scaled is not None:
            return round(self.scaled * 100, 4), 100.0
        return None, None


@dataclass(frozen=True, slots=True)
class Interaction:
    id: str
    type: str | None = None
    result: str | None = None
    learner_response: str | None = None
    weighting: float | None = None
    latency_seconds: float | None = None
    timestamp: str | None = None  # 1.2 CMITime has no date; 2004 may lack an offset
    objective_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectiveResult:
    id: str
    completion: CompletionStatus = CompletionStatus.UNKNOWN
    success: SuccessStatus = SuccessStatus.UNKNOWN
    score: Score | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class NormalisedAttempt:
    """One attempt of one SCO (or a whole registration), whatever the standard."""

    version: str
    completion: CompletionStatus = CompletionStatus.UNKNOWN
    success: SuccessStatus = SuccessStatus.UNKNOWN
    credit: bool | None = None  # False for 1.2 "browsed" or cmi.credit = no-credit
    score: Score | None = None
    progress: float | None = None  # 0..1
    session_seconds: float | None = None
    total_seconds: float | None = None
    entry: str | None = None
    exit: str | None = None
    interactions: tuple[Interaction, ...] = ()
    objectives: tuple[ObjectiveResult, ...] = ()
    problems: tuple[str, ...] = ()  # elements that could not be read, with what was expected

    @property
    def passed(self) -> bool | None:
        if self.success is SuccessStatus.PASSED:
            return True
        if self.success is SuccessStatus.FAILED:
            return False
        return None

    @property
    def time_seconds(self) -> float | None:
        return self.total_seconds if self.total_seconds is not None else self.session_seconds


# SCORM 1.2 lesson_status (and AICC one-letter codes) -> (completion, success, credit)
LESSON_STATUS: dict[str, tuple[CompletionStatus, SuccessStatus, bool | None]] = {
    "passed": (CompletionStatus.COMPLETED, SuccessStatus.PASSED, None),
    "failed": (CompletionStatus.COMPLETED, SuccessStatus.FAILED, None),
    "completed": (CompletionStatus.COMPLETED, SuccessStatus.UNKNOWN, None),
    "incomplete": (CompletionStatus.INCOMPLETE, SuccessStatus.UNKNOWN, None),
    "browsed": (CompletionStatus.INCOMPLETE, SuccessStatus.UNKNOWN, False),
    "not attempted": (CompletionStatus.NOT_ATTEMPTED, SuccessStatus.UNKNOWN, None),
    "p": (CompletionStatus.COMPLETED, SuccessStatus.PASSED, None),
    "f": (CompletionStatus.COMPLETED, SuccessStatus.FAILED, None),
    "c": (CompletionStatus.COMPLETED, SuccessStatus.UNKNOWN, None),
    "i": (CompletionStatus.INCOMPLETE, SuccessStatus.UNKNOWN, None),
    "b": (CompletionStatus.INCOMPLETE, SuccessStatus.UNKNOWN, False),
    "n": (CompletionStatus.NOT_ATTEMPTED, SuccessStatus.UNKNOWN, None),
}
COMPLETION_2004: dict[str, CompletionStatus] = {
    "completed": CompletionStatus.COMPLETED,
    "complete": CompletionStatus.COMPLETED,
    "incomplete": CompletionStatus.INCOMPLETE,
    "not attempted": CompletionStatus.NOT_ATTEMPTED,
    "unknown": CompletionStatus.UNKNOWN,
}
SUCCESS_2004: dict[str, SuccessStatus] = {
    "passed": SuccessStatus.PASSED,
    "failed": SuccessStatus.FAILED,
    "unknown": SuccessStatus.UNKNOWN,
}

_VERSION_ALIASES = {
    "1.2": VERSION_12,
    "scorm_1.2": VERSION_12,
    "scorm 1.2": VERSION_12,
    "scorm12": VERSION_12,
    "aicc": VERSION_12,
    "2004": VERSION_2004,
    "1.3": VERSION_2004,
    "scorm_1.3": VERSION_2004,
    "scorm_2004": VERSION_2004,
    "scorm 2004": VERSION_2004,
    "scorm2004": VERSION_2004,
}
_INDEXED = re.compile(r"^cmi\.(interactions|objectives)\.(\d+)\.(.+)$")


def normalise_version(value: str) -> str:
    key = value.strip().lower()
    if key in _VERSION_ALIASES:
        return _VERSION_ALIASES[key]
    if key.startswith("scorm_2004") or key.startswith("2004"):
        return VERSION_2004
    raise ValueError(MSG_BAD_VERSION(value=value))


def lesson_status(value: str) -> tuple[CompletionStatus, SuccessStatus, bool | None] | None:
    """A 1.2 lesson status word, tolerant of case, underscores and an AICC exit flag ('i,s')."""
    key = value.strip().lower().replace("_", " ").split(",")[0].strip()
    return LESSON_STATUS.get(key)


class _Reader:
    def __init__(self, elements: Mapping[str, str]) -> None:
        self.elements = {k.strip().lower(): v for k, v in elements.items()}
        self.problems: list[str] = []

    def text(self, *names: str) -> str | None:
        for name in names:
            value = self.elements.get(name)
            if value is not None and str(value).strip():
                return str(value).strip()
        return None

    def number(self, *names: str) -> float | None:
        value = self.text(*names)
        if value is None:
            return None
        try:
            return float(value.replace(",", "."))
        except ValueError:
            self.problems.append(MSG_BAD_NUMBER(element=names[0], value=value))
            return None

    def duration(self, *names: str) -> float | None:
        value = self.text(*names)
        try:
            return parse_duration(value)
        except DurationError as exc:
            self.problems.append(MSG_BAD_TIME(element=names[0], error=exc))
            return None

    def score(self, prefix: str, *, scaled: bool) -> Score | None:
        raw = self.number(f"{prefix}.raw")
        low = self.number(f"{prefix}.min")
        high = self.number(f"{prefix}.max")
        given = self.number(f"{prefix}.scaled") if scaled else None
        if given is not None and not -1 <= given <= 1:
            self.problems.append(
                MSG_BAD_NUMBER(element=f"{prefix}.scaled (-1..1)", value=str(given))
            )
            given = None
        if raw is None and given is None:
            return None
        if given is None and raw is not None and high is not None and high > (low or 0):
            given = round((raw - (low or 0)) / (high - (low or 0)), 6)
        return Score(raw=raw, min=low, max=high, scaled=given)


def _indexed(elements: Mapping[str, str]) -> dict[tuple[str, int], dict[str, str]]:
    groups: dict[tuple[str, int], dict[str, str]] = {}
    for key, value in elements.items():
        match = _INDEXED.match(key)
        if match:
            groups.setdefault((match[1], int(match[2])), {})[match[3]] = value
    return groups


def _interactions(groups: dict[tuple[str, int], dict[str, str]]) -> tuple[Interaction, ...]:
    found: list[Interaction] = []
    for (kind, _index), fields in sorted(groups.items()):
        if kind != "interactions":
            continue
        reader = _Reader(fields)
        latency: float | None
        try:
            latency = parse_duration(reader.text("latency"))
        except DurationError:
            latency = None
        objective_ids = tuple(
            v.strip() for k, v in sorted(fields.items()) if k.startswith("objectives.") and v
        )
        found.append(
            Interaction(
                id=reader.text("id") or str(_index),
                type=reader.text("type"),
                result=reader.text("result"),
                learner_response=reader.text("learner_response", "student_response"),
                weighting=reader.number("weighting"),
                latency_seconds=latency,
                timestamp=reader.text("timestamp", "time"),
                objective_ids=objective_ids,
            )
        )
    return tuple(found)


def _objectives(
    groups: dict[tuple[str, int], dict[str, str]], version: str, problems: list[str]
) -> tuple[ObjectiveResult, ...]:
    found: list[ObjectiveResult] = []
    for (kind, index), fields in sorted(groups.items()):
        if kind != "objectives":
            continue
        reader = _Reader(fields)
        completion, success = CompletionStatus.UNKNOWN, SuccessStatus.UNKNOWN
        if version == VERSION_12:
            if (status := reader.text("status")) and (mapped := lesson_status(status)):
                completion, success, _ = mapped
        else:
            completion = COMPLETION_2004.get(
                (reader.text("completion_status") or "unknown").lower(), CompletionStatus.UNKNOWN
            )
            success = SUCCESS_2004.get(
                (reader.text("success_status") or "unknown").lower(), SuccessStatus.UNKNOWN
            )
        found.append(
            ObjectiveResult(
                id=reader.text("id") or str(index),
                completion=completion,
                success=success,
                score=reader.score("score", scaled=version == VERSION_2004),
                description=reader.text("description"),
            )
        )
        problems.extend(reader.problems)
    return tuple(found)


def normalise_cmi(
    elements: Mapping[str, str],
    version: str,
    *,
    completion_threshold: float | None = None,
    scaled_passing_score: float | None = None,
) -> NormalisedAttempt:
    """One attempt's CMI elements (1.2 or 2004) in the common model.

    ``version`` is ``"1.2"``, ``"2004"`` or Moodle's ``SCORM_1.2``/``SCORM_1.3``/``AICC``.
    When the manifest's ``completion_threshold`` / ``scaled_passing_score`` are
    given, completion and success are computed from ``progress_measure`` and
    ``score.scaled`` as a SCORM 2004 LMS does. Unreadable values are left out
    and listed in ``problems``; the rest is kept.
    """
    normalised_version = normalise_version(version)
    reader = _Reader(elements)
    credit: bool | None = None
    completion, success = CompletionStatus.UNKNOWN, SuccessStatus.UNKNOWN
    if normalised_version == VERSION_12:
        status = reader.text("cmi.core.lesson_status")
        if status is not None:
            mapped = lesson_status(status)
            if mapped is None:
                reader.problems.append(
                    MSG_BAD_STATUS(element="cmi.core.lesson_status", value=status)
                )
            else:
                completion, success, credit = mapped
        score = reader.score("cmi.core.score", scaled=False)
        session = reader.duration("cmi.core.session_time")
        total = reader.duration("cmi.core.total_time")
        entry, exit_ = reader.text("cmi.core.entry"), reader.text("cmi.core.exit")
        credit_text = reader.text("cmi.core.credit")
        progress = None
    else:
        if (status := reader.text("cmi.completion_status")) is not None:
            completion = COMPLETION_2004.get(status.lower(), CompletionStatus.UNKNOWN)
            if status.lower() not in COMPLETION_2004:
                reader.problems.append(
                    MSG_BAD_STATUS(element="cmi.completion_status", value=status)
                )
        if (status := reader.text("cmi.success_status")) is not None:
            success = SUCCESS_2004.get(status.lower(), SuccessStatus.UNKNOWN)
            if status.lower() not in SUCCESS_2004:
                reader.problems.append(MSG_BAD_STATUS(element="cmi.success_status", value=status))
        score = reader.score("cmi.score", scaled=True)
        progress = reader.number("cmi.progress_measure")
        if progress is not None and not 0 <= progress <= 1:
            reader.problems.append(
                MSG_BAD_NUMBER(element="cmi.progress_measure (0..1)", value=str(progress))
            )
            progress = None
        session = reader.duration("cmi.session_time")
        total = reader.duration("cmi.total_time")
        entry, exit_ = reader.text("cmi.entry"), reader.text("cmi.exit")
        credit_text = reader.text("cmi.credit")
        threshold = completion_threshold
        if threshold is None:
            threshold = reader.number("cmi.completion_threshold")
        if threshold is not None and progress is not None:
            completion = (
                CompletionStatus.COMPLETED if progress >= threshold else CompletionStatus.INCOMPLETE
            )
        passing = scaled_passing_score
        if passing is None:
            passing = reader.number("cmi.scaled_passing_score")
        if passing is not None and score is not None and score.scaled is not None:
            success = SuccessStatus.PASSED if score.scaled >= passing else SuccessStatus.FAILED
    if credit_text is not None:
        credit = credit_text.lower() != "no-credit"
    groups = _indexed(reader.elements)
    objectives = _objectives(groups, normalised_version, reader.problems)
    return NormalisedAttempt(
        version=normalised_version,
        completion=completion,
        success=success,
        credit=credit,
        score=score,
        progress=progress,
        session_seconds=session,
        total_seconds=total,
        entry=entry,
        exit=exit_,
        interactions=_interactions(groups),
        objectives=objectives,
        problems=tuple(reader.problems),
    )
