from __future__ import annotations

from preuve.store import Store
from tests.factories import enrolment


async def test_same_batch_twice_writes_nothing_new(store: Store) -> None:
    records = [enrolment(n) for n in range(50)]
    first = await store.evidence.write_batch("of-test", "src", records)
    second = await store.evidence.write_batch("of-test", "src", records)
    assert (first.inserted, first.unchanged) == (50, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 50)
    assert await store.evidence.count_by_kind("of-test") == {"enrolment": 50}
