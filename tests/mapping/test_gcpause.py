"""The collector pause around evaluations: always resumed, never resumed too early."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from preuve.mapping import evaluate, evaluate_and_snapshot
from preuve.mapping.gcpause import gc_paused
from preuve.store import Store
from tests.mapping.scenario import AS_OF, load_scenario, tenant_config


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    """A failing test must not leave the rest of the suite without a collector."""
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()


def test_paused_inside_and_resumed_after_even_on_error() -> None:
    assert gc.isenabled()
    seen: list[bool] = []

    def fail() -> None:
        with gc_paused():
            seen.append(gc.isenabled())
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail()
    assert seen == [False]
    assert gc.isenabled()


def test_left_off_when_it_was_off_before() -> None:
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_pauses_resume_only_when_the_last_ends() -> None:
    first, second = gc_paused(), gc_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first to start ends first
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


async def test_concurrent_evaluations_leave_the_collector_running(store: Store) -> None:
    await load_scenario(store)
    tenant = tenant_config()
    alone = await evaluate(store, tenant, as_of=AS_OF)
    assert gc.isenabled()
    together = await asyncio.gather(
        evaluate(store, tenant, as_of=AS_OF),
        evaluate_and_snapshot(store, tenant, as_of=AS_OF),
    )
    assert gc.isenabled()
    # The pause changes nothing in the result.
    expected = {**alone.as_json(), "snapshot_id": None}
    assert together[0].as_json() == expected
    assert {**together[1][0].as_json(), "snapshot_id": None} == expected
