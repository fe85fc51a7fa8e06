"""A stream that reads the site course by course, with resumable cursors.

Courses are read a few at a time (bounded by the client's concurrency) and in
id order, so a batch's cursor (``after`` = last course fully read) never covers
a course that was not read. A course Moodle refuses is skipped, reported, and
retried on the next pass.

Deletions: a stream that implements :meth:`CourseStream.keys` tags what it
emits with a unit (activity, session, grade item...) and a user. The cursor
keeps, per course, the units and users of the last complete read; the next
read of the course withdraws every key the old units x users could name that
was not emitted again (a learner unenrolled, an activity or a grade deleted).
A course that leaves the course list has all its tracked keys withdrawn. A read
with a skipped item other than a bad value (an error, a Moodle warning) withdraws
nothing and keeps the old state with the new, so an error never passes for a
deletion. The connector never reads the store;
withdrawing a key the store never held is a no-op there.

Members and hidden users: a learner who left the course (no longer among its
members) has their keys withdrawn with a reason that says so. Some functions
list only *active* enrolments (the grade report, ``core_enrol_get_users_courses``):
a member they leave out (suspended or expired enrolment) is ``hidden``, and their
earlier keys are kept, not withdrawn, for every unit still there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationError

from preuve.connectors.base import Batch, Stream, utcnow
from preuve.connectors.errors import SkipItem, SkippedItem
from preuve.connectors.moodle.concurrency import ordered_map
from preuve.connectors.moodle.cursor import CursorState, Seen
from preuve.connectors.moodle.errors import warnings_of
from preuve.connectors.moodle.site import CourseInfo, MoodleSite
from preuve.evidence.model import EvidenceData, EvidenceRecord, Withdrawal
from preuve.i18n import Text

if TYPE_CHECKING:
    from preuve.connectors.moodle.connector import MoodleConnector

MSG_FUNCTION_MISSING = Text(
    fr="flux {stream} ignoré : {n:fonction|fonctions} {functions} {n:absente|absentes} "
    "du service externe",
    en="stream {stream} skipped: {n:function|functions} {functions} missing from the "
    "external service",
)
MSG_INVALID = Text(fr="donnée invalide : {error}", en="invalid data: {error}")
MSG_GONE = Text(
    fr="n'existe plus dans Moodle (cours {course})",
    en="no longer in Moodle (course {course})",
)
MSG_LEFT = Text(
    fr="la personne n'est plus inscrite au cours {course} dans Moodle (historique conservé)",
    en="the person is no longer enrolled in course {course} in Moodle (history kept)",
)
MSG_EMPTY_LIST = Text(
    fr="Moodle ne renvoie aucun cours : aucun retrait appliqué par prudence",
    en="Moodle returned no course: nothing withdrawn, as a precaution",
)

MSG_WARNING = Text(
    fr="Moodle signale une partie illisible ({code}) : {message}",
    en="Moodle reports an unreadable part ({code}): {message}",
)
MAX_MESSAGE = 300  # Moodle's own (English) text, cut: it is for the admin only

# Skipped items about a value Moodle did send (the record is left out or kept without
# it): the read is still complete. Any other skipped item means Moodle left something
# out, and then nothing is withdrawn.
VALUE_PROBLEMS = frozenset({"invalid_record", "unknown_status", "invalid_value"})

Keys = tuple[tuple[str, str], ...]  # (evidence kind, source_id)


def validated(
    stream: str, item: str, build: type[EvidenceData], data: dict[str, object]
) -> EvidenceData | SkippedItem:
    """The payload, or the skipped item naming the field (never its value)."""
    try:
        return build.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return SkippedItem(
            stream=stream,
            item=item,
            reason=MSG_INVALID(error=f"{where}: {first['msg']}"),
            code="invalid_record",
        )


@dataclass
class CourseOutput:
    """What reading one course gave: records and the items left out."""

    records: list[EvidenceRecord] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    fetched_at: datetime = field(default_factory=utcnow)  # one clock read per course
    units: set[str] = field(default_factory=set)
    users: set[int] = field(default_factory=set)
    emitted: set[tuple[str, str]] = field(default_factory=set)
    # The course's members (user ids, any status) when the stream read them: a tracked
    # user not among them left the course, and the withdrawal reason says so.
    members: set[int] | None = None
    # Members the answer left out although still enrolled (Moodle lists only active
    # enrolments there): their earlier keys are kept for every unit still present.
    hidden: set[int] = field(default_factory=set)


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
        unit: str | None = None,
        user: int | None = None,
        **data: object,
    ) -> None:
        """Build one record; invalid data is skipped and reported, the rest goes on.

        ``unit`` / ``user`` tag the record for deletion tracking (see :meth:`keys`).
        """
        if unit is not None:
            out.units.add(unit)
            if user:
                out.users.add(user)
        payload = validated(self.name, item, build, data)
        if isinstance(payload, SkippedItem):
            out.skipped.append(payload)
            return
        out.emitted.add((payload.kind, source_id))
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

    async def fetch(
        self, out: CourseOutput, function: str, params: Mapping[str, Any], item: str
    ) -> Any:
        """Call ``function``; each of the answer's ``warnings`` (a part Moodle left
        out, e.g. one activity not accessible) is reported as a skipped item."""
        raw = await self.site.client.call(function, params, item=item)
        for warning in warnings_of(raw):
            code = str(warning.get("warningcode") or "warning")
            message = str(warning.get("message") or "")[:MAX_MESSAGE]
            out.skipped.append(
                self.skipped(item, MSG_WARNING(code=code, message=message), "moodle_warning")
            )
        return raw

    def required_functions(self) -> tuple[str, ...]:
        """The functions the stream cannot run without (with the configured options)."""
        return self.functions

    async def read_course(self, course: CourseInfo) -> CourseOutput:
        raise NotImplementedError

    def keys(self, course_id: int, unit: str, user: int) -> Keys:
        """The keys a (unit, user) pair may have produced (user 0: the unit's own).

        The default tracks nothing: the stream never withdraws.
        """
        return ()

    def _gone(
        self,
        course_id: int,
        seen: Seen,
        kept: set[tuple[str, str]],
        members: set[int] | None = None,
    ) -> list[Withdrawal]:
        at = self.connector.context.clock()
        gone = MSG_GONE(course=course_id)
        left = MSG_LEFT(course=course_id)
        found: dict[tuple[str, str], str] = {}
        for unit in sorted(seen.units):
            for user in (0, *sorted(seen.users)):
                reason = left if user and members is not None and user not in members else gone
                for key in self.keys(course_id, unit, user):
                    if key not in kept:
                        found.setdefault(key, reason)
        return [
            Withdrawal(kind=k, source_id=s, reason=reason, at=at)
            for (k, s), reason in found.items()
        ]

    def _track(self, course_id: int, out: CourseOutput, seen: dict[int, Seen]) -> list[Withdrawal]:
        """Update ``seen`` for a course just read; what disappeared since the last read."""
        old = seen.get(course_id, Seen())
        new = Seen(frozenset(out.units), frozenset(out.users))
        if any(s.code not in VALUE_PROBLEMS for s in out.skipped):
            # Partial read: keep both, withdraw nothing.
            new = Seen(old.units | new.units, old.users | new.users)
            gone: list[Withdrawal] = []
        else:
            kept = set(out.emitted)
            hidden = out.hidden & old.users
            if hidden:
                # Still enrolled, left out by Moodle's answer: their keys stay for the units
                # still there (all the old ones when the answer showed no unit at all).
                standing = old.units & new.units if new.units else old.units
                kept.update(
                    key
                    for unit in standing
                    for user in hidden
                    for key in self.keys(course_id, unit, user)
                )
                new = Seen(new.units | standing, new.users | hidden)
            gone = self._gone(course_id, old, kept, out.members)
        if new.units:
            seen[course_id] = new
        else:
            seen.pop(course_id, None)
        return gone

    async def _deleted_courses(self, seen: dict[int, Seen], batch: Batch) -> None:
        """Withdraw what courses no longer listed by Moodle had produced."""
        if not seen:
            return
        listed = {c.id for c in await self.site.courses()}
        if not listed:
            batch.skipped.append(self.skipped("cours", MSG_EMPTY_LIST(), "empty_course_list"))
            return
        for course_id in sorted(set(seen) - listed):
            batch.withdrawals.extend(self._gone(course_id, seen.pop(course_id), set()))

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
        missing = [f for f in self.required_functions() if not info.has(f)]
        if missing:
            yield Batch(
                skipped=[
                    self.skipped(
                        ", ".join(missing),
                        MSG_FUNCTION_MISSING(
                            stream=self.name, functions=", ".join(missing), n=len(missing)
                        ),
                        "function_not_in_service",
                    )
                ]
            )
            return
        parsed = CursorState.parse(cursor)
        # A resumed pass keeps the courses it already had to retry.
        retry: set[int] = set(parsed.retry) if parsed.resuming else set()
        state = parsed.start(self.site.now(), options.full_resync_days * 86400)
        seen = dict(state.seen)
        courses, refused = await self.site.select(state, live=self.live)
        batch = Batch()
        await self._deleted_courses(seen, batch)
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
                batch.withdrawals.extend(self._track(course.id, result, seen))
            if len(batch) >= options.batch_size:
                batch.cursor = state.progress(course.id, retry, seen).dump()
                yield batch
                batch = Batch()
        batch.cursor = state.finish(options.overlap_seconds, retry, seen).dump()
        yield batch
