"""User-facing text, French first with English available.

Each module keeps its own messages as :class:`Text` constants next to the code
that uses them, so the catalogue never becomes a file everyone edits at once.

Templates use ``str.format`` placeholders, plus one extension for plurals: a
field whose format spec holds a ``|``, ``{n:singular|plural}``, renders one of
the two forms (not the number), chosen by the value of ``n``. Write the number
itself with a plain ``{n}`` beside it, and give every word that agrees with the
count its own choice::

    Text(
        fr="{n} {n:apprenant|apprenants} sur {total} {n:n'a|n'ont} pas de positionnement",
        en="{n} {n:learner|learners} out of {total} {n:has|have} no positioning",
    )

French takes the singular for 0 and 1 (any number below 2 in absolute value),
English only for 1: "0 apprenant", "0 learners". A value that is not a number
(``"?"`` for an unknown count) takes the plural. A form may be empty
(``{n:|s}``) and may hold plain placeholders (``{n:l'action|les {n} actions}``),
but neither a ``|`` nor another plural choice; a template breaking these rules
fails when the :class:`Text` is created, so at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from numbers import Real
from string import Formatter
from typing import Any, Literal

from preuve.constants import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

Language = Literal["fr", "en"]

_language: Language | None = None
_FORMATTER = Formatter()
# A template split into literal text and plural choices:
# a str is template text for ``str.format``, a tuple is (field, singular, plural).
_Part = str | tuple[str, str, str]


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


def is_singular(value: object, language: str) -> bool:
    """Whether ``value`` counts as one in ``language`` (French: 0 and 1, English: 1)."""
    if type(value) is int:  # the usual case, without the ABC checks below
        return value in (1, -1) if language == "en" else -2 < value < 2
    if not isinstance(value, Real | Decimal):
        return False
    number = abs(float(value))
    return number == 1 if language == "en" else number < 2


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


@lru_cache(maxsize=1024)
def _parse(template: str) -> tuple[_Part, ...]:
    """Split ``template`` around its plural choices; raise ValueError on a malformed one."""
    parts: list[_Part] = []
    text = ""
    for literal, field, spec, conversion in _FORMATTER.parse(template):
        text += _escape(literal)
        if field is None:
            continue
        if spec is None or "|" not in spec:
            text += "{" + field + (f"!{conversion}" if conversion else "")
            text += (f":{spec}" if spec else "") + "}"
            continue
        forms = spec.split("|")
        if len(forms) != 2 or conversion or any(f.count("{") != f.count("}") for f in forms):
            raise ValueError(
                f"plural choice {{{field}:{spec}}} in {template!r}: "
                "expected {field:singular|plural}, without a conversion or a nested choice"
            )
        if text:
            parts.append(text)
            text = ""
        parts.append((field, forms[0], forms[1]))
    if text:
        parts.append(text)
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class Text:
    """A message in French and English, with ``str.format`` placeholders.

    ``{n:singular|plural}`` picks a form by the value of ``n`` (module docstring).
    """

    fr: str
    en: str

    def __post_init__(self) -> None:
        _parse(self.fr)  # a malformed plural choice fails here, at import
        _parse(self.en)

    def render(self, language: str | None = None, /, **values: Any) -> str:
        lang = language or current_language()
        template = self.en if lang == "en" else self.fr
        return format_plural(template, lang, **values)

    def __call__(self, **values: Any) -> str:
        return self.render(None, **values)


def _field_value(field: str, values: dict[str, Any]) -> Any:
    if field in values:
        return values[field]
    value, _ = _FORMATTER.get_field(field, (), values)  # "a.b", "a[0]"; KeyError if absent
    return value


@lru_cache(maxsize=4096)
def _resolved(template: str, choices: tuple[bool, ...]) -> str:
    """``template`` with its plural choices replaced, ``choices[i]`` True for singular."""
    forms = iter(choices)
    return "".join(
        part if isinstance(part, str) else (part[1] if next(forms) else part[2])
        for part in _parse(template)
    )


def format_plural(template: str, language: str, /, **values: Any) -> str:
    """``template.format(**values)``, with each ``{n:singular|plural}`` resolved first."""
    parts = _parse(template)
    if len(parts) == 1 and isinstance(parts[0], str):
        return template.format(**values)  # no plural choice: plain str.format
    choices = tuple(
        is_singular(_field_value(part[0], values), language)
        for part in parts
        if not isinstance(part, str)
    )
    return _resolved(template, choices).format(**values)
