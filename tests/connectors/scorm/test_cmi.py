"""Durations (trap 10), scores (11), statuses (12), interactions (15), suspend data (16),
element names rather than ids (17): the run-time normaliser, pure."""

from __future__ import annotations

import pytest

from preuve.connectors.scorm import (
    CompletionStatus,
    DurationError,
    SuccessStatus,
    normalise_cmi,
    parse_duration,
)
from preuve.connectors.scorm.cmi import Score


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT1H30M5.25S", 5405.25),
        ("PT1H30M", 5400),
        ("P0DT1H", 3600),
        ("PT0.5S", 0.5),
        ("P1DT2H", 93600),
        ("P1W", 604800),
        ("PT1,5S", 1.5),
        ("0000:30:00.00", 1800),
        ("01:02:03", 3723),
        ("123:00:00", 442800),  # hours > 99
        ("9999:59:59.99", 35999999.99),
        (" PT10M ", 600),
    ],
)
def test_trap10_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["PT0H0M0S", "0000:00:00.00", "PT0S", "", None, "P0M"])
def test_trap10_zero_means_not_set(text: str | None) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1Y2M3D"])
def test_trap10_months_and_years_refused(text: str) -> None:
    with pytest.raises(DurationError, match=r"mois|months"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["About 3 minutes", "PT", "P", "1:2", "soon"])
def test_trap10_not_a_duration(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


def test_trap10_free_text_only_when_asked() -> None:
    assert parse_duration("About 3 minutes", free_text=True) == 180
    assert parse_duration("environ 1 heure 30 minutes", free_text=True) == 5400


@pytest.mark.parametrize(
    ("status", "completion", "success", "credit"),
    [
        ("passed", CompletionStatus.COMPLETED, SuccessStatus.PASSED, None),
        ("failed", CompletionStatus.COMPLETED, SuccessStatus.FAILED, None),
        ("completed", CompletionStatus.COMPLETED, SuccessStatus.UNKNOWN, None),
        ("incomplete", CompletionStatus.INCOMPLETE, SuccessStatus.UNKNOWN, None),
        ("browsed", CompletionStatus.INCOMPLETE, SuccessStatus.UNKNOWN, False),
        ("not attempted", CompletionStatus.NOT_ATTEMPTED, SuccessStatus.UNKNOWN, None),
        ("P", CompletionStatus.COMPLETED, SuccessStatus.PASSED, None),
        ("i,s", CompletionStatus.INCOMPLETE, SuccessStatus.UNKNOWN, None),
        ("Not_Attempted", CompletionStatus.NOT_ATTEMPTED, SuccessStatus.UNKNOWN, None),
    ],
)
def test_trap12_scorm12_lesson_status(
    status: str, completion: CompletionStatus, success: SuccessStatus, credit: bool | None
) -> None:
    result = normalise_cmi({"cmi.core.lesson_status": status}, "SCORM_1.2")
    assert (result.completion, result.success, result.credit) == (completion, success, credit)
    assert result.version == "1.2"


def test_trap12_completed_is_not_passed() -> None:
    result = normalise_cmi({"cmi.core.lesson_status": "completed"}, "1.2")
    assert result.passed is None


def test_scorm12_attempt_with_scores_times_and_interactions() -> None:
    result = normalise_cmi(
        {
            "cmi.core.lesson_status": "passed",
            "cmi.core.score.raw": "42",
            "cmi.core.score.min": "0",
            "cmi.core.score.max": "50",
            "cmi.core.total_time": "0001:02:03.50",
            "cmi.core.session_time": "00:10:00",
            "cmi.core.exit": "suspend",
            "cmi.suspend_data": "H4sIAAAAAAAA/6tWKkktLlGyUlAqSS0u",  # opaque: never parsed
            "cmi.interactions.0.id": "q1",
            "cmi.interactions.0.type": "choice",
            "cmi.interactions.0.student_response": "b",
            "cmi.interactions.0.result": "correct",
            "cmi.interactions.0.time": "10:15:00",
            "cmi.interactions.0.latency": "00:00:12",
            "cmi.interactions.0.objectives.0.id": "obj1",
            "cmi.interactions.1.id": "q2",
            "cmi.interactions.1.result": "wrong",
            "cmi.objectives.0.id": "obj1",
            "cmi.objectives.0.status": "passed",
            "cmi.objectives.0.score.raw": "8",
            "cmi.objectives.0.score.max": "10",
        },
        "1.2",
    )
    assert result.score == Score(raw=42, min=0, max=50, scaled=0.84)
    assert result.score.points() == (42, 50)
    assert (result.total_seconds, result.session_seconds) == (3723.5, 600)
    assert result.time_seconds == 3723.5
    assert result.exit == "suspend"
    assert [i.id for i in result.interactions] == ["q1", "q2"]
    first = result.interactions[0]
    assert (first.learner_response, first.latency_seconds, first.timestamp) == ("b", 12, "10:15:00")
    assert first.objective_ids == ("obj1",)
    assert result.objectives[0].success is SuccessStatus.PASSED
    assert result.objectives[0].score is not None
    assert result.objectives[0].score.points() == (8, 10)
    assert result.problems == ()


def test_scorm2004_attempt() -> None:
    result = normalise_cmi(
        {
            "cmi.completion_status": "completed",
            "cmi.success_status": "failed",
            "cmi.score.scaled": "-0.25",
            "cmi.progress_measure": "1",
            "cmi.total_time": "PT1H0M0S",
            "cmi.session_time": "PT0H0M0S",
            "cmi.credit": "no-credit",
            "cmi.objectives.0.id": "o1",
            "cmi.objectives.0.success_status": "passed",
            "cmi.objectives.0.score.scaled": "0.9",
        },
        "SCORM_1.3",
    )
    assert (result.completion, result.success, result.credit) == (
        CompletionStatus.COMPLETED,
        SuccessStatus.FAILED,
        False,
    )
    assert result.score is not None
    assert result.score.scaled == -0.25
    assert result.score.points() == (-25, 100)
    assert result.session_seconds is None  # PT0H0M0S: not set
    assert result.total_seconds == 3600
    assert result.objectives[0].score is not None
    assert result.objectives[0].score.points() == (90, 100)


def test_trap11_scores() -> None:
    # raw above max: max is not trusted, raw is kept as such
    result = normalise_cmi({"cmi.core.score.raw": "120", "cmi.core.score.max": "100"}, "1.2")
    assert result.score is not None
    assert result.score.points() == (120, None)
    # raw alone is never assumed to be a percentage
    alone = normalise_cmi({"cmi.core.score.raw": "7"}, "1.2").score
    assert alone is not None
    assert (alone.points(), alone.scaled) == ((7, None), None)
    # blank strings are "no score"
    assert normalise_cmi({"cmi.core.score.raw": "  "}, "1.2").score is None
    # scaled out of -1..1 is refused and reported, the rest kept
    bad = normalise_cmi({"cmi.score.scaled": "85", "cmi.completion_status": "completed"}, "2004")
    assert bad.score is None
    assert bad.completion is CompletionStatus.COMPLETED
    assert any("cmi.score.scaled" in p for p in bad.problems)


def test_lms_computes_status_from_thresholds() -> None:
    result = normalise_cmi(
        {
            "cmi.progress_measure": "0.5",
            "cmi.score.scaled": "0.8",
            "cmi.completion_status": "completed",
        },
        "2004",
        completion_threshold=0.75,
        scaled_passing_score=0.7,
    )
    assert result.completion is CompletionStatus.INCOMPLETE
    assert result.success is SuccessStatus.PASSED


def test_unreadable_values_are_reported_not_fatal() -> None:
    result = normalise_cmi(
        {
            "cmi.core.lesson_status": "finished",
            "cmi.core.score.raw": "abc",
            "cmi.core.total_time": "P1M",
            "cmi.core.session_time": "00:05:00",
        },
        "1.2",
    )
    assert result.session_seconds == 300
    assert len(result.problems) == 3
    assert any("cmi.core.lesson_status" in p for p in result.problems)


def test_trap17_elements_by_name_whatever_the_storage_layout() -> None:
    # Moodle <= 4.2 (scorm_scoes_track rows) and >= 4.3 (scorm_element join) both end as
    # element-name/value pairs; the normaliser never depends on element ids or key case.
    old = normalise_cmi({"cmi.core.lesson_status": "passed", "x.start.time": "1700000000"}, "1.2")
    new = normalise_cmi({"CMI.CORE.LESSON_STATUS": "passed"}, "SCORM_1.2")
    assert old.completion == new.completion == CompletionStatus.COMPLETED


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match=r"1\.2 ou 2004|1\.2 or 2004"):
        normalise_cmi({}, "cmi5")
