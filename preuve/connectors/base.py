"""What every connector is: a set of streams that turn one source into evidence.

A connector knows nothing of the store, the mapping or the web app. The sync
runner asks each stream for batches, starting from the stream's saved cursor,
and commits each batch together with the cursor it carries.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ValidationError

from preuve.config.settings import SourceConfig, describe_validation_error
from preuve.connectors.errors import PermanentError, SkippedItem
from preuve.evidence.identity import Pseudonymiser
from preuve.evidence.model import EvidenceData, EvidenceRecord, Provenance, Withdrawal
from preuve.i18n import Text

OptionsT = TypeVar("OptionsT", bound=BaseModel)

MSG_BAD_OPTIONS = Text(
    fr="options invalides pour la source {source} : {problems}",
    en="invalid options for source {source}: {problems}",
)


def validate_options(source: SourceConfig, model: type[OptionsT]) -> OptionsT:
    """A source's ``options`` as the connector's model; a bad key fails the sync, named."""
    try:
        return model.model_validate(source.options)
    except ValidationError as exc:
        problems = "; ".join(describe_validation_error(exc))
        raise PermanentError(
            MSG_BAD_OPTIONS(source=source.id, problems=problems), code="bad_options"
        ) from exc


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ConnectorContext:
    """What a connector is given: who it works for and how to name people."""

    tenant: str
    source: SourceConfig
    pseudonymiser: Pseudonymiser
    clock: Callable[[], datetime] = utcnow


@dataclass(slots=True)
class Batch:
    """Records to commit together; ``cursor`` is where the stream resumes after them.

    A batch without a cursor leaves the saved cursor as it is (a stream that
    only sets its cursor on its last batch restarts from the beginning when
    interrupted, which upsert makes harmless).
    """

    records: list[EvidenceRecord] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    cursor: str | None = None

    def __len__(self) -> int:
        return len(self.records) + len(self.withdrawals)


class Stream(abc.ABC):
    """One kind of data read from the source (courses, enrolments, statements...)."""

    name: ClassVar[str]

    @abc.abstractmethod
    def read(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield batches from ``cursor`` (None: from the beginning)."""


class CheckStatus(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class CheckItem:
    status: CheckStatus
    code: str
    message: str  # in the user's language
    hint: str | None = None  # what to do, e.g. the admin menu path

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.hint:
            data["hint"] = self.hint
        return data


@dataclass(slots=True)
class CheckReport:
    source: str
    kind: str
    items: list[CheckItem] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, status: CheckStatus, code: str, message: str, hint: str | None = None) -> None:
        self.items.append(CheckItem(status, code, message, hint))

    @property
    def ok(self) -> bool:
        return all(item.status != CheckStatus.ERROR for item in self.items)

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "ok": self.ok,
            "items": [item.as_json() for item in self.items],
            "details": self.details,
        }


class Connector(abc.ABC):
    """Base class: subclasses set ``kind`` and ``version`` and list their streams.

    Use as an async context manager: network resources (one aiohttp session per
    sync) are opened on enter and closed on exit.
    """

    kind: ClassVar[str]
    version: ClassVar[str]

    def __init__(self, context: ConnectorContext) -> None:
        self.context = context

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Open network sessions; the default has none."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Close what ``open`` opened."""

    @abc.abstractmethod
    def streams(self) -> Sequence[Stream]:
        """The streams, in the order they are synced."""

    @abc.abstractmethod
    async def check(self) -> CheckReport:
        """Tell the admin exactly what is missing for a sync to work."""

    def record(
        self,
        data: EvidenceData,
        *,
        source_id: str,
        effective_at: datetime | None = None,
        source_url: str | None = None,
    ) -> EvidenceRecord:
        """Wrap a payload with its provenance."""
        return EvidenceRecord(
            provenance=Provenance(
                tenant=self.context.tenant,
                source=self.context.source.id,
                source_id=source_id,
                effective_at=effective_at,
                fetched_at=self.context.clock(),
                connector=self.kind,
                connector_version=self.version,
                source_url=source_url,
            ),
            data=data,
        )
