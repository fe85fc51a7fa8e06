"""The Qualiopi referential as versioned data files.

Each file in ``referentials/`` is one version (criteria and indicators with their
applicability, new-entrant handling and non-conformity weighting). A new version
is added by dropping a file there; a malformed file is refused at load with an
error naming the entry and the field at fault.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from preuve.evidence.model import ActionCategory

REFERENTIALS_DIR = Path(__file__).with_name("referentials")

Applicability = Literal["yes", "no", "if_conditions", "disputed"]
Condition = Literal["certifying", "work_study", "over_two_days", "tenant_subcontracting"]


class ReferentialError(Exception):
    """A referential file that cannot be used, or an unknown version."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Criterion(_Strict):
    number: int = Field(ge=1, le=20)
    title_fr: str = Field(min_length=1)
    title_en: str = Field(min_length=1)


class AppliesTo(_Strict):
    training: Applicability
    skills_assessment: Applicability
    vae: Applicability
    apprenticeship: Applicability

    def for_category(self, category: ActionCategory) -> Applicability:
        # StrEnum members are str: no need for the (slow) .value lookup.
        value: Applicability = getattr(self, str.__str__(category))
        return value


class Indicator(_Strict):
    number: int = Field(ge=1, le=99)
    criterion: int
    title_fr: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    short_title_fr: str = Field(min_length=1)
    short_title_en: str = Field(min_length=1)
    applies_to: AppliesTo
    conditions: tuple[Condition, ...] = ()
    not_when_subcontracted: bool = False
    new_entrant_process_only: bool = False
    minor_nc_possible: bool
    provisional: bool = False
    applicability_note_en: str | None = None
    change_note_en: str | None = None

    @model_validator(mode="after")
    def _conditions_used(self) -> Indicator:
        values = self.applies_to.model_dump().values()
        if any(v == "if_conditions" for v in values) and not self.conditions:
            raise ValueError("applies_to uses 'if_conditions' but no conditions are given")
        return self


class Referential(_Strict):
    version: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,40}$")
    title_fr: str
    title_en: str
    in_force_from: date
    provisional: bool = False
    sources: tuple[str, ...] = ()
    criteria: tuple[Criterion, ...]
    indicators: tuple[Indicator, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Referential:
        criteria = {c.number for c in self.criteria}
        if len(criteria) != len(self.criteria):
            numbers = [c.number for c in self.criteria]
            twice = sorted({n for n in numbers if numbers.count(n) > 1})
            raise ValueError(f"criteria: number(s) {twice} used twice")
        seen: set[int] = set()
        for position, indicator in enumerate(self.indicators):
            where = f"indicators[{position}] (indicateur {indicator.number})"
            if indicator.number in seen:
                raise ValueError(f"{where}: number {indicator.number} is used twice")
            if indicator.criterion not in criteria:
                raise ValueError(f"{where}: criterion {indicator.criterion} is not declared")
            seen.add(indicator.number)
        return self

    def indicator(self, number: int) -> Indicator:
        for indicator in self.indicators:
            if indicator.number == number:
                return indicator
        raise KeyError(number)

    def criterion(self, number: int) -> Criterion:
        for criterion in self.criteria:
            if criterion.number == number:
                return criterion
        raise KeyError(number)

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(i.number for i in self.indicators)


def _describe(error: ValidationError, raw: object) -> str:
    """Name the entry at fault: the indicator number, not only its list position."""
    lines = []
    for item in error.errors():
        loc = list(item["loc"])
        label = ".".join(str(p) for p in loc)
        message = item["msg"].removeprefix("Value error, ")
        if len(loc) >= 2 and loc[0] == "indicators" and isinstance(loc[1], int):
            entries = raw.get("indicators") if isinstance(raw, dict) else None
            number = None
            if isinstance(entries, list) and loc[1] < len(entries):
                entry = entries[loc[1]]
                number = entry.get("number") if isinstance(entry, dict) else None
            field = ".".join(str(p) for p in loc[2:]) or "(entry)"
            label = f"indicators[{loc[1]}] (indicateur {number}) field {field}"
        lines.append(f"{label}: {message}" if label else message)
    return "; ".join(lines)


def load_referential_file(path: Path) -> Referential:
    """Load and validate one referential file; raise naming the file and entry."""
    try:
        raw = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ReferentialError(f"{path.name}: invalid JSON: {exc}") from exc
    try:
        return Referential.model_validate(raw)
    except ValidationError as exc:
        raise ReferentialError(f"{path.name}: {_describe(exc, raw)}") from exc


def load_referentials(directory: Path = REFERENTIALS_DIR) -> dict[str, Referential]:
    """Every version found in the directory, by version id."""
    found: dict[str, Referential] = {}
    for path in sorted(directory.glob("*.json")):
        referential = load_referential_file(path)
        if referential.version in found:
            raise ReferentialError(
                f"{path.name}: version {referential.version!r} is declared twice"
            )
        same_day = [
            r.version for r in found.values() if r.in_force_from == referential.in_force_from
        ]
        if same_day:  # the audit date could not choose between them
            raise ReferentialError(
                f"{path.name}: in_force_from {referential.in_force_from} is also that of "
                f"{same_day[0]!r}"
            )
        found[referential.version] = referential
    if not found:
        raise ReferentialError(f"no referential file in {directory}")
    return found


@cache
def shipped_referentials() -> dict[str, Referential]:
    return load_referentials(REFERENTIALS_DIR)


def select_referential(
    audit_date: date,
    pinned: str | None = None,
    referentials: dict[str, Referential] | None = None,
) -> Referential:
    """The version in force on the audit date, unless the configuration pins one."""
    available = referentials if referentials is not None else shipped_referentials()
    if pinned is not None:
        try:
            return available[pinned]
        except KeyError:
            known = ", ".join(sorted(available))
            raise ReferentialError(
                f"referential_version {pinned!r} is unknown (known: {known})"
            ) from None
    ordered = sorted(available.values(), key=lambda r: r.in_force_from)
    chosen = ordered[0]
    for referential in ordered:
        if referential.in_force_from <= audit_date:
            chosen = referential
    return chosen
