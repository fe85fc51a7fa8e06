"""The Qualiopi referential as versioned data files.

Each file in ``referentials/`` is one version (criteria and indicators with their
applicability, new-entrant handling and non-conformity weighting). A new version
is added by dropping a file there, or in the folder the configuration names
(``[mapping] referential_dir``), whose files are loaded in addition; a malformed
file is refused at load with an error naming the entry and the field at fault.
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
Condition = Literal[
    "certifying", "work_study", "work_based_periods", "over_two_days", "tenant_subcontracting"
]


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
    # True when no source states the weighting and minor_nc_possible is deduced
    # (e.g. from a list that does not name the indicator): only on provisional data.
    minor_nc_inferred: bool = False
    provisional: bool = False
    applicability_note_en: str | None = None
    change_note_en: str | None = None

    @model_validator(mode="after")
    def _conditions_used(self) -> Indicator:
        values = self.applies_to.model_dump().values()
        if any(v == "if_conditions" for v in values) and not self.conditions:
            raise ValueError("applies_to uses 'if_conditions' but no conditions are given")
        if self.conditions and not any(v in ("if_conditions", "disputed") for v in values):
            raise ValueError(
                "conditions are given but no applies_to cell is 'if_conditions' or 'disputed'"
            )
        if len(set(self.conditions)) != len(self.conditions):
            raise ValueError("a condition is listed twice")
        if self.minor_nc_inferred and not self.provisional:
            raise ValueError("minor_nc_inferred is only allowed on a provisional indicator")
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


def load_referentials(
    directory: Path = REFERENTIALS_DIR, extra: Path | None = None
) -> dict[str, Referential]:
    """Every version found in the directory, and in ``extra`` when given, by version id.

    The files of ``extra`` are loaded in addition: a version or an ``in_force_from``
    already declared (in either folder) is refused, so is an empty folder.
    """
    found: dict[str, Referential] = {}
    origin: dict[str, str] = {}
    for folder in (directory,) if extra is None else (directory, extra):
        paths = sorted(folder.glob("*.json"))
        if not paths:
            raise ReferentialError(f"no referential file in {folder}")
        for path in paths:
            referential = load_referential_file(path)
            if referential.version in found:
                raise ReferentialError(
                    f"{path.name}: version {referential.version!r} is declared twice "
                    f"(also in {origin[referential.version]})"
                )
            same_day = [
                r.version for r in found.values() if r.in_force_from == referential.in_force_from
            ]
            if same_day:  # the audit date could not choose between them
                raise ReferentialError(
                    f"{path.name}: in_force_from {referential.in_force_from} is also that of "
                    f"{same_day[0]!r} ({origin[same_day[0]]})"
                )
            found[referential.version] = referential
            origin[referential.version] = str(path)
    return found


@cache
def shipped_referentials() -> dict[str, Referential]:
    """The versions shipped with Preuve (``referentials/`` in the package)."""
    return load_referentials(REFERENTIALS_DIR)


# The versions of this instance when the configuration names a referential_dir.
_CONFIGURED: dict[str, dict[str, Referential]] = {}


def use_referential_dir(directory: Path | None) -> dict[str, Referential]:
    """Load ``directory``'s files in addition to the shipped ones for this process.

    Called when the configuration is loaded (``[mapping] referential_dir``); None
    goes back to the shipped versions only. Raises :class:`ReferentialError` (and
    keeps the previous choice) when a file is refused.
    """
    if directory is None:
        _CONFIGURED.clear()
        return shipped_referentials()
    found = load_referentials(REFERENTIALS_DIR, directory)
    _CONFIGURED["available"] = found
    return found


def available_referentials() -> dict[str, Referential]:
    """The versions this instance can use: shipped plus the configured folder's."""
    return _CONFIGURED.get("available") or shipped_referentials()


def select_referential(
    audit_date: date,
    pinned: str | None = None,
    referentials: dict[str, Referential] | None = None,
) -> Referential:
    """The version in force on the audit date, unless the configuration pins one."""
    available = referentials if referentials is not None else available_referentials()
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
