"""The test suite every connector must pass (in the spirit of the Singer SDK's).

Use it by subclassing in a connector's test module and providing three fixtures,
each returning a callable that builds a *fresh* connector (tenant ``of-test``)::

    class TestMyConnector(ConnectorSuite):
        @pytest.fixture
        def connector_factory(self, ...) -> ConnectorFactory:
            # a healthy source with a few batches of data per stream
        @pytest.fixture
        def failing_connector_factory(self, ...) -> ConnectorFactory:
            # a source that fails permanently (bad credentials, missing folder...)
        @pytest.fixture
        def bad_payload_connector_factory(self, ...) -> ConnectorFactory:
            # a source whose data holds at least one unreadable item among valid ones

The suite checks: stream names, provenance of every record, idempotent re-sync,
resume from the saved cursor after an interruption (the end state equals an
uninterrupted run), error classification (a permanent failure fails the run with
a code and leaves no cursor), bad payloads (skipped and reported, the rest kept),
and ``check()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest

from preuve.connectors.base import Batch, CheckReport, Connector, Stream
from preuve.connectors.errors import TransientError
from preuve.store import RunStatus, Store, open_store
from preuve.sync.runner import SyncOutcome, sync_connector

ConnectorFactory = Callable[[], Connector]

TENANT = "of-test"


class _InterruptedStream(Stream):
    """Yields the first ``keep`` batches of a stream, then fails like a dropped link."""

    def __init__(self, inner: Stream, keep: int) -> None:
        self.inner = inner
        self.keep = keep
        self.name = inner.name  # type: ignore[misc]

    async def read(self, cursor: str | None) -> AsyncIterator[Batch]:
        seen = 0
        async for batch in self.inner.read(cursor):
            if seen >= self.keep:
                raise TransientError("injected failure", code="injected")
            seen += 1
            yield batch


def _interrupt(connector: Connector, keep: int) -> None:
    original = connector.streams

    def streams() -> Sequence[Stream]:
        return [_InterruptedStream(stream, keep) for stream in original()]

    connector.streams = streams  # type: ignore[method-assign]


async def _sync(store: Store, factory: ConnectorFactory) -> SyncOutcome:
    connector = factory()
    async with connector:
        return await sync_connector(store, connector)


async def _state(store: Store, source: str) -> set[tuple[str, str, str, bool]]:
    return {
        (row.kind, row.source_id, row.content_hash, row.withdrawn)
        async for row in store.evidence.iter_evidence(TENANT, source=source, include_withdrawn=True)
    }


class ConnectorSuite:
    """Subclass me; see the module docstring for the fixtures to provide."""

    async def test_streams_have_unique_names(self, connector_factory: ConnectorFactory) -> None:
        connector = connector_factory()
        async with connector:
            names = [stream.name for stream in connector.streams()]
        assert names, "a connector has at least one stream"
        assert len(names) == len(set(names)), f"duplicate stream names: {names}"
        assert all(name and name.isidentifier() for name in names)

    async def test_sync_stores_records_with_provenance(
        self, store: Store, connector_factory: ConnectorFactory
    ) -> None:
        connector = connector_factory()
        outcome = await _sync(store, lambda: connector)
        assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
        assert outcome.totals.inserted > 0
        source = connector.context.source.id
        rows = [row async for row in store.evidence.iter_evidence(TENANT, source=source)]
        assert len(rows) == outcome.totals.inserted - outcome.totals.withdrawn
        for row in rows:
            assert row.tenant == TENANT
            assert row.source == source
            assert row.connector == connector.kind
            assert row.connector_version == connector.version
            assert row.fetched_at.tzinfo is not None
            assert row.payload["kind"] == row.kind
        run = await store.runs.get(outcome.run_id)
        assert run is not None
        assert run.status is RunStatus.SUCCEEDED
        assert run.finished_at is not None

    async def test_resync_writes_nothing_new(
        self, store: Store, connector_factory: ConnectorFactory
    ) -> None:
        first = await _sync(store, connector_factory)
        assert first.status is RunStatus.SUCCEEDED, first.errors
        source = connector_factory().context.source.id
        before = await _state(store, source)
        second = await _sync(store, connector_factory)
        assert second.status is RunStatus.SUCCEEDED, second.errors
        assert second.totals.inserted == 0
        assert second.totals.updated == 0
        assert await _state(store, source) == before

    async def test_interrupted_sync_resumes_to_the_same_end_state(
        self, store: Store, connector_factory: ConnectorFactory, tmp_path: Path
    ) -> None:
        reference = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}")
        try:
            done = await _sync(reference, connector_factory)
            assert done.status is RunStatus.SUCCEEDED, done.errors
            source = connector_factory().context.source.id
            expected = await _state(reference, source)
        finally:
            await reference.close()

        def interrupted() -> Connector:
            connector = connector_factory()
            _interrupt(connector, keep=1)
            return connector

        broken = await _sync(store, interrupted)
        # The factory's data spans several batches in at least one stream, so the
        # injected failure does happen.
        assert broken.status is RunStatus.FAILED
        assert broken.errors[-1]["code"] == "injected"
        assert await _state(store, source) < expected, "the committed part is kept"
        resumed = await _sync(store, connector_factory)
        assert resumed.status is RunStatus.SUCCEEDED, resumed.errors
        assert await _state(store, source) == expected

    async def test_permanent_failure_fails_the_run_and_keeps_cursors(
        self, store: Store, failing_connector_factory: ConnectorFactory
    ) -> None:
        connector = failing_connector_factory()
        outcome = await _sync(store, lambda: connector)
        assert outcome.status is RunStatus.FAILED
        assert outcome.errors, "a failed run says why"
        error = outcome.errors[-1]
        assert error["action"] == "fail"
        assert error["code"]
        assert error["message"]
        source = connector.context.source.id
        assert await store.evidence.cursors(TENANT, source) == {}
        run = await store.runs.get(outcome.run_id)
        assert run is not None
        assert run.status is RunStatus.FAILED
        assert run.errors == outcome.errors

    async def test_bad_payload_is_skipped_and_reported(
        self, store: Store, bad_payload_connector_factory: ConnectorFactory
    ) -> None:
        outcome = await _sync(store, bad_payload_connector_factory)
        assert outcome.status is RunStatus.PARTIAL, outcome.errors
        skipped = [e for e in outcome.errors if e["action"] == "skip"]
        assert skipped, "the unreadable item is reported"
        assert all(e["item"] and e["reason"] for e in skipped)
        assert outcome.totals.inserted > 0, "the valid items are kept"

    async def test_check_reports_a_healthy_source(
        self, connector_factory: ConnectorFactory
    ) -> None:
        connector = connector_factory()
        async with connector:
            report = await connector.check()
        assert isinstance(report, CheckReport)
        assert report.items
        assert report.ok, [item.as_json() for item in report.items]

    async def test_check_reports_a_broken_source(
        self, failing_connector_factory: ConnectorFactory
    ) -> None:
        connector = failing_connector_factory()
        async with connector:
            report = await connector.check()
        assert not report.ok
        assert any(item.message for item in report.items)


__all__ = ["ConnectorFactory", "ConnectorSuite", "pytest"]
