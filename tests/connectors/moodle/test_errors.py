"""Every Moodle answer is classified once: fine, fail (with a message) or skip one item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from preuve.connectors.errors import PermanentError, SkipItem
from preuve.connectors.moodle.errors import raise_for_error, warnings_of

RECORDED = Path("/work/shared/reference/moodle-responses")

# file -> (function called, item or None, expected class, expected code)
EXPECTED: dict[str, tuple[str, str | None, type[Exception] | None, str | None]] = {
    "errors/invalidtoken.json": (
        "core_webservice_get_site_info",
        None,
        PermanentError,
        "invalid_token",
    ),
    "errors/accessexception_function_not_in_service.json": (
        "core_user_create_users",
        None,
        PermanentError,
        "function_not_in_service",
    ),
    "errors/nonexistent_function.json": (
        "core_grades_get_grades",
        None,
        PermanentError,
        "function_missing",
    ),
    "errors/invalidparameter.json": (
        "core_enrol_get_enrolled_users",
        "cours abc",
        PermanentError,
        "invalid_parameter",
    ),
    "errors/missingparameter.json": (
        "core_enrol_get_enrolled_users",
        None,
        PermanentError,
        "invalid_parameter",
    ),
    "errors/invalidrecord_nonexistent_course.json": (
        "core_course_get_contents",
        "cours 999",
        SkipItem,
        "invalidrecord",
    ),
    "core_completion_get_course_completion_status__notenrolled.json": (
        "core_completion_get_course_completion_status",
        "cours 4, apprenant 5",
        SkipItem,
        "usernotenroled",
    ),
    "core_user_get_private_files_info.json": (
        "core_user_get_private_files_info",
        None,
        PermanentError,
        "missing_capability",
    ),
    "errors/invalid_option_name.json": ("core_enrol_get_enrolled_users", None, None, None),
    "core_webservice_get_site_info.json": ("core_webservice_get_site_info", None, None, None),
}


def _load(name: str) -> Any:
    if not RECORDED.is_dir():
        pytest.skip(f"recorded Moodle answers not available ({RECORDED} is absent)")
    return orjson.loads((RECORDED / name).read_bytes())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_answer_is_classified(name: str) -> None:
    function, item, expected, code = EXPECTED[name]
    body = _load(name)
    if expected is None:
        raise_for_error(body, function, item=item)  # a normal answer passes through
        return
    with pytest.raises(expected) as caught:
        raise_for_error(body, function, item=item)
    error = caught.value
    assert isinstance(error, PermanentError | SkipItem)
    assert error.code == code
    assert error.message
    if code == "function_not_in_service":
        assert function in error.message
        assert error.hint
        assert "Services externes" in error.hint


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"exception": "moodle_exception", "errorcode": "invalidtimedtoken", "message": "x"},
            "invalid_token",
        ),
        (
            {"exception": "moodle_exception", "errorcode": "webservicesnotenabled", "message": "x"},
            "webservices_disabled",
        ),
        (
            {"exception": "moodle_exception", "errorcode": "servicenotavailable", "message": "x"},
            "function_not_in_service",
        ),
        (
            {
                "exception": "required_capability_exception",
                "errorcode": "nopermissions",
                "message": "Sorry (View all grades).",
                "debuginfo": "moodle/grade:viewall",
            },
            "missing_capability",
        ),
        (
            {"exception": "moodle_exception", "errorcode": "somethingnew", "message": "x"},
            "moodle_somethingnew",
        ),
    ],
)
def test_other_codes_fail_with_a_message(body: dict[str, str], code: str) -> None:
    with pytest.raises(PermanentError) as caught:
        raise_for_error(body, "mod_feedback_get_responses_analysis")
    assert caught.value.code == code
    assert "mod_feedback_get_responses_analysis" in caught.value.message or code in (
        "invalid_token",
        "webservices_disabled",
    )


def test_course_not_accessible_is_a_skip_only_for_an_item() -> None:
    body = {
        "exception": "require_login_exception",
        "errorcode": "requireloginerror",
        "message": "x",
    }
    with pytest.raises(SkipItem):
        raise_for_error(body, "core_course_get_contents", item="cours 7")
    with pytest.raises(PermanentError):
        raise_for_error(body, "core_course_get_contents")


def test_warnings_are_read_from_partial_answers() -> None:
    body = _load("mod_assign_get_assignments.json")
    warnings = warnings_of(body)
    assert warnings
    assert all("warningcode" in w for w in warnings)
