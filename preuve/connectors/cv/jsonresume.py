"""JSON Resume (jsonresume.org schema v1), with the aliases of older resumes.

``education`` -> qualifications, ``certificates`` -> qualifications and
continuing development (a dated certificate proves both), ``work`` ->
experience. Older resumes say ``company`` for ``name`` and ``grade`` for
``score`` (ignored anyway). Dates are ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` and
keep that precision; an unreadable date is left out, never guessed.
"""

from __future__ import annotations

from typing import Any

from preuve.connectors.cv.constants import FORMAT_JSON_RESUME
from preuve.connectors.cv.dates import parse_partial
from preuve.connectors.cv.document import (
    CvFormatError,
    Development,
    Experience,
    ParsedDocument,
    Qualification,
)
from preuve.connectors.cv.textutil import one_line
from preuve.i18n import Text

RESUME_SECTIONS = ("basics", "work", "education", "certificates")

MSG_NOT_RESUME = Text(
    fr="JSON sans section basics, work, education ni certificates : ce n'est pas un "
    "JSON Resume (clés : {keys})",
    en="JSON without a basics, work, education or certificates section: not a JSON Resume "
    "(keys: {keys})",
)
MSG_BAD_SECTION = Text(
    fr="la section « {section} » doit être une liste d'objets",
    en="section '{section}' must be a list of objects",
)


def looks_like_resume(value: dict[str, Any]) -> bool:
    return any(key in value for key in RESUME_SECTIONS)


def _text(item: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            return one_line(value)
    return None


def _entries(value: dict[str, Any], section: str) -> list[dict[str, Any]]:
    items = value.get(section)
    if items is None:
        return []
    if not isinstance(items, list):
        raise CvFormatError(MSG_BAD_SECTION(section=section), code="invalid_resume")
    return [item for item in items if isinstance(item, dict)]


def parse_json_resume(value: dict[str, Any]) -> ParsedDocument:
    if not looks_like_resume(value):
        keys = ", ".join(sorted(str(k) for k in value)[:8]) or "-"
        raise CvFormatError(MSG_NOT_RESUME(keys=keys), code="not_a_cv")
    basics = value.get("basics") if isinstance(value.get("basics"), dict) else {}
    assert isinstance(basics, dict)
    meta = value.get("meta") if isinstance(value.get("meta"), dict) else {}
    assert isinstance(meta, dict)
    email = _text(basics, "email")
    doc = ParsedDocument(
        format=FORMAT_JSON_RESUME,
        emails=(email.lower(),) if email and "@" in email else (),
        display_name=_text(basics, "name"),
        updated=parse_partial(meta.get("lastModified")),
    )
    for item in _entries(value, "work"):
        title = _text(item, "position", "name", "company")
        if not title:
            continue
        doc.experiences.append(
            Experience(
                title=title,
                employer=_text(item, "name", "company") if _text(item, "position") else None,
                start=parse_partial(item.get("startDate")),
                end=parse_partial(item.get("endDate")),
                current=item.get("endDate") in (None, "") and item.get("startDate") is not None,
            )
        )
    for item in _entries(value, "education"):
        study, area = _text(item, "studyType"), _text(item, "area")
        title = " ".join(p for p in (study, area) if p) or _text(item, "institution")
        if not title:
            continue
        doc.qualifications.append(
            Qualification(
                title=title,
                level=study,
                issuer=_text(item, "institution"),
                obtained=parse_partial(item.get("endDate")),
                domains=(area,) if area else (),
            )
        )
    for item in _entries(value, "certificates"):
        title = _text(item, "name")
        if not title:
            continue
        date = parse_partial(item.get("date"))
        issuer = _text(item, "issuer")
        doc.qualifications.append(Qualification(title=title, issuer=issuer, obtained=date))
        doc.developments.append(Development(title=title, provider=issuer, completed=date))
    return doc
