"""Dates as exports write them: ISO 8601, epoch, or Moodle's localised ``userdate()``.

A date without an offset is taken in the export's time zone (the option
``timezone``, Europe/Paris by default), never silently as UTC.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, tzinfo
from functools import lru_cache

from preuve.i18n import Text

MSG_BAD_DATE = Text(
    fr="date illisible {value!r} (attendu ISO 8601, JJ/MM/AAAA HH:MM ou « 6 novembre 2026, "
    "10:15 »)",
    en="unreadable date {value!r} (expected ISO 8601, DD/MM/YYYY HH:MM or '6 November 2026, "
    "10:15 AM')",
)

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("january", "jan", "janvier", "janv"),
        ("february", "feb", "fevrier", "fevr", "fev"),
        ("march", "mar", "mars"),
        ("april", "apr", "avril", "avr"),
        ("may", "mai"),
        ("june", "jun", "juin"),
        ("july", "jul", "juillet", "juil"),
        ("august", "aug", "aout"),
        ("september", "sep", "sept", "septembre"),
        ("october", "oct", "octobre"),
        ("november", "nov", "novembre"),
        ("december", "dec", "decembre"),
    ),
    start=1,
):
    for _name in _names:
        MONTHS[_name] = _number

_TEXTUAL = re.compile(
    r"(?P<day>\d{1,2})(?:er|st|nd|rd|th)?\s+(?P<month>[a-z]+)\.?\s+(?P<year>\d{4})"
    r"(?:\D+?(?P<hour>\d{1,2})[:h](?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>am|pm)?)?"
)
_NUMERIC = re.compile(
    r"^(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-](?P<year>\d{4})"
    r"(?:\D+(?P<hour>\d{1,2})[:h](?P<minute>\d{2})(?::(?P<second>\d{2}))?)?$"
)


class DateError(ValueError):
    pass


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower case, no accents, one space between words (``Commencé  le`` -> ``commence le``).

    How localised headers, status words and month names are compared.
    """
    lowered = text.strip().lower().replace("\u2019", "'")
    if not lowered.isascii():
        decomposed = unicodedata.normalize("NFKD", lowered)
        lowered = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(lowered.split())


def _aware(value: datetime, zone: tzinfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def parse_date(value: str | None, zone: tzinfo) -> datetime | None:
    """A timezone-aware datetime, or None for blank/'-'; DateError when unreadable."""
    if value is None:
        return None
    return _parse(value, zone)


@lru_cache(maxsize=8192)
def _parse(value: str, zone: tzinfo) -> datetime | None:
    # Exports repeat the same minute-precision dates many times: parsed once each.
    text = value.strip()
    if not text or text in {"-", "—", "never", "jamais"}:
        return None
    if text.isdigit() and len(text) >= 9:
        try:
            return datetime.fromtimestamp(int(text), tz=UTC)
        except (ValueError, OverflowError, OSError) as exc:  # past year 9999
            raise DateError(MSG_BAD_DATE(value=text)) from exc
    try:
        return _aware(datetime.fromisoformat(text), zone)
    except ValueError:
        pass
    folded = fold(text)
    match = _NUMERIC.match(folded) or _TEXTUAL.search(folded)
    if match is None:
        raise DateError(MSG_BAD_DATE(value=text))
    month_text = match["month"]
    month = int(month_text) if month_text.isdigit() else MONTHS.get(month_text)
    if month is None:
        raise DateError(MSG_BAD_DATE(value=text))
    hour = int(match["hour"] or 0)
    ampm = match.groupdict().get("ampm")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    try:
        return datetime(
            int(match["year"]),
            month,
            int(match["day"]),
            hour,
            int(match["minute"] or 0),
            int(match["second"] or 0),
            tzinfo=zone,
        )
    except ValueError as exc:
        raise DateError(MSG_BAD_DATE(value=text)) from exc
