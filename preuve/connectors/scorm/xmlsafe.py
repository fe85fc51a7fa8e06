"""Safe XML parsing for user uploads: no DTD, no entities, no network, no huge trees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any, BinaryIO

from lxml import etree

from preuve.connectors.scorm.errors import ScormError, UnsafePackageError, line_label
from preuve.i18n import Text

MSG_DTD = Text(
    fr="déclaration DOCTYPE/ENTITY refusée (entités externes interdites)",
    en="DOCTYPE/ENTITY declaration refused (external entities are not allowed)",
)
MSG_SYNTAX = Text(fr="XML illisible : {error}", en="unreadable XML: {error}")

_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>", re.DOTALL)
_UTF8_PROBLEM = ("not proper UTF-8", "Input is not proper", "Invalid bytes in character encoding")


def parser_options() -> dict[str, Any]:
    """Options shared by every parser here (documented in docs/scorm.md)."""
    return {
        "resolve_entities": False,
        "load_dtd": False,
        "no_network": True,
        "huge_tree": False,
        "remove_comments": True,
        "remove_pis": True,
    }


_PROLOG_BYTES = 65536
_DTD_MARKERS = tuple(
    text.encode(encoding)
    for text in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


def _has_doctype(head: bytes) -> bool:
    # A DOCTYPE can only appear in the prolog, before the root element: look there only.
    return any(marker in head for marker in _DTD_MARKERS)


def local(tag: object) -> str:
    """Lower-cased local name of an element tag (namespaces vary per tool)."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2].lower()


def namespace(tag: object) -> str:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1:].partition("}")[0]


def transcode_legacy(data: bytes) -> bytes:
    """Bytes declared UTF-8 but written in Windows-1252: re-encode without the declaration."""
    body = _DECLARATION.sub(b"", data.removeprefix(b"\xef\xbb\xbf"), count=1)
    return body.decode("cp1252", errors="replace").encode("utf-8")


def iterparse(
    data: bytes | BinaryIO, file: str, *, events: tuple[str, ...] = ("end",)
) -> Iterator[tuple[str, Any]]:
    """Stream (event, element) pairs from bytes or a seekable binary file.

    DTDs are refused; syntax errors name the line. A file is read as it is parsed,
    never whole (SCORM Cloud exports can be large).
    """
    stream: BinaryIO = BytesIO(data) if isinstance(data, bytes) else data
    start = stream.tell()
    head = stream.read(_PROLOG_BYTES)
    stream.seek(start)
    if _has_doctype(head):
        raise UnsafePackageError(file, MSG_DTD(), code="dtd_refused")
    context = etree.iterparse(stream, events=("start", "end"), **parser_options())
    checked = False
    try:
        for event, element in context:
            if not checked:
                checked = True
                # Second line of defence: any DOCTYPE the byte scan missed (odd encodings).
                if element.getroottree().docinfo.doctype:
                    raise UnsafePackageError(file, MSG_DTD(), code="dtd_refused")
            if event in events:
                yield event, element
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else None)
        raise ScormError(
            file,
            MSG_SYNTAX(error=exc.msg),
            where=line_label(line) if line else None,
            code="xml_syntax",
        ) from exc


def is_encoding_error(error: ScormError) -> bool:
    return error.code == "xml_syntax" and any(p in error.detail for p in _UTF8_PROBLEM)


def parse_tree(data: bytes, file: str) -> Any:
    """A whole small document (external metadata): same protections, legacy encodings tolerated."""
    root: Any = None
    try:
        for _event, element in iterparse(data, file):
            root = element
    except ScormError as exc:
        if not is_encoding_error(exc):
            raise
        for _event, element in iterparse(transcode_legacy(data), file):
            root = element
    return root
