"""Decode PHP-style form keys (``options[0][name]``) the way PHP builds ``$_POST``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class BadKey(ValueError):
    """A key PHP would not turn into the expected structure (e.g. ``a[]``)."""


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        keys = list(converted)
        if keys and all(k.isdigit() for k in keys):
            ordered = sorted(keys, key=int)
            if [int(k) for k in ordered] == list(range(len(ordered))):
                return [converted[k] for k in ordered]
        return converted
    return value


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise BadKey(key)
        parts = [match.group(1), *_PART.findall(match.group(2))]
        if any(p == "" for p in parts[1:]):
            raise BadKey(key)  # `name[]` does not match Moodle's descriptions
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise BadKey(key)
            node = child
        node[parts[-1]] = value
    return {k: _listify(v) for k, v in root.items()}
