"""Normalise Moodle's value quirks: grades as strings, HTML text, epoch dates."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import lxml.html

from preuve.evidence.model import HalfDay

_PARSER = lxml.html.HTMLParser(no_network=True, remove_comments=True, huge_tree=False)
_SPACES = re.compile(r"\s+")
_LABEL = re.compile(r"^\s*\(([^)]+)\)\s*(.*)$", re.S)
NOON_SPLIT_HOUR = 13  # a slot before 13:00 local time is a morning


def to_float(value: Any) -> float | None:
    """``"9.00000"``, ``9``, ``""`` or None -> float or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(",", ".")
    if not text or text == "-":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def to_int(value: Any) -> int | None:
    number = to_float(value)
    return None if number is None else int(number)


def epoch(value: Any) -> datetime | None:
    """Unix time (int or numeric string) -> aware datetime; 0 or empty -> None."""
    number = to_int(value)
    if not number or number <= 0:
        return None
    return datetime.fromtimestamp(number, UTC)


def epoch_date(value: Any, tz: ZoneInfo) -> date | None:
    moment = epoch(value)
    return moment.astimezone(tz).date() if moment else None


def text(value: Any) -> str | None:
    """Plain text of an HTML or escaped value; None when empty."""
    if value is None:
        return None
    raw = str(value)
    if "<" in raw and ">" in raw:
        try:
            raw = lxml.html.fragment_fromstring(raw, create_parent="div", parser=_PARSER)
            raw = raw.text_content()
        except (ValueError, lxml.etree.ParserError):
            raw = re.sub(r"<[^>]*>", " ", str(value))
    cleaned = _SPACES.sub(" ", html.unescape(raw)).strip()
    return cleaned or None


def question_label(name: str) -> tuple[str | None, str]:
    """``"(SAT_GLOBAL) Satisfaction globale"`` -> ("SAT_GLOBAL", "Satisfaction globale")."""
    match = _LABEL.match(text(name) or "")
    if not match:
        return None, text(name) or ""
    return match.group(1).strip(), match.group(2).strip()


def half_days(start: int, duration: int, tz: ZoneInfo) -> list[tuple[date, HalfDay]]:
    """The half-day slots a session [start, start+duration) touches, in local time."""
    begin = datetime.fromtimestamp(start, UTC).astimezone(tz)
    end = begin + timedelta(seconds=max(duration, 1) - 1)
    slots: list[tuple[date, HalfDay]] = []
    day = begin.date()
    while day <= end.date():
        noon = datetime(day.year, day.month, day.day, NOON_SPLIT_HOUR, tzinfo=tz)
        morning_start = datetime(day.year, day.month, day.day, tzinfo=tz)
        next_day = morning_start + timedelta(days=1)
        if begin < noon and end >= morning_start:
            slots.append((day, HalfDay.MORNING))
        if end >= noon and begin < next_day:
            slots.append((day, HalfDay.AFTERNOON))
        day += timedelta(days=1)
    return slots


def duration_hours(value: Any) -> float | None:
    """Hours from a custom field: ``"35"``, ``"35h"``, ``"35 h 30"``, ``"3.5"``."""
    raw = text(value)
    if not raw:
        return None
    match = re.match(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:h(?:eures?)?\s*(\d{1,2})?)?", raw, re.I)
    if not match:
        return None
    hours = float(match.group(1).replace(",", "."))
    if match.group(2):
        hours += int(match.group(2)) / 60
    return hours


def hms_seconds(value: Any) -> float | None:
    """SCORM ``total_time`` ``"00:17:26"`` (or ``"0000:17:26.50"``) -> seconds."""
    raw = str(value or "").strip()
    match = re.match(r"^(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$", raw)
    if not match:
        return None
    return int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3))
