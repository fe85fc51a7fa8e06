"""Small text PDFs built with pypdf for the tests (no binary fixture in the repo)."""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject


def _escape(line: str) -> bytes:
    raw = line.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def make_pdf(
    lines: list[str],
    *,
    attachments: dict[str, bytes] | None = None,
    modified: str | None = None,
) -> bytes:
    """A one-page PDF with ``lines`` as its text layer (Helvetica, WinAnsi encoding).

    ``modified``: a PDF date such as ``D:20250301120000Z`` for the metadata.
    """
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
    )
    ops = [b"BT", b"/F1 10 Tf", b"14 TL", b"40 800 Td"]
    ops.extend(b"(" + _escape(line) + b") Tj T*" for line in lines)
    ops.append(b"ET")
    content = DecodedStreamObject()
    content.set_data(b"\n".join(ops))
    page.replace_contents(content)
    for name, data in (attachments or {}).items():
        writer.add_attachment(name, data)
    if modified:
        writer.add_metadata({"/ModDate": modified, "/CreationDate": modified})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def blank_pdf() -> bytes:
    """A PDF without any text layer, like a scan."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
