"""One read-only tree over XML and JSON, keyed by lower-case local names.

Europass documents exist as XML (v2 lower-case elements, v3 CamelCase, several
namespaces) and as JSON (same nesting, no ``List`` wrappers, dates as objects).
Reading both through one tree with case-insensitive local names lets a single
extractor serve every generation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from preuve.connectors.cv.constants import MAX_TREE_DEPTH
from preuve.connectors.cv.document import CvFormatError
from preuve.i18n import Text

MSG_TOO_DEEP = Text(
    fr="document imbriqué sur plus de {limit} niveaux : ce n'est pas un CV",
    en="document nested more than {limit} levels deep: not a CV",
)


@dataclass(slots=True)
class Node:
    text: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    children: dict[str, list[Node]] = field(default_factory=dict)

    def all(self, *path: str) -> list[Node]:
        """Every node at ``path`` (names compared in lower case)."""
        nodes = [self]
        for name in path:
            key = name.lower()
            nodes = [child for node in nodes for child in node.children.get(key, ())]
        return nodes

    def first(self, *path: str) -> Node | None:
        found = self.all(*path)
        return found[0] if found else None

    def value(self, *path: str) -> str | None:
        """The stripped text at ``path``, or the attribute named by its last step."""
        if path:
            *parents, last = path
            holders = self.all(*parents) if parents else [self]
            for holder in holders:
                attr = holder.attrs.get(last.lower())
                if attr and attr.strip():
                    return attr.strip()
        node = self.first(*path) if path else self
        if node is None or node.text is None:
            return None
        text = node.text.strip()
        return text or None

    def items(self, name: str) -> list[Node]:
        """List items whether wrapped (``EducationList/Education``) or not."""
        return self.all(name + "list", name) + self.all(name)


def from_xml(element: etree._Element) -> Node:
    node = Node(
        text=element.text,
        attrs={
            etree.QName(k).localname.lower(): v if isinstance(v, str) else v.decode()
            for k, v in element.attrib.items()
        },
    )
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        name = etree.QName(child).localname.lower()
        node.children.setdefault(name, []).append(from_xml(child))
    return node


def from_json(value: Any, *, depth: int = 0) -> Node:
    """A JSON value as a tree; a document nested deeper than any CV is refused."""
    if depth > MAX_TREE_DEPTH:
        raise CvFormatError(MSG_TOO_DEEP(limit=MAX_TREE_DEPTH), code="invalid_json")
    if isinstance(value, Mapping):
        node = Node()
        for key, item in value.items():
            name = str(key).lower()
            values = item if isinstance(item, list) else [item]
            node.children.setdefault(name, []).extend(from_json(v, depth=depth + 1) for v in values)
        return node
    if value is None or isinstance(value, (list, tuple)):
        return Node()
    if isinstance(value, bool):
        return Node(text="true" if value else "false")
    return Node(text=str(value))
