"""Moodle SCORM report downloads ("CSV" = tab-separated ``.txt``), streamed line by line.

Headers, dates and status words are in the downloading user's language:
columns are recognised by their (accent- and case-folded) header in French or
English, and every column after the score is one SCO, headed by its title.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import lru_cache
from typing import BinaryIO

from preuve.connectors.scorm.cmi import (
    CompletionStatus,
    Interaction,
    NormalisedAttempt,
    Score,
    SuccessStatus,
    lesson_status,
)
from preuve.connectors.scorm.constants import MAX_CSV_FIELD, MAX_CSV_LINE, VERSION_12
from preuve.connectors.scorm.dates import DateError, fold, parse_date
from preuve.connectors.scorm.errors import ScormError, line_label
from preuve.connectors.scorm.tracking import TrackedAttempt, TrackingProblem
from preuve.i18n import Text

MSG_NO_HEADER = Text(
    fr="en-tête du rapport SCORM Moodle attendu (colonnes « Tentative »/« Attempt », "
    "« Commencé le »/« Started on »...), reçu : {found}",
    en="expected a Moodle SCORM report header (columns 'Attempt', 'Started on'...), got: {found}",
)
MSG_NO_IDENTITY = Text(
    fr="aucune colonne d'identité (adresse de courriel, numéro d'identification, nom "
    "d'utilisateur) : activez-la dans « Champs d'identité » (showuseridentity)",
    en="no identity column (email address, ID number, username): enable it in 'Show user "
    "identity' (showuseridentity)",
)
MSG_NO_PERSON = Text(
    fr="colonne {column} vide : impossible d'identifier l'apprenant",
    en="column {column} is empty: the learner cannot be identified",
)
MSG_BAD_ATTEMPT = Text(
    fr="colonne {column} : numéro de tentative attendu, reçu {value!r}",
    en="column {column}: expected an attempt number, got {value!r}",
)
MSG_BAD_CELL = Text(
    fr="colonne « {column} » : score (85 ou 85/100) ou statut attendu, reçu {value!r}",
    en="column '{column}': expected a score (85 or 85/100) or a status, got {value!r}",
)
MSG_COLUMNS = Text(
    fr="{count} {count:colonne|colonnes} au lieu de {expected}",
    en="{count} {count:column|columns} instead of {expected}",
)
MSG_BAD_DATE_CELL = Text(fr="colonne « {column} » : {error}", en="column '{column}': {error}")
MSG_LINE_TOO_LONG = Text(
    fr="ligne de plus de {limit} octets : ce n'est pas un rapport SCORM Moodle",
    en="line longer than {limit} bytes: not a Moodle SCORM report",
)
MSG_CSV = Text(fr="ligne illisible : {error}", en="unreadable line: {error}")

# Folded header -> role. Moodle language packs differ between versions: several spellings.
_HEADERS: dict[str, str] = {
    "attempt": "attempt",
    "tentative": "attempt",
    "started on": "started",
    "started": "started",
    "commence le": "started",
    "commence": "started",
    "debut": "started",
    "date de debut": "started",
    "demarre le": "started",
    "last accessed on": "last",
    "last access": "last",
    "last accessed": "last",
    "dernier acces le": "last",
    "dernier acces": "last",
    "score": "score",
    "note": "score",
    "grade": "score",
    "email address": "email",
    "email": "email",
    "e-mail": "email",
    "adresse de courriel": "email",
    "adresse courriel": "email",
    "courriel": "email",
    "adresse e-mail": "email",
    "id number": "idnumber",
    "idnumber": "idnumber",
    "numero d'identification": "idnumber",
    "n° d'identification": "idnumber",
    "no d'identification": "idnumber",
    "identifiant": "idnumber",
    "username": "username",
    "nom d'utilisateur": "username",
    "name": "name",
    "nom": "name",
    "full name": "name",
    "nom complet": "name",
    "prenom / nom": "name",
    "first name / last name": "name",
}
_INTERACTION = re.compile(
    r"^(question|response|reponse|right answer|bonne reponse|reponse correcte|result|resultat)"
    r"\s*(\d+)$"
)
_INTERACTION_ROLE = {
    "question": "id",
    "response": "response",
    "reponse": "response",
    "right answer": "right",
    "bonne reponse": "right",
    "reponse correcte": "right",
    "result": "result",
    "resultat": "result",
}
# Localised SCO status words (Moodle en/fr language packs, several versions) -> 1.2 status.
_STATUS_WORDS: dict[str, str] = {
    "passed": "passed",
    "reussi": "passed",
    "completed": "completed",
    "complete": "completed",
    "termine": "completed",
    "acheve": "completed",
    "incomplete": "incomplete",
    "incomplet": "incomplete",
    "non termine": "incomplete",
    "inacheve": "incomplete",
    "failed": "failed",
    "echoue": "failed",
    "echec": "failed",
    "browsed": "browsed",
    "parcouru": "browsed",
    "survole": "browsed",
    "consulte": "browsed",
    "not attempted": "not attempted",
    "non tente": "not attempted",
    "pas tente": "not attempted",
    "non commence": "not attempted",
}
_NOT_STARTED = NormalisedAttempt(version=VERSION_12, completion=CompletionStatus.NOT_ATTEMPTED)
_SCORE = re.compile(r"^(-?\d+(?:[.,]\d+)?)\s*(?:/\s*(\d+(?:[.,]\d+)?))?\s*%?$")
_EMPTY = {"", "-", "—"}


@dataclass(slots=True)
class _Layout:
    width: int
    roles: dict[str, int] = field(default_factory=dict)
    scos: list[tuple[int, str]] = field(default_factory=list)
    interactions: dict[int, dict[str, int]] = field(default_factory=dict)


def _layout(header: list[str], file: str) -> _Layout:
    layout = _Layout(width=len(header))
    after_score = False
    for index, raw in enumerate(header):
        name = fold(raw)
        role = _HEADERS.get(name)
        if match := _INTERACTION.match(name):
            layout.interactions.setdefault(int(match[2]), {})[_INTERACTION_ROLE[match[1]]] = index
        elif role is not None and role not in layout.roles and not after_score:
            layout.roles[role] = index
            after_score = role == "score"
        elif after_score and raw.strip():
            layout.scos.append((index, raw.strip()))
    if "attempt" not in layout.roles or not ({"started", "last"} & set(layout.roles)):
        found = " | ".join(h.strip() for h in header[:8])
        raise ScormError(file, MSG_NO_HEADER(found=found), where=line_label(1), code="bad_header")
    return layout


@lru_cache(maxsize=4096)
def _score_cell(value: str) -> Score | None:
    match = _SCORE.match(value)
    if match is None:
        return None
    raw = float(match[1].replace(",", "."))
    high = float(match[2].replace(",", ".")) if match[2] else None
    scaled = raw / high if high else None
    return Score(raw=raw, max=high, scaled=scaled if scaled is not None and scaled <= 1 else None)


@lru_cache(maxsize=4096)
def _sco_result(value: str) -> NormalisedAttempt | None:
    # Cells repeat ("Terminé", "85/100"): each distinct one is read once (results are frozen).
    text = value.strip()
    if text in _EMPTY:
        return None
    score = _score_cell(text)
    if score is not None:
        return NormalisedAttempt(version=VERSION_12, score=score)
    word = _STATUS_WORDS.get(fold(text))
    mapped = lesson_status(word) if word else None
    if mapped is None:
        raise ValueError(text)
    completion, success, credit = mapped
    return NormalisedAttempt(
        version=VERSION_12, completion=completion, success=success, credit=credit
    )


def _decoded_lines(stream: BinaryIO, file: str) -> Iterator[str]:
    """Lines as text: BOMs honoured, UTF-16 detected, a non-UTF-8 line read as Windows-1252.

    ``stream`` must be seekable (a file on disk, a spooled upload). A line longer than
    ``MAX_CSV_LINE`` refuses the file: it is never held whole (no newline, no end).
    """
    head = stream.read(2)
    stream.seek(0)
    number = 0
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        # A damaged UTF-16 file (odd length, lone surrogate) is read, not fatal: the
        # replaced characters land in cells that are then reported as unreadable.
        text = io.TextIOWrapper(stream, encoding="utf-16", errors="replace", newline="")
        while chunk := text.readline(MAX_CSV_LINE + 1):
            number += 1
            if len(chunk) > MAX_CSV_LINE:
                raise _line_too_long(file, number)
            yield chunk
        return
    while raw := stream.readline(MAX_CSV_LINE + 1):
        number += 1
        if len(raw) > MAX_CSV_LINE:
            raise _line_too_long(file, number)
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            yield raw.decode("cp1252", errors="replace")


def _line_too_long(file: str, number: int) -> ScormError:
    return ScormError(
        file, MSG_LINE_TOO_LONG(limit=MAX_CSV_LINE), where=line_label(number), code="too_large"
    )


def read_moodle_report(
    stream: BinaryIO, *, file: str, zone: tzinfo, strict: bool = False
) -> Iterator[TrackedAttempt | TrackingProblem]:
    """Attempts of a Moodle SCORM report, one row at a time (memory stays flat)."""
    csv.field_size_limit(MAX_CSV_FIELD)
    lines: Iterable[str] = _decoded_lines(stream, file)
    reader = csv.reader(lines, delimiter="\t", quotechar='"')
    try:
        header = next(reader)
    except StopIteration:
        raise ScormError(
            file, MSG_NO_HEADER(found="-"), where=line_label(1), code="empty"
        ) from None
    except csv.Error as exc:
        where = line_label(reader.line_num or 1)
        raise ScormError(file, MSG_CSV(error=exc), where=where, code="bad_header") from exc
    layout = _layout(header, file)
    row_label = line_label("{}")  # rendered once per file: rows are the hot path
    identity = next((r for r in ("email", "idnumber", "username") if r in layout.roles), "")
    if not identity:
        if strict or "name" not in layout.roles:
            raise ScormError(file, MSG_NO_IDENTITY(), where=line_label(1), code="no_identity")
        identity = "name"  # lenient: the full name, pseudonymised like any id
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield TrackingProblem(line_label(reader.line_num), MSG_CSV(error=exc), "bad_line")
            continue
        if not any(cell.strip() for cell in row):
            continue
        yield from _row(row, layout, identity, header, row_label.format(reader.line_num), zone)


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _row(
    row: list[str],
    layout: _Layout,
    identity: str,
    header: list[str],
    where: str,
    zone: tzinfo,
) -> Iterator[TrackedAttempt | TrackingProblem]:
    # Hot path (one call per row of exports of 100k+ rows): plain locals, no helpers.
    if len(row) != layout.width:
        yield TrackingProblem(where, MSG_COLUMNS(count=len(row), expected=layout.width))
        return
    roles = layout.roles
    person = row[roles[identity]].strip()
    if person in _EMPTY:
        yield TrackingProblem(where, MSG_NO_PERSON(column=header[roles[identity]].strip()))
        return
    email = person if identity == "email" else None
    user_id = None if identity == "email" else person
    attempt_text = row[roles["attempt"]].strip()
    role = "started"
    try:
        started = parse_date(_cell(row, roles.get(role)), zone)
        role = "last"
        last = parse_date(_cell(row, roles.get(role)), zone)
    except DateError as exc:
        column = header[roles[role]].strip()
        yield TrackingProblem(where, MSG_BAD_DATE_CELL(column=column, error=exc), "bad_date")
        return
    if attempt_text in _EMPTY:
        # A learner listed without any attempt ("all users" selected): not started.
        yield TrackedAttempt(
            where, "moodle_report", None, None, None, None, email, user_id, None, None, None,
            None, _NOT_STARTED,
        )  # fmt: skip
        return
    if not attempt_text.isdigit():
        column = header[roles["attempt"]].strip()
        yield TrackingProblem(where, MSG_BAD_ATTEMPT(column=column, value=attempt_text))
        return
    attempt = int(attempt_text)
    read = all_known = all_completed = all_passed = True
    any_failed = False
    count = 0
    for index, title in layout.scos:
        cell = row[index].strip()
        try:
            result = _sco_result(cell)
        except ValueError:
            yield TrackingProblem(where, MSG_BAD_CELL(column=title, value=cell))
            read = False
            continue
        if result is None:
            read = False
            continue
        count += 1
        completion = result.completion
        all_known = all_known and completion is not CompletionStatus.UNKNOWN
        all_completed = all_completed and completion is CompletionStatus.COMPLETED
        all_passed = all_passed and result.success is SuccessStatus.PASSED
        any_failed = any_failed or result.success is SuccessStatus.FAILED
        yield TrackedAttempt(
            where, "moodle_report", None, None, title, title, email, user_id, attempt,
            started, last, last if completion is CompletionStatus.COMPLETED else None, result,
        )  # fmt: skip
    overall = _score_cell(_cell(row, roles.get("score")))
    summary = CompletionStatus.UNKNOWN
    if read and count and all_known:
        summary = CompletionStatus.COMPLETED if all_completed else CompletionStatus.INCOMPLETE
    success = SuccessStatus.UNKNOWN
    if count and all_passed:
        success = SuccessStatus.PASSED
    elif any_failed:
        success = SuccessStatus.FAILED
    interactions: tuple[Interaction, ...] = ()
    if layout.interactions:
        interactions = tuple(
            Interaction(
                id=_cell(row, cols.get("id")) or str(number),
                result=_cell(row, cols.get("result")) or None,
                learner_response=_cell(row, cols.get("response")) or None,
            )
            for number, cols in sorted(layout.interactions.items())
            if any(_cell(row, i) not in _EMPTY for i in cols.values())
        )
    yield TrackedAttempt(
        where, "moodle_report", None, None, None, None, email, user_id, attempt, started, last,
        last if summary is CompletionStatus.COMPLETED else None,
        _overall(summary, success, overall, interactions),
    )  # fmt: skip


@lru_cache(maxsize=4096)
def _overall(
    completion: CompletionStatus,
    success: SuccessStatus,
    score: Score | None,
    interactions: tuple[Interaction, ...],
) -> NormalisedAttempt:
    # Most rows share the same summary: one frozen object each, built once.
    return NormalisedAttempt(
        version=VERSION_12,
        completion=completion,
        success=success,
        score=score,
        interactions=interactions,
    )
