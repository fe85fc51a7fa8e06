"""Trainer CVs, qualifications and continuing development (indicators 21 and 22).

Plain parser functions per format (Europass XML/JSON, JSON Resume, Open Badges
2.0/3.0, PDF) and a file-based connector that scans a folder per tenant.
"""

from __future__ import annotations

from preuve.connectors.cv.badges import parse_badge, recipient_matches
from preuve.connectors.cv.connector import CvConnector
from preuve.connectors.cv.document import CvFormatError, ParsedDocument
from preuve.connectors.cv.europass import parse_europass_json, parse_europass_xml
from preuve.connectors.cv.jsonresume import parse_json_resume
from preuve.connectors.cv.parse import parse_document, parse_file
from preuve.connectors.cv.pdf import parse_pdf

__all__ = [
    "CvConnector",
    "CvFormatError",
    "ParsedDocument",
    "parse_badge",
    "parse_document",
    "parse_europass_json",
    "parse_europass_xml",
    "parse_file",
    "parse_json_resume",
    "parse_pdf",
    "recipient_matches",
]
