"""Faults the Moodle stand-in can inject, changeable while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Faults:
    latency: float = 0.0  # seconds added to every request
    error_5xx: int = 0  # the next N requests answer 503
    too_many: int = 0  # the next N requests answer 429 with Retry-After
    retry_after: int = 0
    timeouts: int = 0  # the next N requests hang for `hang` seconds
    hang: float = 5.0
    html_pages: int = 0  # the next N requests answer a 200 HTML page (proxy, PHP fatal)
    revoke_after: int | None = None  # the token is revoked after N more requests
    site_admin: bool = False
    debug: bool = False  # Moodle debugging on: errors carry debuginfo
    missing_functions: set[str] = field(default_factory=set)
    missing_capabilities: set[str] = field(default_factory=set)
    inaccessible_courses: set[int] = field(default_factory=set)
    bad_grade_courses: set[int] = field(default_factory=set)  # a grade above its maximum
    grade_dates_missing: bool = False  # the grade report gives no dates (imported grades)
    ungraded_in_report: set[int] = field(default_factory=set)  # cmids the report shows ungraded
    warning_courses: set[int] = field(default_factory=set)  # mod_* lists answer a warning
    scorm_bad_time: bool = False  # SCORM total_time answered as unreadable text
    badges_disabled: bool = False  # Moodle's enablebadges is off
    tags_disabled: bool = False  # Moodle's usetags is off
