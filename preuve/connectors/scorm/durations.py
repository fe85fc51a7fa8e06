"""SCORM durations to seconds: ISO 8601 (2004), CMITimespan (1.2), and a little free text.

A zero duration (``PT0H0M0S``, ``0000:00:00``) means "not filled in" in real exports
and manifests (Storyline, Rise): it is returned as None, never as 0.
"""

from __future__ import annotations

import re
import unicodedata

from preuve.i18n import Text

MSG_MONTHS = Text(
    fr="durée en mois ou années ({value}) : impossible à convertir en secondes",
    en="duration in months or years ({value}) cannot become seconds",
)
MSG_BAD = Text(
    fr="durée attendue au format ISO 8601 (PT1H30M) ou HHHH:MM:SS.SS, reçu {value!r}",
    en="expected an ISO 8601 duration (PT1H30M) or HHHH:MM:SS.SS, got {value!r}",
)

_ISO = re.compile(
    r"^P(?!$)(?:(?P<y>\d+(?:[.,]\d+)?)Y)?(?:(?P<mo>\d+(?:[.,]\d+)?)M)?(?:(?P<w>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<d>\d+(?:[.,]\d+)?)D)?(?:T(?=\d)(?:(?P<h>\d+(?:[.,]\d+)?)H)?"
    r"(?:(?P<mi>\d+(?:[.,]\d+)?)M)?(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?$",
    re.IGNORECASE,
)
# CMITimespan HHHH:MM:SS.SS; hours of 1-4 digits and an optional fraction are tolerated.
_TIMESPAN = re.compile(r"^(\d{1,6}):([0-5]?\d):([0-5]?\d(?:[.,]\d+)?)$")
_FREE_UNITS = {
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "heure": 3600.0,
    "heures": 3600.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "mn": 60.0,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "seconde": 1.0,
    "secondes": 1.0,
}
_FREE = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-z]+)")


class DurationError(ValueError):
    """A duration that cannot become seconds; the message says what was expected."""


def _num(text: str | None) -> float:
    return float(text.replace(",", ".")) if text else 0.0


def _free_text(value: str) -> float | None:
    """'About 3 minutes', '1 h 30 min', 'environ 2 heures' (Storyline meta.xml and the like)."""
    text = unicodedata.normalize("NFKD", value.lower())
    total = 0.0
    found = False
    for number, unit in _FREE.findall(text):
        factor = _FREE_UNITS.get(unit)
        if factor is None:
            continue
        total += _num(number) * factor
        found = True
    if not found:
        return None
    return total


def parse_duration(value: str | None, *, free_text: bool = False) -> float | None:
    """Seconds for a SCORM duration; None when blank or zero ("not set").

    Raises :class:`DurationError` for a value that is not a duration, or that
    counts months or years (their length in seconds is undefined).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    seconds: float | None
    match = _ISO.match(text)
    if match:
        if _num(match["y"]) or _num(match["mo"]):
            raise DurationError(MSG_MONTHS(value=text))
        seconds = (
            _num(match["w"]) * 604800
            + _num(match["d"]) * 86400
            + _num(match["h"]) * 3600
            + _num(match["mi"]) * 60
            + _num(match["s"])
        )
    elif span := _TIMESPAN.match(text):
        seconds = int(span[1]) * 3600 + int(span[2]) * 60 + _num(span[3])
    elif free_text and (free := _free_text(text)) is not None:
        seconds = free
    else:
        raise DurationError(MSG_BAD(value=text))
    return round(seconds, 2) if seconds > 0 else None
