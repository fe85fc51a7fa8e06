"""Stream cursors: where a pass over the courses stands, as a JSON string.

``since``: start of the last completed pass minus the safety overlap (None: never
completed, read everything). ``full_at``: start of the last full pass. While a pass
runs, each batch carries ``run`` (its start), ``after`` (last course id fully
read) and ``full``; the last batch of a pass moves ``since``. Courses skipped
during a pass are kept in ``retry`` and read again next time.

``seen`` (streams that withdraw deleted evidence): per course, the units
(activities, sessions, grade items...) and the user ids its last complete read
found. A later read of the course withdraws what the cross product of the two
could have produced and was not produced again. It grows with the site's
enrolments and activities, not with history: a deleted course leaves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class CursorState:
    since: int | None = None
    full_at: int | None = None
    run: int | None = None
    after: int | None = None
    full: bool = True
    retry: tuple[int, ...] = field(default_factory=tuple)
    seen: dict[int, Seen] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: str | None) -> CursorState:
        if not value:
            return cls()
        try:
            data = orjson.loads(value)
            return cls(
                since=data.get("since"),
                full_at=data.get("full_at"),
                run=data.get("run"),
                after=data.get("after"),
                full=bool(data.get("full", True)),
                retry=tuple(int(i) for i in data.get("retry", ())),
                seen=_seen(data.get("seen")),
            )
        except (orjson.JSONDecodeError, AttributeError, IndexError, TypeError, ValueError):
            return cls()  # an unreadable cursor means: read everything again

    def dump(self) -> str:
        return orjson.dumps(
            {
                "since": self.since,
                "full_at": self.full_at,
                "run": self.run,
                "after": self.after,
                "full": self.full,
                "retry": sorted(set(self.retry)),
                "seen": {
                    str(course): [sorted(s.units), sorted(s.users)]
                    for course, s in sorted(self.seen.items())
                },
            }
        ).decode()

    @property
    def resuming(self) -> bool:
        return self.run is not None

    def start(self, now: int, full_every: int) -> CursorState:
        """The state of a new pass starting at ``now`` (or the interrupted one)."""
        if self.resuming:
            return self
        full = (
            self.since is None
            or self.full_at is None
            or (full_every > 0 and now - self.full_at >= full_every)
        )
        return replace(self, run=now, after=None, full=full)

    def progress(self, after: int, retry: set[int], seen: dict[int, Seen]) -> CursorState:
        return replace(self, after=after, retry=tuple(sorted(retry)), seen=dict(seen))

    def finish(self, overlap: int, retry: set[int], seen: dict[int, Seen]) -> CursorState:
        run = self.run or 0
        return CursorState(
            since=max(run - overlap, 0),
            full_at=run if self.full else self.full_at,
            retry=tuple(sorted(retry)),
            seen=dict(seen),
        )


@dataclass(frozen=True, slots=True)
class Seen:
    """What one course's last complete read produced evidence for."""

    units: frozenset[str] = frozenset()
    users: frozenset[int] = frozenset()


def _seen(raw: Any) -> dict[int, Seen]:
    if not isinstance(raw, dict):
        return {}
    return {
        int(course): Seen(frozenset(str(u) for u in pair[0]), frozenset(int(u) for u in pair[1]))
        for course, pair in raw.items()
    }
