"""Small text helpers: HTML-ish descriptions to plain lines, e-mail addresses."""

from __future__ import annotations

import html
import re
import unicodedata

from preuve.connectors.cv.constants import MAX_TITLE_CHARS

_BREAKS = re.compile(r"<\s*(?:br|/p|/li|/div|/h\d|/tr)\s*/?\s*>|<\s*li[^>]*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]{0,500}>")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b]+")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+", re.UNICODE)


def plain_lines(text: str | None) -> list[str]:
    """Non-empty lines of a description that may hold HTML markup or entities."""
    if not text:
        return []
    text = _BREAKS.sub("\n", text)
    text = html.unescape(_TAGS.sub(" ", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return [line for line in lines if line]


def one_line(text: str | None) -> str | None:
    """A description as one trimmed line (None when empty), cut to a sane length."""
    joined = " ".join(plain_lines(text))
    if not joined:
        return None
    return joined[:MAX_TITLE_CHARS].rstrip()


def find_emails(text: str) -> list[str]:
    """Distinct e-mail addresses in order of appearance, lower-cased."""
    seen: dict[str, None] = {}
    for match in _EMAIL.finditer(text):
        seen.setdefault(match.group(0).rstrip(".").lower(), None)
    return list(seen)


def fold(text: str) -> str:
    """Lower case without accents, for keyword matching (``Diplômes`` -> ``diplomes``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
