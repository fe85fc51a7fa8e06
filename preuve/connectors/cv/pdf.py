"""PDF CVs: the embedded Europass XML first, else the text layer (with pypdf).

Europass PDFs ("PDF+XML") carry the CV as XML in an attachment: when present it
is read exactly. Otherwise the text is extracted and read as free text
(:mod:`preuve.connectors.cv.freetext`); every value found that way is flagged
for review. A PDF without a text layer (a scan) is refused: OCR is not done.
"""

from __future__ import annotations

import io
import logging
import warnings
from datetime import datetime

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from preuve.connectors.cv.constants import (
    FORMAT_PDF,
    FORMAT_PDF_EUROPASS,
    MAX_ATTACHMENT_BYTES,
    MAX_PDF_PAGES,
    MAX_PDF_TEXT_CHARS,
)
from preuve.connectors.cv.dates import partial_date
from preuve.connectors.cv.document import CvFormatError, ParsedDocument
from preuve.connectors.cv.europass import europass_from_element, parse_xml_bytes
from preuve.connectors.cv.freetext import read_free_text
from preuve.connectors.cv.textutil import find_emails
from preuve.evidence.model import PartialDate
from preuve.i18n import Text

MSG_PDF_UNREADABLE = Text(fr="PDF illisible : {error}", en="unreadable PDF: {error}")
MSG_PDF_ENCRYPTED = Text(
    fr="PDF protégé par un mot de passe : enregistrez-le sans protection",
    en="password-protected PDF: save it without protection",
)
MSG_PDF_NO_TEXT = Text(
    fr="PDF sans texte (document scanné ?) : la reconnaissance de caractères (OCR) n'est pas "
    "faite ; fournissez un PDF texte ou un CV Europass / JSON Resume",
    en="PDF without text (a scan?): no character recognition (OCR) is done; provide a text PDF "
    "or a Europass / JSON Resume CV",
)


# What pypdf raises on malformed files: its own errors, and plain Python errors from
# objects of the wrong type where the file is broken (fuzzing finds AttributeError,
# IndexError...). One bad PDF must be refused, never fail the whole sync.
_PDF_ERRORS = (
    PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    OSError,
    AttributeError,
    IndexError,
    AssertionError,
    RecursionError,
)


def _quiet_pypdf() -> None:
    # pypdf reports repairs of sloppy PDFs on its logger; they are not the admin's problem.
    logging.getLogger("pypdf").setLevel(logging.ERROR)


def _metadata_date(reader: PdfReader) -> PartialDate | None:
    try:
        meta = reader.metadata
        if meta is None:
            return None
        value: datetime | None = meta.modification_date or meta.creation_date
    except _PDF_ERRORS:
        return None
    if value is None:
        return None
    return partial_date(value.year, value.month, value.day)


def _embedded_europass(reader: PdfReader) -> ParsedDocument | None:
    try:
        attachments = {name: list(blobs) for name, blobs in reader.attachments.items()}
    except _PDF_ERRORS:
        return None  # a broken attachment tree: the text layer may still be readable
    for name in sorted(attachments):
        for blob in attachments[name]:
            if len(blob) > MAX_ATTACHMENT_BYTES or b"<" not in blob[:200]:
                continue
            try:
                doc = europass_from_element(parse_xml_bytes(blob))
            except CvFormatError:
                continue  # another attachment (an annex, an image) may be the CV
            doc.format = FORMAT_PDF_EUROPASS
            return doc
    return None


def _text(reader: PdfReader) -> str:
    parts: list[str] = []
    size = 0
    for page in reader.pages[:MAX_PDF_PAGES]:
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size >= MAX_PDF_TEXT_CHARS:
            break
    return "\n".join(parts)[:MAX_PDF_TEXT_CHARS]


def parse_pdf(data: bytes) -> ParsedDocument:
    _quiet_pypdf()
    with warnings.catch_warnings():
        # Malformed-PDF warnings from pypdf are expected on real files.
        warnings.simplefilter("ignore")
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise CvFormatError(MSG_PDF_ENCRYPTED(), code="encrypted_pdf")
            embedded = _embedded_europass(reader)
            if embedded is not None:
                embedded.updated = embedded.updated or _metadata_date(reader)
                return embedded
            text = _text(reader)
            updated = _metadata_date(reader)
        except CvFormatError:
            raise
        except _PDF_ERRORS as exc:
            raise CvFormatError(MSG_PDF_UNREADABLE(error=exc), code="invalid_pdf") from exc
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise CvFormatError(MSG_PDF_NO_TEXT(), code="no_text")
    entries = read_free_text(lines)
    return ParsedDocument(
        format=FORMAT_PDF,
        emails=tuple(find_emails(text)),
        updated=updated,
        qualifications=entries.qualifications,
        experiences=entries.experiences,
        developments=entries.developments,
    )
