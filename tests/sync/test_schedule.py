"""The nightly schedule: the next tick in Paris time (DST included) and the tenant spread."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from preuve.config.settings import ScheduleConfig, Settings
from preuve.sync.schedule import next_tick, nightly_plan, spread_offset

PARIS = ZoneInfo("Europe/Paris")


def test_next_tick_is_the_configured_paris_time_even_across_dst() -> None:
    schedule = ScheduleConfig(nightly_at=time(2, 30))
    # Winter (UTC+1): 2026-01-10 00:00 UTC is 01:00 in Paris -> 02:30 the same night.
    tick = next_tick(datetime(2026, 1, 10, 0, 0, tzinfo=UTC), schedule)
    assert tick.astimezone(PARIS).replace(tzinfo=None) == datetime(2026, 1, 10, 2, 30)
    assert tick.astimezone(UTC).hour == 1
    # Summer (UTC+2): past 02:30 Paris -> tomorrow 02:30 Paris, 00:30 UTC.
    tick = next_tick(datetime(2026, 7, 10, 1, 0, tzinfo=UTC), schedule)
    assert tick.astimezone(PARIS).replace(tzinfo=None) == datetime(2026, 7, 11, 2, 30)
    assert tick.astimezone(UTC).hour == 0
    # Exactly at the tick: the next one is a day later.
    at = datetime(2026, 7, 11, 2, 30, tzinfo=PARIS)
    assert next_tick(at, schedule) == datetime(2026, 7, 12, 2, 30, tzinfo=PARIS)


def test_spread_is_stable_within_the_window_and_spreads_tenants() -> None:
    offsets = [spread_offset(f"of-{n}", 120) for n in range(200)]
    assert offsets == [spread_offset(f"of-{n}", 120) for n in range(200)]
    assert all(0 <= o < 7200 for o in offsets)
    # 200 tenants over 2 hours: every half hour gets some, none gets them all.
    quarters = [sum(1 for o in offsets if q * 1800 <= o < (q + 1) * 1800) for q in range(4)]
    assert all(20 < q < 100 for q in quarters), quarters
    assert spread_offset("of-1", 0) == 0


def test_plan_lists_enabled_sources_in_start_order() -> None:
    settings = Settings(
        schedule={"spread_minutes": 60},
        tenants=[
            {
                "id": f"of-{n}",
                "name": f"OF {n}",
                "sources": [
                    {"id": "lms", "kind": "jsonl", "path": "x"},
                    {"id": "off", "kind": "jsonl", "path": "x", "enabled": False},
                ],
            }
            for n in range(10)
        ],
    )
    plan = nightly_plan(settings)
    assert len(plan) == 10
    assert {p.source for p in plan} == {"lms"}
    assert [p.offset_seconds for p in plan] == sorted(p.offset_seconds for p in plan)
    assert plan[0].offset_seconds == spread_offset(plan[0].tenant, 60)
