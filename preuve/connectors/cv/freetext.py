"""Entries guessed from free text (PDF CVs, undated Europass achievements).

A CV written as prose has headings ("Diplômes", "Expérience professionnelle",
"Formation continue"...) followed by lines such as
``2015 – 2020 Formateur bureautique, Société X`` or
``03/2025 Accueil des personnes handicapées, AGEFIPH (7 h)``. Every value read
this way is flagged ``needs_review``: a human confirms it before an audit.
Dates keep the precision written (``2019`` stays a year); day-first numeric
dates are read the French way (``03/04/2019`` is 3 April).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from preuve.connectors.cv.constants import MAX_TITLE_CHARS
from preuve.connectors.cv.dates import partial_date
from preuve.connectors.cv.document import Development, Experience, Qualification
from preuve.connectors.cv.textutil import fold
from preuve.evidence.model import PartialDate

MONTHS: dict[str, int] = {
    "janvier": 1, "janv": 1, "jan": 1, "january": 1,
    "fevrier": 2, "fevr": 2, "fev": 2, "feb": 2, "february": 2,
    "mars": 3, "mar": 3, "march": 3,
    "avril": 4, "avr": 4, "apr": 4, "april": 4,
    "mai": 5, "may": 5,
    "juin": 6, "jun": 6, "june": 6,
    "juillet": 7, "juil": 7, "jul": 7, "july": 7,
    "aout": 8, "aug": 8, "august": 8,
    "septembre": 9, "sept": 9, "sep": 9, "september": 9,
    "octobre": 10, "oct": 10, "october": 10,
    "novembre": 11, "nov": 11, "november": 11,
    "decembre": 12, "dec": 12, "december": 12,
}  # fmt: skip

_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_YEAR = r"(?:19|20)\d{2}"
_TOKEN = re.compile(
    rf"(?P<dmy>\b(?P<d>\d{{1,2}})[/.](?P<m>\d{{1,2}})[/.](?P<y>{_YEAR})\b)"
    rf"|(?P<iso>\b(?P<iy>{_YEAR})-(?P<im>\d{{2}})(?:-(?P<id>\d{{2}}))?\b)"
    rf"|(?P<my>\b(?P<m2>\d{{1,2}})[/.](?P<y2>{_YEAR})\b)"
    rf"|(?P<named>\b(?P<mn>{_MONTH_NAMES})\.?\s+(?P<y3>{_YEAR})\b)"
    rf"|(?P<year>\b(?P<y4>{_YEAR})\b)"
    r"|(?P<open>aujourd'hui|aujourd.hui|a ce jour|a present|present|now|en cours|current)"
)
_SINCE = re.compile(r"\b(?:depuis|since)\s*$")
_HOURS = re.compile(r"\(?\b(\d{1,4}(?:[.,]\d{1,2})?)\s*(?:h|heures?|hours?|hrs?)\b\)?")
_LEVEL = re.compile(r"\b(bac\s*\+\s*\d|niveau\s+\d|eqf\s*\d|level\s+\d|rncp\s*\d+)\b")
_YEARS_STATEMENT = re.compile(
    r"\b(\d{1,2})\s*(?:\+\s*)?(?:ans|annees)\s+d.\s*experience(?:\s+(?:en|dans)\s+(?P<fr>[^.;,]+))?"
    r"|\b(\d{1,2})\s*\+?\s*years?\s+of\s+experience(?:\s+in\s+(?P<en>[^.;,]+))?"
)
_ORG_SPLIT = re.compile(r"\s*(?:,|\s[-–—|@]\s|\bchez\b|\bat\b|\bauprès de\b)\s*")
_EDGE = re.compile(
    r"^(?:[\s\-–—:|,;./()]|\b(?:a|au|to|de|du|from|until|depuis|since|jusqu.a|jusqu.au|et)\b)+"
)
_EDGE_WINDOW = 64
_EDGE_END = re.compile(
    r"(?:[\s\-–—:|,;./(]|\b(?:a|au|to|de|du|from|until|depuis|since|jusqu.a|jusqu.au|et)\b)+$"
)


class Section(StrEnum):
    QUALIFICATIONS = "qualifications"
    EXPERIENCE = "experience"
    DEVELOPMENT = "development"
    OTHER = "other"


# Checked in this order: "formation continue" must win over "formation".
_HEADINGS: tuple[tuple[Section, tuple[str, ...]], ...] = (
    (
        Section.DEVELOPMENT,
        (
            "formation continue", "formations continues", "formations suivies",
            "formation professionnelle continue", "developpement professionnel",
            "developpement des competences", "continuing professional development",
            "continuing development", "professional development", "cpd",
            "trainings attended", "training attended", "perfectionnement",
        ),
    ),
    (
        Section.EXPERIENCE,
        (
            "experience", "experiences", "parcours professionnel", "work experience",
            "professional experience", "employment", "carriere",
        ),
    ),
    (
        Section.QUALIFICATIONS,
        (
            "diplome", "diplomes", "formation", "formations", "education", "etudes",
            "qualifications", "certifications", "titres", "cursus",
        ),
    ),
    (
        Section.OTHER,
        (
            "competences", "langues", "skills", "languages", "centres d'interet", "interets",
            "loisirs", "interests", "contact", "profil", "profile", "references",
            "informations", "a propos", "about", "hobbies",
        ),
    ),
)  # fmt: skip


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    return (fold(char) or " ")[0]


def _aligned_fold(text: str) -> str:
    """Fold accents one character for one, so match positions fit the original text."""
    if text.isascii():
        return text.lower()
    return "".join(map(_fold_char, text))


def heading(line: str) -> Section | None:
    """The section a short heading line opens, or None for an ordinary line."""
    folded = _aligned_fold(line).strip().rstrip(":").strip()
    if not folded or len(folded) > 60 or any(c.isdigit() for c in folded):
        return None
    for section, words in _HEADINGS:
        for word in words:
            if folded == word or folded.startswith(word + " "):
                return section
    return None


@dataclass(slots=True)
class LineFacts:
    """What one line says: a title, maybe an organisation, dates and hours."""

    title: str
    organisation: str | None = None
    dates: list[PartialDate] = field(default_factory=list)
    open_end: bool = False
    since: bool = False
    hours: float | None = None
    level: str | None = None


def _date(match: re.Match[str]) -> PartialDate | None:
    if match.group("dmy"):
        return partial_date(match.group("y"), match.group("m"), match.group("d"))
    if match.group("iso"):
        return partial_date(match.group("iy"), match.group("im"), match.group("id"))
    if match.group("my"):
        return partial_date(match.group("y2"), match.group("m2"))
    if match.group("named"):
        return partial_date(match.group("y3"), MONTHS[match.group("mn")])
    if match.group("year"):
        return partial_date(match.group("y4"))
    return None


def _edge_end(folded: str) -> int:
    """Where the separators and connector words ending ``folded`` start.

    ``_EDGE_END`` ends with ``$``: searched over a whole line it is tried from every
    position, quadratic on a PDF line of dot leaders ("Formateur ........ 2019").
    It is searched in a sliding window from the end instead: linear time.
    """
    hi = len(folded)
    while hi > 0:
        lo = max(hi - _EDGE_WINDOW, 0)
        match = _EDGE_END.search(folded, lo, hi)
        if match is None:
            return hi
        if match.start() > lo or lo == 0:
            return match.start()
        hi = lo  # the whole window is edge: look further back
    return 0


def _trim(text: str) -> str:
    """Drop separators and connector words ("à", "depuis"...) left at either end."""
    folded = _aligned_fold(text)
    start = _EDGE.match(folded)
    lo = start.end() if start else 0
    hi = _edge_end(folded)
    return text[lo:hi].strip() if lo < hi else ""


def read_line(line: str) -> LineFacts | None:
    """Dates, hours, level and title of one line; None when no title is left."""
    folded = _aligned_fold(line)
    facts = LineFacts(title="")
    cut: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(folded):
        if match.group("open"):
            facts.open_end = bool(facts.dates)
            cut.append(match.span())
            continue
        value = _date(match)
        if value is None:
            continue
        if not facts.dates and _SINCE.search(folded[: match.start()]):
            facts.since = True
        facts.dates.append(value)
        cut.append(match.span())
    hours = _HOURS.search(folded)
    if hours:
        facts.hours = float(hours.group(1).replace(",", "."))
        cut.append(hours.span())
    level = _LEVEL.search(folded)
    if level:
        facts.level = line[level.start() : level.end()].strip()
    kept = list(line)
    for start, end in cut:
        kept[start:end] = [" "] * (end - start)
    rest = "".join(kept)
    rest = re.sub(r"\b(?:depuis|since)\b", " ", rest, flags=re.IGNORECASE)
    rest = re.sub(r"\(\s*\)", " ", rest)
    rest = _trim(re.sub(r"\s+", " ", rest))
    if not rest or not any(c.isalpha() for c in rest):
        return None
    parts = _ORG_SPLIT.split(rest, maxsplit=1)
    facts.title = parts[0].strip()[:MAX_TITLE_CHARS]
    if len(parts) > 1 and parts[1].strip():
        facts.organisation = _trim(parts[1])[:MAX_TITLE_CHARS] or None
    if not facts.title:
        return None
    return facts


@dataclass(slots=True)
class FreeTextEntries:
    qualifications: list[Qualification] = field(default_factory=list)
    experiences: list[Experience] = field(default_factory=list)
    developments: list[Development] = field(default_factory=list)


def development_from(facts: LineFacts) -> Development:
    return Development(
        title=facts.title,
        provider=facts.organisation,
        completed=facts.dates[-1] if facts.dates else None,
        hours=facts.hours,
        needs_review=True,
    )


def qualification_from(facts: LineFacts) -> Qualification:
    return Qualification(
        title=facts.title,
        issuer=facts.organisation,
        level=facts.level,
        obtained=facts.dates[-1] if facts.dates else None,
        needs_review=True,
    )


def experience_from(facts: LineFacts) -> Experience:
    start = facts.dates[0] if facts.dates else None
    end = facts.dates[1] if len(facts.dates) > 1 else None
    current = facts.open_end or facts.since
    if end is None and not current:
        end = start  # "2019 Formateur": a single period, as precise as written
    return Experience(
        title=facts.title,
        employer=facts.organisation,
        start=start,
        end=end,
        current=current,
        needs_review=True,
    )


def _years_statements(lines: list[str]) -> list[Experience]:
    found = []
    for line in lines:
        match = _YEARS_STATEMENT.search(_aligned_fold(line))
        if not match:
            continue
        years = match.group(1) or match.group(3)
        domain_span = match.span("fr") if match.group("fr") else match.span("en")
        domain = line[domain_span[0] : domain_span[1]].strip() if domain_span[0] >= 0 else ""
        found.append(
            Experience(
                title=line.strip()[:MAX_TITLE_CHARS],
                domains=(domain,) if domain else (),
                needs_review=True,
                years=float(years),
            )
        )
    return found


def read_free_text(lines: list[str]) -> FreeTextEntries:
    """Entries of a CV written as text, section by section."""
    entries = FreeTextEntries()
    section: Section | None = None
    for line in lines:
        opened = heading(line)
        if opened is not None:
            section = opened
            continue
        if section in (None, Section.OTHER):
            continue
        facts = read_line(line)
        if facts is None:
            continue
        if section is Section.DEVELOPMENT:
            entries.developments.append(development_from(facts))
        elif section is Section.QUALIFICATIONS:
            entries.qualifications.append(qualification_from(facts))
        elif facts.dates:  # an experience line without any date is prose, not a job
            entries.experiences.append(experience_from(facts))
    entries.experiences.extend(_years_statements(lines))
    return entries
