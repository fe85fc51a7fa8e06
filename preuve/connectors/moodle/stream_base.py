"""A stream that reads the site course by course, with resumable cursors.

Courses are read a few at a time (bounded by the client's concurrency) and in
id order, so a batch's cursor (``after`` = last course fully read) never covers
a course that was not read. A course Moodle refuses is skipped, reported, and
retried on the next pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from pydantic import ValidationError

from preuve.connectors.base import Batch, Stream, utcnow
from preuve.connectors.errors import SkipItem, SkippedItem
from preuve.connectors.moodle.concurrency import ordered_map
from preuve.connectors.moodle.cursor import CursorState
from preuve.connectors.moodle.site import CourseInfo, MoodleSite
from preuve.evidence.model import EvidenceData, EvidenceRecord
from preuve.i18n import Text

if TYPE_CHECKING:
    from preuve.connectors.moodle.connector import MoodleConnector

MSG_FUNCTION_MISSING = Text(
    fr="flux {stream} ignoré : fonction(s) {functions} absente(s) du service externe",
    en="stream {stream} skipped: function(s) {functions} missing from the external service",
)
MSG_INVALID = Text(fr="donnée invalide : {error}", en="invalid data: {error}")


@dataclass
class CourseOutput:
    """What reading one course gave: records and the items left out."""

    records: list[EvidenceRecord] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    fetched_at: datetime = field(default_factory=utcnow)  # one clock read per course


class CourseStream(Stream):
    """Subclasses set ``name``, ``functions`` and implement ``read_course``."""

    functions: ClassVar[tuple[str, ...]] = ()
    live: ClassVar[bool] = False  # also re-read running courses (not seen by updates_since)

    def __init__(self, connector: MoodleConnector) -> None:
        self.connector = connector

    @property
    def site(self) -> MoodleSite:
        return self.connector.site

    def emit(
        self,
        out: CourseOutput,
        item: str,
        build: type[EvidenceData],
        *,
        source_id: str,
        effective_at: datetime | None = None,
        source_url: str | None = None,
        **data: object,
    ) -> None:
        """Build one record; invalid data is skipped and reported, the rest goes on."""
        try:
            payload = build.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            out.skipped.append(
                SkippedItem(
                    stream=self.name,
                    item=item,
                    reason=MSG_INVALID(error=f"{where}: {first['msg']}"),
                    code="invalid_record",
                )
            )
            return
        out.records.append(
            self.connector.record(
                payload,
                source_id=source_id,
                effective_at=effective_at,
                source_url=source_url,
                fetched_at=out.fetched_at,
            )
        )

    def output(self) -> CourseOutput:
        """An empty output stamped with the connector's clock (the fetch time)."""
        return CourseOutput(fetched_at=self.connector.context.clock())

    def skipped(self, item: str, reason: str, code: str) -> SkippedItem:
        return SkippedItem(stream=self.name, item=item, reason=reason, code=code)

    async def read_course(self, course: CourseInfo) -> CourseOutput:
        raise NotImplementedError

    async def _prefetched(
        self, courses: list[CourseInfo]
    ) -> AsyncIterator[tuple[CourseInfo, CourseOutput | SkipItem]]:
        """Courses read in the background while the caller writes the previous batch.

        The queue bounds what is held in memory to a few courses' records.
        """
        limit = self.connector.options.concurrency * 2
        queue: asyncio.Queue[tuple[CourseInfo, CourseOutput | SkipItem] | None] = asyncio.Queue(
            maxsize=limit
        )

        async def produce() -> None:
            async for item in ordered_map(courses, self.read_course, limit):
                await queue.put(item)
            await queue.put(None)

        producer = asyncio.ensure_future(produce())
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, producer}, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done and producer.exception() is not None:
                    getter.cancel()
                    producer.result()  # raises the producer's error
                item = await getter
                if item is None:
                    return
                yield item
        finally:
            producer.cancel()
            await asyncio.gather(producer, return_exceptions=True)

    async def read(self, cursor: str | None) -> AsyncIterator[Batch]:
        options = self.connector.options
        info = await self.site.info()
        missing = [f for f in self.functions if not info.has(f)]
        if missing:
            yield Batch(
                skipped=[
                    self.skipped(
                        ", ".join(missing),
                        MSG_FUNCTION_MISSING(stream=self.name, functions=", ".join(missing)),
                        "function_not_in_service",
                    )
                ]
            )
            return
        parsed = CursorState.parse(cursor)
        # A resumed pass keeps the courses it already had to retry.
        retry: set[int] = set(parsed.retry) if parsed.resuming else set()
        state = parsed.start(self.site.now(), options.full_resync_days * 86400)
        courses, refused = await self.site.select(state, live=self.live)
        batch = Batch()
        for course, error in refused:
            batch.skipped.append(self.skipped(f"cours {course.id}", error.message, error.code))
            retry.add(course.id)
        async for course, result in self._prefetched(courses):
            if isinstance(result, SkipItem):
                where = f"cours {course.id}"
                batch.skipped.append(self.skipped(where, result.message, result.code))
                retry.add(course.id)
            else:
                retry.discard(course.id)
                batch.records.extend(result.records)
                batch.skipped.extend(result.skipped)
            if len(batch.records) >= options.batch_size:
                batch.cursor = state.progress(course.id, retry).dump()
                yield batch
                batch = Batch()
        batch.cursor = state.finish(options.overlap_seconds, retry).dump()
        yield batch
