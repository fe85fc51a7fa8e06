"""User-facing text, French first with English available.

Each module keeps its own messages as :class:`Text` constants next to the code
that uses them, so the catalogue never becomes a file everyone edits at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

from preuve.constants import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

Language = Literal["fr", "en"]

_language: Language | None = None


def set_language(language: str) -> None:
    global _language  # noqa: PLW0603 - process-wide UI language, set once by the CLI or app
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(
            f"unsupported language {language!r}: expected one of {SUPPORTED_LANGUAGES}"
        )
    _language = "fr" if language == "fr" else "en"


def current_language() -> Language:
    if _language is not None:
        return _language
    env = os.environ.get("PREUVE_LANG", DEFAULT_LANGUAGE).lower()[:2]
    return "en" if env == "en" else "fr"


@dataclass(frozen=True, slots=True)
class Text:
    """A message in French and English, with ``str.format`` placeholders."""

    fr: str
    en: str

    def render(self, language: str | None = None, /, **values: Any) -> str:
        lang = language or current_language()
        template = self.en if lang == "en" else self.fr
        return template.format(**values)

    def __call__(self, **values: Any) -> str:
        return self.render(None, **values)
