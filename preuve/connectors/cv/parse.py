"""One entry point for every trainer document: recognise the format, then read it."""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any

import orjson

from preuve.connectors.cv.badges import looks_like_badge, parse_badge
from preuve.connectors.cv.baked import PNG_SIGNATURE, png_assertion, svg_assertion
from preuve.connectors.cv.constants import MAX_DOCUMENT_BYTES, SUPPORTED_SUFFIXES
from preuve.connectors.cv.document import CvFormatError, ParsedDocument
from preuve.connectors.cv.europass import parse_europass_json, parse_europass_xml
from preuve.connectors.cv.jsonresume import looks_like_resume, parse_json_resume
from preuve.connectors.cv.pdf import parse_pdf
from preuve.i18n import Text

MSG_TOO_BIG = Text(
    fr="fichier trop volumineux ({size} octets, maximum {limit})",
    en="file too large ({size} bytes, limit {limit})",
)
MSG_EMPTY = Text(fr="fichier vide", en="empty file")
MSG_SUFFIX = Text(
    fr="format « {suffix} » non pris en charge (formats lus : {known})",
    en="format '{suffix}' not supported (formats read: {known})",
)
MSG_BAD_JSON = Text(fr="JSON invalide : {error}", en="invalid JSON: {error}")
MSG_JSON_OBJECT = Text(fr="un objet JSON est attendu", en="a JSON object is expected")
MSG_BAD_JWS = Text(
    fr="badge signé (JWS) illisible : {error}", en="unreadable signed badge (JWS): {error}"
)
MSG_UNKNOWN_JSON = Text(
    fr="JSON non reconnu : ni CV Europass, ni JSON Resume, ni Open Badges",
    en="unrecognised JSON: neither a Europass CV, a JSON Resume nor an Open Badge",
)


# A compact JWS / JWT: header.payload.signature, each base64url.
_COMPACT_JWS = re.compile(rb"^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def _jws_payload(data: bytes) -> Any:
    """The JSON payload of a signed badge (OB 2.0 signed assertion, OB 3.0 VC-JWT).

    The signature is not verified: that needs the issuer's key, fetched over the
    network. The recipient is still verified (hash against the trainer's e-mail).
    """
    payload = data.split(b".")[1]
    try:
        raw = base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4))
        value = orjson.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise CvFormatError(MSG_BAD_JWS(error=exc), code="invalid_jws") from exc
    if isinstance(value, dict) and isinstance(value.get("vc"), dict):
        return value["vc"]  # VC-JWT (VC data model 1.1): the credential is the "vc" claim
    return value


def parse_json_document(value: Any) -> ParsedDocument:
    if not isinstance(value, dict):
        raise CvFormatError(MSG_JSON_OBJECT(), code="invalid_json")
    if looks_like_badge(value):
        return parse_badge(value)
    if "SkillsPassport" in value:
        return parse_europass_json(value)
    if looks_like_resume(value):
        return parse_json_resume(value)
    raise CvFormatError(MSG_UNKNOWN_JSON(), code="unknown_format")


def parse_document(data: bytes, *, name: str) -> ParsedDocument:
    """Read a CV, badge or PDF given its bytes and file name; CvFormatError says why not."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CvFormatError(MSG_TOO_BIG(size=len(data), limit=MAX_DOCUMENT_BYTES), code="too_big")
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise CvFormatError(MSG_EMPTY(), code="empty")
    suffix = Path(name).suffix.lower()
    if head.startswith(b"%PDF-"):
        return parse_pdf(data)
    if data.startswith(PNG_SIGNATURE):
        return _parse_text_badge(png_assertion(data))
    if suffix not in SUPPORTED_SUFFIXES:
        raise CvFormatError(
            MSG_SUFFIX(suffix=suffix or name, known=", ".join(SUPPORTED_SUFFIXES)),
            code="unsupported_format",
        )
    if suffix == ".svg":
        return _parse_text_badge(svg_assertion(data))
    if head.startswith(b"<"):
        return parse_europass_xml(data)
    return _parse_text_badge(data)


def _parse_text_badge(data: bytes) -> ParsedDocument:
    """JSON (CV or badge) or a compact JWS holding a badge."""
    stripped = data.strip()
    if _COMPACT_JWS.match(stripped):
        return parse_json_document(_jws_payload(stripped))
    try:
        value = orjson.loads(data)  # not stripped: error positions match the file
    except orjson.JSONDecodeError as exc:
        raise CvFormatError(MSG_BAD_JSON(error=exc), code="invalid_json") from exc
    return parse_json_document(value)


def parse_file(path: Path) -> ParsedDocument:
    """Read a document from disk (the size is checked before reading it)."""
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise CvFormatError(MSG_TOO_BIG(size=size, limit=MAX_DOCUMENT_BYTES), code="too_big")
    return parse_document(path.read_bytes(), name=path.name)
