"""LOM metadata (inline or external, 1.2 ``imsmd`` or 2004 IEEE LOM, or no namespace at all).

Everything is matched on lower-cased local names: Storyline 360 writes LOM
without a namespace, iSpring with a ``lom:`` prefix, Adapt in CDATA.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from preuve.connectors.scorm.constants import OBJECTIVE_PURPOSES, PREFERRED_LANGUAGES
from preuve.connectors.scorm.durations import DurationError, parse_duration
from preuve.connectors.scorm.xmlsafe import local

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True, slots=True)
class LomInfo:
    """What the course side of Qualiopi can use from LOM."""

    title: str | None = None
    description: str | None = None
    typical_learning_seconds: float | None = None
    typical_learning_text: str | None = None  # as written, when it was not a duration
    objectives: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    version: str | None = None

    def merged_with(self, other: LomInfo) -> LomInfo:
        """Fill the blanks of this LOM from another one (inline wins over external)."""
        return replace(
            self,
            title=self.title or other.title,
            description=self.description or other.description,
            typical_learning_seconds=self.typical_learning_seconds
            or other.typical_learning_seconds,
            typical_learning_text=self.typical_learning_text or other.typical_learning_text,
            objectives=_unique((*self.objectives, *other.objectives)),
            keywords=_unique((*self.keywords, *other.keywords)),
            version=self.version or other.version,
        )

    @property
    def empty(self) -> bool:
        return self == LomInfo()


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def children(element: Any, name: str) -> Iterator[Any]:
    for child in element:
        if local(child.tag) == name:
            yield child


def child(element: Any, *path: str) -> Any | None:
    current = element
    for name in path:
        current = next(children(current, name), None)
        if current is None:
            return None
    return current


def text_of(element: Any | None) -> str | None:
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return " ".join(text.split()) or None


def lang_string(element: Any | None) -> str | None:
    """The best string of a LOM text: French, then English, then the first non-empty."""
    if element is None:
        return None
    candidates: list[tuple[str, str]] = []
    for node in element:
        if local(node.tag) in {"langstring", "string"}:
            value = text_of(node)
            if value:
                language = (node.get("language") or node.get(_XML_LANG) or "").lower()
                candidates.append((language, value))
    if not candidates:
        return text_of(element)
    for wanted in PREFERRED_LANGUAGES:
        for language, value in candidates:
            if language.split("-")[0] == wanted:
                return value
    return candidates[0][1]


def _learning_time(educational: Any | None) -> tuple[float | None, str | None]:
    node = None
    if educational is not None:
        node = child(educational, "typicallearningtime")
    if node is None:
        return None, None
    raw = text_of(child(node, "duration")) or text_of(child(node, "datetime"))
    try:
        seconds = parse_duration(raw, free_text=True)
    except DurationError:
        return None, raw
    return seconds, (raw if seconds is None and raw and not raw.upper().startswith("P") else None)


def _objectives(lom: Any) -> tuple[str, ...]:
    found: list[str] = []
    for classification in children(lom, "classification"):
        purpose = child(classification, "purpose")
        value = lang_string(child(purpose, "value")) if purpose is not None else None
        if not value or value.strip().lower() not in OBJECTIVE_PURPOSES:
            continue
        description = lang_string(child(classification, "description"))
        if description:
            found.append(description)
        for keyword in children(classification, "keyword"):
            if text := lang_string(keyword):
                found.append(text)
        for taxon_path in children(classification, "taxonpath"):
            for taxon in children(taxon_path, "taxon"):
                if entry := lang_string(child(taxon, "entry")):
                    found.append(entry)
    return _unique(found)


def read_lom(lom: Any) -> LomInfo:
    """LOM fields from a ``lom`` element (any namespace)."""
    general = child(lom, "general")
    educational = child(lom, "educational")
    lifecycle = child(lom, "lifecycle")
    seconds, as_text = _learning_time(educational)
    keywords: list[str] = []
    if general is not None:
        for keyword in children(general, "keyword"):
            if value := lang_string(keyword):
                keywords.append(value)
    return LomInfo(
        title=lang_string(child(general, "title")) if general is not None else None,
        description=lang_string(child(general, "description")) if general is not None else None,
        typical_learning_seconds=seconds,
        typical_learning_text=as_text,
        objectives=_objectives(lom),
        keywords=_unique(keywords),
        version=lang_string(child(lifecycle, "version")) if lifecycle is not None else None,
    )


def find_lom(element: Any) -> Any | None:
    """The ``lom`` element at or under ``element`` (a metadata block or a whole file)."""
    if local(element.tag) == "lom":
        return element
    for node in element.iter():
        if local(node.tag) == "lom":
            return node
    return None
