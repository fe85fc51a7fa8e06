"""Limits and defaults of the CV connector, kept in one place."""

from __future__ import annotations

from typing import Final

# A trainer document larger than this is refused before it is read (CVs and
# badges are small; a bigger file is a scan or a mistake).
MAX_DOCUMENT_BYTES: Final = 20 * 1024 * 1024
# PDF text extraction stops after this many pages / characters.
MAX_PDF_PAGES: Final = 30
MAX_PDF_TEXT_CHARS: Final = 200_000
# Deepest nesting read from a JSON CV (Europass JSON nests about ten levels); deeper
# documents are refused instead of exhausting the interpreter's recursion limit.
MAX_TREE_DEPTH: Final = 100
# An embedded Europass XML larger than this is ignored.
MAX_ATTACHMENT_BYTES: Final = 5 * 1024 * 1024
# Files scanned per committed batch (the cursor is saved after each batch).
DEFAULT_BATCH_FILES: Final = 50
# The one stream of the connector.
STREAM_NAME: Final = "documents"
# File name endings the connector reads; anything else is reported as unsupported.
SUPPORTED_SUFFIXES: Final = (
    ".xml",
    ".json",
    ".jsonld",
    ".pdf",
    ".jws",
    ".jwt",
    ".png",
    ".svg",
)
# Longest free-text title kept from a document.
MAX_TITLE_CHARS: Final = 300
# Format names stored in TrainerCv.format.
FORMAT_EUROPASS_XML: Final = "europass-xml"
FORMAT_EUROPASS_JSON: Final = "europass-json"
FORMAT_JSON_RESUME: Final = "jsonresume"
FORMAT_OPEN_BADGES_2: Final = "openbadges-2.0"
FORMAT_OPEN_BADGES_3: Final = "openbadges-3.0"
FORMAT_PDF: Final = "pdf"
FORMAT_PDF_EUROPASS: Final = "pdf+europass-xml"
# Evidence kinds that hold a trainer's documented competence (listing, erasure of copies).
TRAINER_KINDS: Final = ("trainer_cv", "trainer_qualification", "trainer_experience", "trainer_cpd")
