"""Moodle's parameter encoding: PHP array syntax, form-urlencoded.

``{"courseids": [2, 3]}`` -> ``courseids[0]=2&courseids[1]=3``;
``{"options": [{"name": "onlyactive", "value": 1}]}`` ->
``options[0][name]=onlyactive&options[0][value]=1``. Booleans become "1"/"0".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Param = tuple[str, str]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if value is None:
        return ""
    return str(value)


def _flatten(prefix: str, value: Any, out: list[Param]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]", item, out)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for index, item in enumerate(value):
            _flatten(f"{prefix}[{index}]", item, out)
    else:
        out.append((prefix, _scalar(value)))


def encode_params(params: Mapping[str, Any]) -> list[Param]:
    """Flatten nested parameters into (key, value) pairs; empty lists are omitted."""
    out: list[Param] = []
    for name, value in params.items():
        _flatten(name, value, out)
    return out


def options_list(**options: Any) -> list[dict[str, str]]:
    """The ``options[i][name]/[value]`` list many core functions take."""
    return [{"name": name, "value": _scalar(value)} for name, value in options.items()]
