"""Moodle's PHP array encoding and the value normalisers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from preuve.connectors.moodle.encoding import encode_params, options_list
from preuve.connectors.moodle.values import (
    duration_hours,
    epoch,
    half_days,
    hms_seconds,
    question_label,
    text,
    to_float,
)
from preuve.evidence.model import HalfDay
from preuve.testing.moodle.params import BadKey, decode

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # Parameter strings as recorded in moodle-responses/INDEX.tsv.
        ({"courseids": [2, 3, 4]}, "courseids[0]=2 courseids[1]=3 courseids[2]=4"),
        ({"options": {"ids": [2, 3]}}, "options[ids][0]=2 options[ids][1]=3"),
        (
            {"courseid": 2, "options": options_list(excludecontents=1)},
            "courseid=2 options[0][name]=excludecontents options[0][value]=1",
        ),
        (
            {
                "coursecapabilities": [{"courseid": 3, "capabilities": ["moodle/course:update"]}],
                "options": options_list(userfields="id,fullname,email"),
            },
            "coursecapabilities[0][courseid]=3 coursecapabilities[0][capabilities][0]="
            "moodle/course:update options[0][name]=userfields options[0][value]=id,fullname,email",
        ),
        ({"userid": 3, "returnusercount": True}, "userid=3 returnusercount=1"),
        ({"status": "", "since": 0}, "status= since=0"),
    ],
)
def test_encoding_matches_recorded_calls(params: dict[str, object], expected: str) -> None:
    assert " ".join(f"{k}={v}" for k, v in encode_params(params)) == expected


def test_empty_lists_are_omitted_and_decoding_round_trips() -> None:
    params = {"courseid": 2, "courseids": [], "options": options_list(onlyactive=True)}
    pairs = encode_params(params)
    assert [k for k, _ in pairs] == ["courseid", "options[0][name]", "options[0][value]"]
    assert decode(pairs) == {"courseid": "2", "options": [{"name": "onlyactive", "value": "1"}]}


def test_stand_in_rejects_keys_without_index() -> None:
    with pytest.raises(BadKey):
        decode([("courseids[]", "2")])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("9.00000", 9.0), ("-1.00000", -1.0), (8, 8.0), ("", None), (None, None), ("12,5", 12.5)],
)
def test_grade_strings(raw: object, expected: float | None) -> None:
    assert to_float(raw) == expected


def test_html_and_entities_become_plain_text() -> None:
    assert text('<i class="icon fa"></i><b>8,00</b>&nbsp;/ 20') == "8,00 / 20"
    assert text("C&#039;était l&#039;idéal") == "C'était l'idéal"
    assert text("<p> </p>") is None
    assert question_label("(SAT_GLOBAL) Satisfaction <span>globale</span>") == (
        "SAT_GLOBAL",
        "Satisfaction globale",
    )


def test_dates_as_ints_or_strings() -> None:
    expected = datetime(2026, 3, 14, tzinfo=UTC)
    assert epoch(1773446400) == expected
    assert epoch("1773446400") == expected
    assert epoch(0) is None
    assert epoch("") is None


def test_durations() -> None:
    assert duration_hours("35") == 35
    assert duration_hours("35 h 30") == 35.5
    assert duration_hours("7,5 heures") == 7.5
    assert duration_hours("sur mesure") is None
    assert hms_seconds("00:17:26") == 1046
    assert hms_seconds("0000:01:02.50") == 62.5


def test_half_days_in_local_time() -> None:
    morning = int(datetime(2026, 3, 2, 9, tzinfo=PARIS).timestamp())
    afternoon = int(datetime(2026, 3, 2, 14, tzinfo=PARIS).timestamp())
    day = date(2026, 3, 2)
    assert half_days(morning, 3 * 3600, PARIS) == [(day, HalfDay.MORNING)]
    assert half_days(afternoon, 3 * 3600, PARIS) == [(day, HalfDay.AFTERNOON)]
    assert half_days(morning, 7 * 3600, PARIS) == [(day, HalfDay.MORNING), (day, HalfDay.AFTERNOON)]
