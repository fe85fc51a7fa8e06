"""A parsed document, once its trainer is known, as evidence payloads.

Every value carries the document it came from (a :class:`DocumentRef`: where it
is and its SHA-256, not a copy). Source ids are stable per trainer, file and
entry: ``<person_ref>/<file>#<n>``, so a re-read of an unchanged file writes
nothing and a changed file updates its entries in place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from preuve.connectors.cv.constants import (
    FORMAT_EUROPASS_JSON,
    FORMAT_EUROPASS_XML,
    FORMAT_JSON_RESUME,
    FORMAT_OPEN_BADGES_2,
    FORMAT_OPEN_BADGES_3,
    FORMAT_PDF,
    FORMAT_PDF_EUROPASS,
)
from preuve.connectors.cv.dates import day_start, years_between
from preuve.connectors.cv.document import ParsedDocument
from preuve.evidence.model import (
    ContinuingDevelopment,
    DocumentRef,
    EvidenceData,
    PartialDate,
    Person,
    PersonRole,
    TrainerCv,
    TrainerExperience,
    TrainerQualification,
)

# By file name ending: a badge baked in a PNG is still a PNG for whoever opens it.
MEDIA_TYPES: dict[str, str] = {
    ".xml": "application/xml",
    ".json": "application/json",
    ".jsonld": "application/ld+json",
    ".pdf": "application/pdf",
    ".jws": "application/jose",
    ".jwt": "application/jwt",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
# When the name says nothing (an upload without extension), by format.
FORMAT_MEDIA_TYPES: dict[str, str] = {
    FORMAT_EUROPASS_XML: "application/xml",
    FORMAT_EUROPASS_JSON: "application/json",
    FORMAT_JSON_RESUME: "application/json",
    FORMAT_OPEN_BADGES_2: "application/ld+json",
    FORMAT_OPEN_BADGES_3: "application/ld+json",
    FORMAT_PDF: "application/pdf",
    FORMAT_PDF_EUROPASS: "application/pdf",
}

# Room left in the 255-character source id once the person key and suffix are in.
_MAX_NAME_IN_ID = 180


@dataclass(frozen=True, slots=True)
class Payload:
    data: EvidenceData
    source_id: str
    effective_at: datetime | None = None


def document_key(person_ref: str, name: str) -> str:
    """The stable prefix of the source ids of one trainer's document."""
    if len(name) > _MAX_NAME_IN_ID:
        name = "sha256-" + hashlib.sha256(name.encode("utf-8")).hexdigest()
    return f"{person_ref}/{name}"


def document_ref(uri: str, data: bytes, fmt: str, name: str) -> DocumentRef:
    suffix = PurePosixPath(name).suffix.lower()
    return DocumentRef(
        uri=uri,
        sha256=hashlib.sha256(data).hexdigest(),
        media_type=MEDIA_TYPES.get(suffix) or FORMAT_MEDIA_TYPES.get(fmt),
        title=PurePosixPath(name).name,
    )


def payloads(
    doc: ParsedDocument,
    *,
    person_ref: str,
    key: str,
    document: DocumentRef,
    fallback_updated: PartialDate | None,
    with_person: bool = True,
) -> list[Payload]:
    """Person (role trainer), TrainerCv, qualifications, experience and CPD of one document."""
    out: list[Payload] = []
    if with_person:
        out.append(
            Payload(
                Person(
                    person_ref=person_ref,
                    roles=(PersonRole.TRAINER,),
                    display_name=doc.display_name,
                ),
                source_id=person_ref,
            )
        )
    if doc.is_cv:
        updated = doc.updated or fallback_updated
        out.append(
            Payload(
                TrainerCv(
                    person_ref=person_ref, document=document, updated=updated, format=doc.format
                ),
                source_id=f"{key}#cv",
                effective_at=day_start(updated),
            )
        )
    for n, qual in enumerate(doc.qualifications):
        out.append(
            Payload(
                TrainerQualification(
                    person_ref=person_ref,
                    title=qual.title,
                    level=qual.level,
                    issuer=qual.issuer,
                    obtained=qual.obtained,
                    domains=qual.domains,
                    document=document,
                    needs_review=qual.needs_review,
                ),
                source_id=f"{key}#q{n}",
                effective_at=day_start(qual.obtained),
            )
        )
    for n, exp in enumerate(doc.experiences):
        years = exp.years
        if years is None and not exp.current:
            years = years_between(exp.start, exp.end)
        out.append(
            Payload(
                TrainerExperience(
                    person_ref=person_ref,
                    title=exp.title,
                    employer=exp.employer,
                    start=exp.start,
                    end=exp.end,
                    years=years,
                    domains=exp.domains,
                    document=document,
                    needs_review=exp.needs_review,
                ),
                source_id=f"{key}#x{n}",
            )
        )
    for n, dev in enumerate(doc.developments):
        out.append(
            Payload(
                ContinuingDevelopment(
                    person_ref=person_ref,
                    title=dev.title,
                    provider=dev.provider,
                    completed=dev.completed,
                    hours=dev.hours,
                    document=document,
                    needs_review=dev.needs_review,
                ),
                source_id=f"{key}#d{n}",
                effective_at=day_start(dev.completed),
            )
        )
    return out
