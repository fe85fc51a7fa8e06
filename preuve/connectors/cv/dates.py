"""Partial dates as documents write them: never more precise than the source."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from pydantic import ValidationError

from preuve.evidence.model import PartialDate

# ISO-like: YYYY, YYYY-MM, YYYY-MM-DD, optionally followed by a time (ignored).
_ISO = re.compile(
    r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\s*$"
)


def _number(value: object) -> int | None:
    """A year, month or day from a number or an XML Schema g-type (``--08``, ``---10``)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip().lstrip("-")
    return int(text) if text.isdigit() else None


def partial_date(year: object, month: object = None, day: object = None) -> PartialDate | None:
    """A PartialDate from separate parts; parts that cannot be read make it less precise.

    A day without a month, or a month without a year, is dropped rather than guessed.
    """
    y = _number(year)
    if y is None:
        return None
    m = _number(month)
    d = _number(day) if m is not None else None
    for candidate in ((y, m, d), (y, m, None), (y, None, None)):
        try:
            return PartialDate(year=candidate[0], month=candidate[1], day=candidate[2])
        except ValidationError:
            continue
    return None


def parse_partial(text: object) -> PartialDate | None:
    """``2019``, ``2019-05``, ``2019-05-20`` or a timestamp (kept to the day); else None."""
    if not isinstance(text, str):
        return None
    match = _ISO.match(text)
    if not match:
        return None
    return partial_date(*match.groups())


def day_start(value: PartialDate | None) -> datetime | None:
    """Midnight UTC of a date known to the day; None when it is less precise.

    Used as the record's effective time: a partial date is not turned into a
    made-up instant.
    """
    if value is None or value.precision != "day":
        return None
    return datetime.combine(value.earliest(), time(0, 0), tzinfo=UTC)


def years_between(start: PartialDate | None, end: PartialDate | None) -> float | None:
    """Length of a closed period in years (one decimal); None when open or unknown.

    A partial date counts from its first day (start) to its last day (end):
    ``2015`` to ``2017`` is three whole years.
    """
    if start is None or end is None:
        return None
    days = (end.latest() - start.earliest()).days + 1
    if days <= 0:
        return None
    return round(days / 365.25, 1)
