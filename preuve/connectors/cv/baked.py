"""Baked badges: an Open Badge carried inside its PNG or SVG image.

PNG: an ``iTXt`` chunk with the keyword ``openbadges`` holds the assertion (JSON,
a signed JWS, or only its URL). SVG: an ``openbadges:assertion`` element holds it
(as text, or only a ``verify`` URL). A URL alone is refused: hosted assertions
are not fetched by a file connector.
"""

from __future__ import annotations

import struct
import zlib

from lxml import etree

from preuve.connectors.cv.constants import MAX_ATTACHMENT_BYTES
from preuve.connectors.cv.document import CvFormatError
from preuve.connectors.cv.europass import parse_xml_bytes
from preuve.i18n import Text

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OB_KEYWORD = b"openbadges"

MSG_NOT_BAKED = Text(
    fr="image sans badge intégré (ni chunk iTXt « openbadges » ni élément openbadges:assertion)",
    en="image without an embedded badge (no 'openbadges' iTXt chunk nor "
    "openbadges:assertion element)",
)
MSG_HOSTED_ONLY = Text(
    fr="le badge intégré ne donne que l'adresse de l'assertion ({url}) : elle n'est pas "
    "téléchargée ; déposez le fichier JSON de l'assertion",
    en="the embedded badge only gives the assertion's address ({url}): it is not "
    "downloaded; provide the assertion's JSON file",
)
MSG_BAD_PNG = Text(fr="PNG illisible : {error}", en="unreadable PNG: {error}")


def _hosted_only(text: bytes) -> bool:
    return text.strip().lower().startswith((b"http://", b"https://"))


def _itxt_text(data: bytes) -> bytes | None:
    keyword, sep, rest = data.partition(b"\x00")
    if not sep or keyword != OB_KEYWORD or len(rest) < 2:
        return None
    compressed, rest = rest[0], rest[2:]
    _language, _, rest = rest.partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    if compressed:
        inflater = zlib.decompressobj()
        text = inflater.decompress(text, MAX_ATTACHMENT_BYTES)
        if inflater.unconsumed_tail:
            raise CvFormatError(MSG_BAD_PNG(error="assertion too large"), code="invalid_png")
    return text


def png_assertion(data: bytes) -> bytes:
    """The assertion text baked in a PNG."""
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if len(body) < length:
            raise CvFormatError(MSG_BAD_PNG(error="truncated chunk"), code="invalid_png")
        if kind == b"iTXt":
            try:
                text = _itxt_text(body)
            except zlib.error as exc:
                raise CvFormatError(MSG_BAD_PNG(error=exc), code="invalid_png") from exc
            if text is not None:
                if _hosted_only(text):
                    url = text.decode("utf-8", "replace").strip()[:200]
                    raise CvFormatError(MSG_HOSTED_ONLY(url=url), code="hosted_assertion")
                return text
        if kind == b"IEND":
            break
        pos += 12 + length
    raise CvFormatError(MSG_NOT_BAKED(), code="not_a_badge")


def svg_assertion(data: bytes) -> bytes:
    """The assertion text baked in an SVG (parsed without entities, DTD or network)."""
    root = parse_xml_bytes(data)
    for element in root.iter():
        if not isinstance(element.tag, str) or etree.QName(element).localname != "assertion":
            continue
        text = (element.text or "").strip()
        if text:
            return text.encode("utf-8")
        url = str(element.get("verify") or "")
        if url:
            raise CvFormatError(MSG_HOSTED_ONLY(url=url[:200]), code="hosted_assertion")
    raise CvFormatError(MSG_NOT_BAKED(), code="not_a_badge")
