"""Which xAPI version to speak to an LRS, from what its ``/about`` offers.

``GET {endpoint}/about`` returns ``{"version": [...], "extensions": {...}}``:
the ``version`` array lists, for each major version the LRS conforms to, its
latest minor and patch version (1.0.3 section 2.8; ADL's LRS lists every 1.0.x
and 2.0.0). A client speaking 1.0.3 is understood by any 1.0.x LRS (an LRS must
accept every ``1.0.x`` header), so the choice is per major.minor:

- ``2.0.x`` offered: ``2.0.0``;
- else ``1.0`` or ``1.0.x`` offered: ``1.0.3``;
- else nothing we speak.
"""

from __future__ import annotations

import re
from typing import Any

from preuve.connectors.xapi.constants import SUPPORTED_PULL_VERSIONS

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def major_minor(value: str) -> tuple[int, int] | None:
    """``(1, 0)`` for ``1.0``, ``1.0.2``...; None for anything not a version."""
    found = _VERSION.fullmatch(value.strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


# What we send for each major.minor we speak, best first.
_OURS: tuple[tuple[tuple[int, int], str], ...] = tuple(
    sorted(
        ((major_minor(v) or (0, 0), v) for v in SUPPORTED_PULL_VERSIONS),
        reverse=True,
    )
)


def offered_versions(about: dict[str, Any]) -> list[str]:
    """The ``version`` strings of an /about document (a lone string is tolerated)."""
    value = about.get("version")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [item.strip() for item in value if isinstance(item, str) and item.strip()]


def choose_version(offered: list[str]) -> str | None:
    """The highest version both sides speak, as we send it; None when there is none."""
    theirs = {major_minor(v) for v in offered}
    for key, ours in _OURS:
        if key in theirs:
            return ours
    return None


def offers(offered: list[str], version: str) -> bool:
    """Does the LRS list ``version``'s major.minor (``1.0.3`` is understood by ``1.0.x``)?"""
    wanted = major_minor(version)
    return wanted is not None and any(major_minor(v) == wanted for v in offered)
