"""Tracking exports, pure: Moodle reports (traps 13, 14), SCORM Cloud JSON and XML (11)."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from preuve.connectors.scorm import (
    CompletionStatus,
    ScormError,
    SuccessStatus,
    TrackedAttempt,
    TrackingProblem,
    UnsafePackageError,
    read_tracking_export,
)
from preuve.connectors.scorm.moodle_report import read_moodle_report
from preuve.connectors.scorm.scorm_cloud import read_cloud_json, read_cloud_xml
from tests.connectors.scorm.builders import CLOUD_JSON, CLOUD_XML, MOODLE_EN, MOODLE_FR

PARIS = ZoneInfo("Europe/Paris")


def _moodle(text: str | bytes, **kwargs: bool) -> list[TrackedAttempt | TrackingProblem]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return list(read_moodle_report(BytesIO(data), file="rapport.txt", zone=PARIS, **kwargs))


def _attempts(items: list[TrackedAttempt | TrackingProblem]) -> list[TrackedAttempt]:
    return [i for i in items if isinstance(i, TrackedAttempt)]


def test_moodle_english_report() -> None:
    items = _moodle(MOODLE_EN)
    assert not [i for i in items if isinstance(i, TrackingProblem)]
    alice = [a for a in _attempts(items) if a.email == "alice@example.org"]
    by_activity = {a.activity_key: a for a in alice}
    assert set(by_activity) == {"Module 1", "Quiz final", None}
    module = by_activity["Module 1"].result
    assert module.completion is CompletionStatus.COMPLETED
    quiz = by_activity["Quiz final"].result
    assert quiz.score is not None
    assert quiz.score.points() == (85, 100)
    whole = by_activity[None]
    assert whole.started_at == datetime(2026, 11, 6, 10, 15, tzinfo=PARIS)  # trap 14: report tz
    assert whole.last_at == datetime(2026, 11, 6, 11, 0, tzinfo=PARIS)
    assert whole.attempt == 1
    assert whole.result.score is not None
    assert whole.result.score.raw == 85
    # A learner listed without attempt: not started, never dropped.
    carla = [a for a in _attempts(items) if a.email == "carla@example.org"]
    assert [c.result.completion for c in carla] == [CompletionStatus.NOT_ATTEMPTED]


def test_trap13_french_report_quoted_with_localised_dates_and_words() -> None:
    items = _attempts(_moodle(MOODLE_FR))
    bob = {a.activity_key: a for a in items if a.email == "bob@example.org"}
    assert bob["Module 1"].result.completion is CompletionStatus.INCOMPLETE
    assert bob["Quiz final"].result.success is SuccessStatus.FAILED
    assert bob[None].result.success is SuccessStatus.FAILED
    assert bob[None].attempt == 2
    assert bob[None].started_at == datetime(2026, 11, 7, 14, 0, tzinfo=PARIS)
    alice = {a.activity_key: a for a in items if a.email == "alice@example.org"}
    assert alice["Module 1"].result.completion is CompletionStatus.COMPLETED


def test_trap13_encodings_bom_utf16_and_windows_1252() -> None:
    expected = len(_attempts(_moodle(MOODLE_FR)))
    assert len(_attempts(_moodle(codecs.BOM_UTF8 + MOODLE_FR.encode()))) == expected
    assert len(_attempts(_moodle(MOODLE_FR.encode("utf-16")))) == expected
    legacy = _attempts(_moodle(MOODLE_FR.encode("cp1252")))
    assert len(legacy) == expected
    assert legacy[0].started_at is not None


def test_idnumber_identity_and_crlf() -> None:
    text = (
        "Nom\tNuméro d'identification\tTentative\tCommencé le\tDernier accès le\tNote\tSCO\r\n"
        "X Y\tEMP-42\t1\t01/12/2026 09:00\t01/12/2026 09:30\t12,5\tRéussi\r\n"
    )
    items = _attempts(_moodle(text))
    assert {(i.email, i.user_id) for i in items} == {(None, "EMP-42")}
    sco = next(i for i in items if i.activity_key == "SCO")
    assert sco.result.success is SuccessStatus.PASSED
    assert sco.completed_at == datetime(2026, 12, 1, 9, 30, tzinfo=PARIS)


def test_interaction_columns_are_not_scos() -> None:
    text = (
        "Name\tEmail address\tAttempt\tStarted on\tLast accessed on\tScore\tSCO\t"
        "Question 1\tResponse 1\tRight answer 1\tResult 1\n"
        "A\ta@example.org\t1\t-\t-\t5\tPassed\tq1\tb\tb\tcorrect\n"
    )
    items = _attempts(_moodle(text))
    assert {i.activity_key for i in items} == {"SCO", None}
    whole = next(i for i in items if i.activity_key is None)
    assert [(x.id, x.result) for x in whole.result.interactions] == [("q1", "correct")]


def test_bad_rows_are_located_and_the_rest_kept() -> None:
    text = MOODLE_EN + (
        "Eve\teve@example.org\tone\t-\t-\t-\t-\t-\n"
        "Fay\tfay@example.org\t1\tyesterday\t-\t-\t-\t-\n"
        "Gus\tgus@example.org\t1\t-\t-\t-\tMaybe\t-\n"
        "Hal\t\t1\t-\t-\t-\t-\t-\n"
        "Ivy\tivy@example.org\t1\n"
    )
    items = _moodle(text)
    problems = {p.location: p.message for p in items if isinstance(p, TrackingProblem)}
    assert set(problems) == {"ligne 5", "ligne 6", "ligne 7", "ligne 8", "ligne 9"}
    assert "one" in problems["ligne 5"]
    assert "yesterday" in problems["ligne 6"]
    assert "Maybe" in problems["ligne 7"]
    assert "Module 1" in problems["ligne 7"]
    assert "Email address" in problems["ligne 8"]
    assert "3" in problems["ligne 9"]
    assert any(a.email == "gus@example.org" for a in _attempts(items))  # the valid cells


def test_header_problems() -> None:
    with pytest.raises(ScormError) as caught:
        _moodle("a,b,c\n1,2,3\n")
    assert caught.value.where == "ligne 1"
    with pytest.raises(ScormError) as caught:
        _moodle("Attempt\tStarted on\tScore\n1\t-\t-\n", strict=True)
    assert caught.value.code == "no_identity"
    with pytest.raises(ScormError):
        _moodle("")


def test_lenient_name_identity() -> None:
    items = _attempts(_moodle("Name\tAttempt\tStarted on\tScore\nAnn Lee\t1\t-\t3\n"))
    assert items[0].user_id == "Ann Lee"


def test_cloud_json_registrations() -> None:
    items = list(read_cloud_json(orjson.dumps(CLOUD_JSON), file="cloud.json", zone=PARIS))
    attempts = _attempts(items)
    first = attempts[0]
    assert (first.course_key, first.email, first.activity_key) == (
        "rgpd-101",
        "Alice@Example.org",
        None,
    )
    assert first.result.score is not None
    assert first.result.score.scaled == 0.925  # trap 11: SCORM Cloud scaled is 0..100
    assert first.result.score.points() == (92.5, 100)
    assert first.result.total_seconds == 1800.5
    assert first.completed_at == datetime(2026, 10, 1, 8, 30, tzinfo=UTC)
    sco = attempts[1]
    assert sco.activity_key == "sco1"
    assert sco.attempt == 2
    assert sco.result.score is not None
    assert sco.result.score.points() == (37, 40)
    assert sco.result.total_seconds == pytest.approx(1798.2)
    assert sco.result.success is SuccessStatus.PASSED
    assert [i.id for i in sco.result.interactions] == ["q1"]
    assert sco.result.objectives[0].success is SuccessStatus.FAILED
    second = attempts[2]
    assert (second.email, second.user_id) == (None, "L2")
    assert second.result.completion is CompletionStatus.INCOMPLETE
    assert second.result.total_seconds is None


def test_cloud_json_single_registration_and_bad_documents() -> None:
    one = CLOUD_JSON["registrations"][1]
    assert len(_attempts(list(read_cloud_json(orjson.dumps(one), file="r.json", zone=PARIS)))) == 1
    with pytest.raises(ScormError) as caught:
        list(read_cloud_json(b"{oops", file="r.json", zone=PARIS))
    assert caught.value.code == "bad_json"
    with pytest.raises(ScormError) as caught:
        list(read_cloud_json(b'{"hello": 1}', file="r.json", zone=PARIS))
    assert caught.value.code == "not_cloud"
    items = list(read_cloud_json(b'{"registrations": [3, {"id": ""}]}', file="r.json", zone=PARIS))
    assert [type(i) for i in items] == [TrackingProblem, TrackingProblem]


def test_cloud_xml_registration_report() -> None:
    attempts = _attempts(list(read_cloud_xml(CLOUD_XML.encode(), file="c.xml", zone=PARIS)))
    whole, sco = attempts
    assert (whole.email, whole.user_id, whole.course_key) == ("dina@example.org", "L9", "rgpd-101")
    assert whole.result.success is SuccessStatus.FAILED
    assert whole.result.total_seconds == 1260
    assert whole.result.score is not None
    assert whole.result.score.points() == (45, 100)
    assert whole.last_at == datetime(2026, 10, 3, 10, 0, tzinfo=UTC)
    assert (sco.activity_key, sco.activity_title, sco.attempt) == ("sco1", "Principes", 1)
    assert sco.result.total_seconds == 1260


def test_cloud_xml_error_response_and_entities() -> None:
    fail = b'<rsp stat="fail"><err code="100" msg="registration not found"/></rsp>'
    with pytest.raises(ScormError, match="registration not found"):
        list(read_cloud_xml(fail, file="c.xml", zone=PARIS))
    evil = b'<!DOCTYPE rsp [<!ENTITY x SYSTEM "file:///etc/passwd">]><rsp>&x;</rsp>'
    with pytest.raises(UnsafePackageError):
        list(read_cloud_xml(evil, file="c.xml", zone=PARIS))


def test_read_tracking_export_dispatches_by_format(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text(MOODLE_EN, encoding="utf-8")
    (tmp_path / "c.json").write_bytes(orjson.dumps(CLOUD_JSON))
    (tmp_path / "c.xml").write_text(CLOUD_XML, encoding="utf-8")
    (tmp_path / "o.xml").write_text("<other/>", encoding="utf-8")
    for name in ("r.txt", "c.json", "c.xml"):
        assert _attempts(list(read_tracking_export(tmp_path / name, zone=PARIS)))
    with pytest.raises(ScormError) as caught:
        list(read_tracking_export(tmp_path / "o.xml", zone=PARIS))
    assert caught.value.code == "unknown_format"


def test_trap15_large_export_is_streamed(tmp_path: Path) -> None:
    import tracemalloc

    header = "Name\tEmail address\tAttempt\tStarted on\tLast accessed on\tScore\tSCO\n"
    row = "N\tu{n}@example.org\t1\t06/11/2026 10:00\t06/11/2026 10:30\t7\tPassed\n"

    def peak(rows: int) -> int:
        path = tmp_path / f"r{rows}.txt"
        with path.open("w", encoding="utf-8") as out:
            out.write(header)
            for n in range(rows):
                out.write(row.format(n=n))
        tracemalloc.start()
        count = sum(1 for _ in read_tracking_export(path, zone=PARIS))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count == 2 * rows
        return top

    small, large = peak(500), peak(5000)
    assert large < small * 3, "memory does not grow with the number of rows"


def test_cloud_json_odd_shapes_do_not_break_the_file() -> None:
    odd = {
        "registrations": [
            {
                "id": "r-odd",
                "learner": "not an object",
                "course": ["no"],
                "score": 5,
                "activityDetails": [1],
                "registrationCompletion": "COMPLETED",
            },
            {
                "id": "r-2",
                "learner": {"id": 7},
                "registrationCompletion": "INCOMPLETE",
                "activityDetails": {
                    "children": [
                        "junk",
                        {"id": "s", "runtime": {"runtimeInteractions": ["x", {"id": "q"}]}},
                    ]
                },
            },
        ]
    }
    attempts = _attempts(list(read_cloud_json(orjson.dumps(odd), file="o.json", zone=PARIS)))
    assert [(a.user_id, a.activity_key) for a in attempts] == [
        ("r-odd", None),
        ("7", None),
        ("7", "s"),
    ]
    assert attempts[0].result.completion is CompletionStatus.COMPLETED
    assert [i.id for i in attempts[2].result.interactions] == ["q"]  # "x" carries nothing


def test_cloud_xml_file_is_streamed_not_loaded(tmp_path: Path) -> None:
    import tracemalloc

    start, end = CLOUD_XML.index("<registration "), CLOUD_XML.index("</registrationlist>")
    one = CLOUD_XML[start:end]

    def peak(count: int) -> int:
        body = "".join(one.replace("reg-9", f"reg-{n}") for n in range(count))
        path = tmp_path / f"cloud{count}.xml"
        path.write_text(CLOUD_XML[:start] + body + CLOUD_XML[end:], encoding="utf-8")
        tracemalloc.start()
        seen, last = 0, ""
        for item in read_tracking_export(path, zone=PARIS):
            assert isinstance(item, TrackedAttempt)
            seen, last = seen + 1, item.location
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert (seen, last) == (2 * count, f"registration reg-{count - 1}")
        return top

    small, large = peak(100), peak(1000)  # 90 KB and 900 KB of XML
    assert large < small * 3, "neither the file nor the XML tree is held whole"


def test_json_export_too_large_is_refused_before_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from preuve.connectors.scorm import scorm_cloud

    monkeypatch.setattr(scorm_cloud, "MAX_JSON_EXPORT_BYTES", 100)
    path = tmp_path / "big.json"
    path.write_bytes(orjson.dumps(CLOUD_JSON))
    with pytest.raises(ScormError) as caught:
        list(read_tracking_export(path, zone=PARIS))
    assert caught.value.code == "too_large"
    assert caught.value.file == "big.json"


def test_locations_follow_the_user_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("preuve.i18n._language", None)  # as no CLI or app has set it
    monkeypatch.setenv("PREUVE_LANG", "en")
    text = MOODLE_EN + "Eve\teve@example.org\tone\t-\t-\t-\t-\t-\n"
    problems = [p for p in _moodle(text) if isinstance(p, TrackingProblem)]
    assert [p.location for p in problems] == ["line 5"]
    with pytest.raises(ScormError) as caught:
        _moodle("a,b,c\n1,2,3\n")
    assert caught.value.where == "line 1"
    assert str(caught.value).startswith("rapport.txt, line 1: ")


def test_a_line_without_end_refuses_the_file_without_being_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from preuve.connectors.scorm import moodle_report

    monkeypatch.setattr(moodle_report, "MAX_CSV_LINE", 200)
    lines = MOODLE_EN.splitlines(keepends=True)
    text = "".join(lines[:3]) + "x" * 1000  # a third line that never ends
    items: list[TrackedAttempt | TrackingProblem] = []
    with pytest.raises(ScormError) as caught:
        items.extend(read_moodle_report(BytesIO(text.encode()), file="r.txt", zone=PARIS))
    assert (caught.value.code, caught.value.where) == ("too_large", "ligne 4")
    assert _attempts(items)  # the rows before it were read
    with pytest.raises(ScormError) as caught:  # the same in a UTF-16 export
        list(read_moodle_report(BytesIO(text.encode("utf-16")), file="r.txt", zone=PARIS))
    assert caught.value.where == "ligne 4"


def test_damaged_reports_are_refused_or_read_never_crash() -> None:
    # Found by fuzzing: both used to escape as UnicodeDecodeError / csv.Error.
    truncated = MOODLE_FR.encode("utf-16")[:-1]  # odd number of bytes: the last one is cut
    items = _moodle(truncated)
    problems = [i for i in items if isinstance(i, TrackingProblem)]
    assert [(p.location, "Quiz final" in p.message) for p in problems] == [("ligne 3", True)]
    assert {a.email for a in _attempts(items)} == {"alice@example.org", "bob@example.org"}
    with pytest.raises(ScormError) as caught:
        _moodle('"Name\r\tEmail address\tAttempt\n')  # a lone CR inside an unquoted header
    assert (caught.value.code, caught.value.where) == ("bad_header", "ligne 1")


def test_epoch_dates_out_of_range_are_located_problems() -> None:
    text = MOODLE_EN + "Dan\tdan@example.org\t1\t99999999999999999999\t-\t-\t-\t-\n"
    problems = [p for p in _moodle(text) if isinstance(p, TrackingProblem)]
    assert [(p.location, p.code) for p in problems] == [("ligne 5", "bad_date")]
    assert "Started on" in problems[0].message
    registration = {**CLOUD_JSON["registrations"][0], "lastAccessDate": "999999999999"}
    attempts = _attempts(
        list(read_cloud_json(orjson.dumps(registration), file="c.json", zone=PARIS))
    )
    assert attempts
    assert attempts[0].last_at is None  # unreadable: left out, the attempt kept
