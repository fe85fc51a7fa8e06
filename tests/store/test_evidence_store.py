"""The store: idempotent upsert, revisions, withdrawals, atomic batches and cursors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from preuve.evidence.model import Withdrawal
from preuve.store import Store, StoreError
from tests.factories import FETCHED, enrolment, record

TENANT = "of-test"


async def test_changed_record_keeps_its_earlier_revision(store: Store) -> None:
    await store.evidence.write_batch(TENANT, "src", [enrolment(1)])
    later = FETCHED + timedelta(days=1)
    changed = enrolment(1, status="dropped_out", fetched_at=later)
    result = await store.evidence.write_batch(TENANT, "src", [changed])
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 0)

    history = await store.evidence.history(TENANT, "src", "enrolment", "enr-1")
    assert [r.revision for r in history] == [1, 2]
    assert history[0].payload["status"] == "active"
    assert history[0].superseded_at is not None
    assert history[1].payload["status"] == "dropped_out"
    assert history[1].fetched_at == later
    assert history[0].content_hash != history[1].content_hash


async def test_refetching_unchanged_data_only_differs_in_fetch_time(store: Store) -> None:
    await store.evidence.write_batch(TENANT, "src", [enrolment(1)])
    again = enrolment(1, fetched_at=FETCHED + timedelta(days=3), version="2")
    result = await store.evidence.write_batch(TENANT, "src", [again])
    assert result.unchanged == 1
    assert len(await store.evidence.history(TENANT, "src", "enrolment", "enr-1")) == 1


async def test_withdrawal_hides_the_record_and_keeps_history(store: Store) -> None:
    await store.evidence.write_batch(TENANT, "src", [enrolment(1), enrolment(2)])
    voided = Withdrawal(kind="enrolment", source_id="enr-1", reason="voided", at=FETCHED)
    result = await store.evidence.write_batch(TENANT, "src", [], [voided])
    assert result.withdrawn == 1
    assert await store.evidence.count_by_kind(TENANT) == {"enrolment": 1}
    assert await store.evidence.count_by_kind(TENANT, include_withdrawn=True) == {"enrolment": 2}
    history = await store.evidence.history(TENANT, "src", "enrolment", "enr-1")
    assert [(r.revision, r.withdrawn) for r in history] == [(1, False), (2, True)]
    # Withdrawing again, or withdrawing an unknown record, changes nothing.
    unknown = Withdrawal(kind="enrolment", source_id="nope", reason="voided", at=FETCHED)
    again = await store.evidence.write_batch(TENANT, "src", [], [voided, unknown])
    assert again.withdrawn == 0
    # The same record sent again comes back as a new revision.
    back = await store.evidence.write_batch(TENANT, "src", [enrolment(1)])
    assert back.updated == 1
    assert await store.evidence.count_by_kind(TENANT) == {"enrolment": 2}


async def test_a_failing_batch_writes_nothing_and_keeps_the_cursor(store: Store) -> None:
    await store.evidence.write_batch(TENANT, "src", [enrolment(0)], cursor=("s", "c1"))

    def exploding_withdrawals() -> Iterator[Withdrawal]:
        # Raised after the batch's inserts ran inside the transaction.
        raise RuntimeError("injected failure")
        yield  # pragma: no cover

    with pytest.raises(RuntimeError, match="injected"):
        await store.evidence.write_batch(
            TENANT,
            "src",
            [enrolment(n) for n in range(1, 20)],
            exploding_withdrawals(),
            cursor=("s", "c2"),
        )
    assert await store.evidence.count_by_kind(TENANT) == {"enrolment": 1}
    assert await store.evidence.get_cursor(TENANT, "src", "s") == "c1"


async def test_cursor_is_committed_with_its_batch(store: Store) -> None:
    await store.evidence.write_batch(TENANT, "src", [enrolment(1)], cursor=("enrolments", "p1"))
    await store.evidence.write_batch(TENANT, "src", [enrolment(2)], cursor=("enrolments", "p2"))
    assert await store.evidence.cursors(TENANT, "src") == {"enrolments": "p2"}
    await store.evidence.reset_cursors(TENANT, "src")
    assert await store.evidence.cursors(TENANT, "src") == {}


async def test_records_of_another_tenant_are_refused_whole(store: Store) -> None:
    with pytest.raises(StoreError, match="other/src"):
        await store.evidence.write_batch(
            TENANT, "src", [enrolment(1), enrolment(2, tenant="other")]
        )
    assert await store.evidence.count_by_kind(TENANT) == {}


async def test_last_record_of_a_batch_wins(store: Store) -> None:
    result = await store.evidence.write_batch(
        TENANT, "src", [enrolment(1), enrolment(1, status="completed")]
    )
    assert result.inserted == 1
    stored = await store.evidence.get(TENANT, "src", "enrolment", "enr-1")
    assert stored is not None
    assert stored.payload["status"] == "completed"


async def test_iteration_streams_in_id_order_with_filters(store: Store) -> None:
    records = [enrolment(n, action="A" if n % 2 else "B") for n in range(25)]
    await store.evidence.write_batch(TENANT, "src", records)
    rows = [r async for r in store.evidence.iter_evidence(TENANT, action_ref="A", chunk_size=4)]
    assert [r.source_id for r in rows] == [f"enr-{n}" for n in range(1, 25, 2)]
    assert all(r.person_ref and r.action_ref == "A" for r in rows)


async def test_dates_come_back_aware_and_equal(store: Store) -> None:
    when = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    await store.evidence.write_batch(TENANT, "src", [enrolment(1, effective_at=when)])
    stored = await store.evidence.get(TENANT, "src", "enrolment", "enr-1")
    assert stored is not None
    assert stored.effective_at == when
    assert stored.fetched_at == FETCHED


async def test_erasing_a_person_removes_records_and_history(store: Store) -> None:
    await store.evidence.write_batch(TENANT, "src", [enrolment(1), enrolment(2)])
    await store.evidence.write_batch(TENANT, "src", [enrolment(1, status="completed")])
    assert await store.evidence.delete_person(TENANT, "p_1") == 1
    assert await store.evidence.get(TENANT, "src", "enrolment", "enr-1") is None
    assert await store.evidence.history(TENANT, "src", "enrolment", "enr-1") == []
    assert await store.evidence.count_by_kind(TENANT) == {"enrolment": 1}


async def test_run_log_records_progress_and_end(store: Store) -> None:
    run_id = await store.runs.start(TENANT, "src", trigger="manual", worker="w1")
    await store.runs.progress(run_id, {"records": {"inserted": 10}})
    running = await store.runs.get(run_id)
    assert running is not None
    assert running.status.value == "running"
    assert running.counts == {"records": {"inserted": 10}}
    from preuve.store import RunStatus

    await store.runs.finish(
        run_id, RunStatus.FAILED, {"records": {"inserted": 12}}, [{"code": "x"}]
    )
    done = await store.runs.get(run_id)
    assert done is not None
    assert done.status is RunStatus.FAILED
    assert done.finished_at is not None
    assert done.errors == [{"code": "x"}]
    assert [r.id for r in await store.runs.recent(tenant=TENANT)] == [run_id]


def test_record_kinds_other_than_people_have_no_person_ref() -> None:
    action = record(
        {"kind": "training_action", "action_ref": "A1", "title": "Excel"}, source_id="a"
    )
    assert action.person_ref is None
    assert action.action_ref == "A1"
