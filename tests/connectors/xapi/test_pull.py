"""Pulling from the LRS stand-in: paging, cursor, overlap, voiding, filters, faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from preuve.connectors.base import Connector
from preuve.connectors.xapi.constants import ATTENDED
from preuve.store import RunStatus, Store
from preuve.sync.runner import SyncOutcome, sync_connector, sync_source
from preuve.testing.lrs import Fault, LrsStandIn, generate_statements
from tests.connectors.xapi.conftest import TENANT, XapiFactory, backlog, source

T = TENANT.id


async def _sync(store: Store, connector: Connector) -> SyncOutcome:
    async with connector:
        return await sync_connector(store, connector)


async def _evidence(store: Store) -> dict[tuple[str, str], tuple[str, bool]]:
    return {
        (row.kind, row.source_id): (row.content_hash, row.withdrawn)
        async for row in store.evidence.iter_evidence(T, source="lrs", include_withdrawn=True)
    }


async def test_pull_twice_with_voided_statements(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    ids = backlog(lrs, 5000)
    first = await _sync(store, xapi_factory(page_size=500))
    assert first.status is RunStatus.SUCCEEDED, first.errors
    assert first.totals.inserted == 5000
    assert lrs.stats.statement_pages >= 10, "more links were followed"

    voided = ids[::500]  # 10 statements voided after the first pull
    for target in voided:
        lrs.void(target)
    second = await _sync(store, xapi_factory(page_size=500))
    assert second.status is RunStatus.SUCCEEDED, second.errors
    assert second.totals.inserted == 0
    assert second.totals.updated == 0
    assert second.totals.withdrawn == len(voided)
    # The second run started from the saved cursor minus the overlap.
    assert "since" in lrs.stats.queries[-1]

    state = await _evidence(store)
    withdrawn = {source_id for (_, source_id), (_, gone) in state.items() if gone}
    assert withdrawn == set(voided)
    counts = await store.evidence.count_by_kind(T, source="lrs")
    assert sum(counts.values()) == 5000 - len(voided)

    # A full re-pull from scratch: identical evidence, nothing counted twice.
    await store.evidence.reset_cursors(T, "lrs")
    third = await _sync(store, xapi_factory(page_size=500))
    assert third.status is RunStatus.SUCCEEDED, third.errors
    assert (third.totals.inserted, third.totals.updated, third.totals.withdrawn) == (0, 0, 0)
    assert await _evidence(store) == state
    kind = next(k for k, source_id in state if source_id == voided[0])
    history = await store.evidence.history(T, "lrs", kind, voided[0])
    assert [r.withdrawn for r in history] == [False, True], "kept in history, withdrawn"


async def test_cursor_never_passes_consistent_through(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    backlog(lrs, 40)
    through = lrs._keys[19]  # the LRS vouches only for the first 20 statements
    lrs.consistent_through = through
    outcome = await _sync(store, xapi_factory(overlap_seconds=0))
    assert outcome.totals.inserted == 40  # what was served is kept
    cursor = await store.evidence.get_cursor(T, "lrs", "statements")
    assert cursor is not None
    assert datetime.fromisoformat(cursor) == through

    # A statement committed late with a stored time inside the unvouched window
    # is found by the next run, which re-reads from the capped cursor.
    lrs.consistent_through = None
    again = await _sync(store, xapi_factory(overlap_seconds=0))
    assert again.totals.inserted == 0
    assert again.totals.unchanged == 20
    assert lrs.stats.queries[-1]["since"].startswith(through.strftime("%Y-%m-%dT%H:%M:%S"))


async def test_overlap_rereads_and_deduplicates(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    backlog(lrs, 30)
    await _sync(store, xapi_factory())
    lrs.add_many(
        generate_statements(5, seed=99),
        start=datetime.now(UTC) - timedelta(seconds=1),
        step=timedelta(milliseconds=1),
    )
    outcome = await _sync(store, xapi_factory(overlap_seconds=86_400))
    assert outcome.totals.inserted == 5
    assert outcome.totals.unchanged == 30  # the overlap re-read, de-duplicated by id
    assert sum((await store.evidence.count_by_kind(T, source="lrs")).values()) == 35


async def test_verb_filter_rechecks_the_verb_of_voiding_statements(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    ids = backlog(lrs, 200)
    attended = [i for i in ids if lrs.statement(i)["verb"]["id"] == ATTENDED]  # type: ignore[index]
    first = await _sync(store, xapi_factory(verb=ATTENDED, page_size=50))
    assert first.status is RunStatus.SUCCEEDED, first.errors
    assert await store.evidence.count_by_kind(T, source="lrs") == {"attendance": len(attended)}
    assert all(q["verb"] == ATTENDED for q in lrs.stats.queries)

    lrs.void(attended[0])
    second = await _sync(store, xapi_factory(verb=ATTENDED, page_size=50))
    # The LRS returned the voiding statement (its target matched the verb filter):
    # it withdrew the attendance and was not taken for an attendance itself.
    assert second.status is RunStatus.SUCCEEDED, second.errors
    assert second.totals.withdrawn == 1
    assert second.totals.inserted == 0
    row = await store.evidence.get(T, "lrs", "attendance", attended[0])
    assert row is not None
    assert row.withdrawn


async def test_transient_faults_are_retried(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    backlog(lrs, 25)
    lrs.faults = [
        Fault(status=503, retry_after="0"),
        Fault(status=429, retry_after="0"),
        Fault(status=502, retry_after="0", delay=1.0),  # slower than the client's timeout
    ]
    outcome = await _sync(store, xapi_factory(timeout_seconds=0.5, retry_attempts=5))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    assert outcome.totals.inserted == 25
    assert lrs.stats.faults_served == 3


async def test_persistent_5xx_fails_without_moving_the_cursor(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    backlog(lrs, 25)
    await _sync(store, xapi_factory())
    before = await store.evidence.cursors(T, "lrs")
    backlog(lrs, 5, seed=3)
    lrs.faults = [Fault(status=500, count=10, retry_after="0")]
    outcome = await _sync(store, xapi_factory(retry_attempts=2))
    assert outcome.status is RunStatus.FAILED
    assert outcome.errors[-1]["code"] == "http_500"
    assert await store.evidence.cursors(T, "lrs") == before


async def test_bad_credentials_say_what_to_check(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory, monkeypatch: object
) -> None:
    backlog(lrs, 3)
    lrs.password = "rotated"
    outcome = await _sync(store, xapi_factory())
    assert outcome.status is RunStatus.FAILED
    error = outcome.errors[-1]
    assert error["code"] == "unauthorized"
    assert "identifiants" in error["message"]
    assert "credentials.username" in error["message"]
    # The /about read (no credentials needed), then one refused statement request.
    assert lrs.stats.about_requests == 1
    assert len(lrs.stats.versions) == 1, "refused credentials are not retried"


async def test_missing_credential_is_reported_in_the_run_log(
    store: Store, lrs: LrsStandIn, lrs_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backlog(lrs, 3)
    monkeypatch.delenv("XAPI_TEST_LRS_PASSWORD")
    outcome = await sync_source(store, TENANT, source(lrs_url))
    assert outcome.status is RunStatus.FAILED
    assert outcome.errors[-1]["code"] == "missing_secret"
    assert "XAPI_TEST_LRS_PASSWORD" in outcome.errors[-1]["message"]
    assert lrs.stats.requests == 0


async def test_a_more_link_to_itself_stops_the_pull(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    backlog(lrs, 30)
    lrs.stuck_more = True
    outcome = await _sync(store, xapi_factory())
    assert outcome.status is RunStatus.FAILED
    assert outcome.errors[-1]["code"] == "more_loop"
    assert outcome.totals.inserted == 20, "the pages read before are kept"
