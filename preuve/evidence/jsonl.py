"""The JSON Lines import format (documented in docs/import-format.md).

One evidence record per line::

    {"source_id": "enr-42", "effective_at": "2026-03-02T09:00:00+01:00",
     "data": {"kind": "enrolment", "action_ref": "A1", "person_ref": "p_1"}}

The tenant, source, fetch time and connector come from the import itself.
A bad line is reported with its line number and the field at fault; the valid
lines are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from preuve.evidence.model import EvidenceData

MAX_LINE_BYTES = 1_000_000


class JsonlLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: str = Field(min_length=1, max_length=255)
    effective_at: datetime | None = None
    source_url: str | None = None
    data: EvidenceData


@dataclass(frozen=True, slots=True)
class JsonlProblem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}, ligne {self.line}, champ {self.field}: {self.message}"


def _field(loc: tuple[Any, ...]) -> str:
    parts = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif parts and not str(part).startswith("["):
            parts.append(f".{part}")
        else:
            parts.append(str(part))
    return "".join(parts) or "(ligne)"


def parse_line(raw: bytes, *, file: str, line: int) -> JsonlLine | JsonlProblem:
    if len(raw) > MAX_LINE_BYTES:
        return JsonlProblem(file, line, "(ligne)", f"ligne trop longue (> {MAX_LINE_BYTES} octets)")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return JsonlProblem(file, line, "(ligne)", f"JSON invalide: {exc}")
    if not isinstance(value, dict):
        return JsonlProblem(file, line, "(ligne)", "un objet JSON est attendu")
    try:
        return JsonlLine.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        # Drop the discriminator tag pydantic inserts in the location (e.g. 'enrolment').
        loc = tuple(
            p
            for p in first["loc"]
            if not (isinstance(p, str) and p == value.get("data", {}).get("kind"))
        )
        return JsonlProblem(file, line, _field(loc), first["msg"])


def read_jsonl(
    path: Path, *, after_line: int = 0
) -> Iterator[tuple[int, JsonlLine | JsonlProblem]]:
    """Stream (line number, parsed line) pairs; memory stays flat.

    Blank lines are ignored; lines up to ``after_line`` are skipped unparsed.
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number <= after_line:
                continue
            stripped = raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw
            stripped = stripped.strip()
            if not stripped:
                continue
            yield number, parse_line(stripped, file=path.name, line=number)
