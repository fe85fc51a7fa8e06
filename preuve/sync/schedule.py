"""The nightly schedule: when the tick fires, and how tenants are spread after it.

Each tenant gets a fixed offset after the nightly time, derived from a hash of
its id, so a fleet of organisations does not hit every LMS at the same minute
and a given tenant syncs at the same time every night.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from preuve.config.settings import ScheduleConfig, Settings


@dataclass(frozen=True, slots=True)
class PlannedSync:
    tenant: str
    source: str
    offset_seconds: float


def spread_offset(tenant_id: str, spread_minutes: int) -> float:
    """Seconds after the nightly time at which this tenant's syncs start (stable per id)."""
    window = spread_minutes * 60
    if window <= 0:
        return 0.0
    digest = hashlib.sha256(tenant_id.encode()).digest()
    return float(int.from_bytes(digest[:8], "big") % window)


def next_tick(now: datetime, schedule: ScheduleConfig) -> datetime:
    """The next nightly time strictly after ``now`` (aware), in the schedule's timezone."""
    zone = ZoneInfo(schedule.timezone)
    local = now.astimezone(zone)
    candidate = _at(local.date().isoformat(), schedule.nightly_at, zone)
    if candidate <= local:
        candidate = _at((local.date() + timedelta(days=1)).isoformat(), schedule.nightly_at, zone)
    return candidate


def _at(day: str, at: time, zone: ZoneInfo) -> datetime:
    # Built from wall-clock fields so a DST change keeps the local time (02:30 stays 02:30).
    return datetime.fromisoformat(f"{day}T{at.isoformat()}").replace(tzinfo=zone)


def nightly_plan(settings: Settings) -> list[PlannedSync]:
    """Every enabled (tenant, source), with its offset, in start order."""
    plan = [
        PlannedSync(
            tenant.id, source.id, spread_offset(tenant.id, settings.schedule.spread_minutes)
        )
        for tenant in settings.tenants
        for source in tenant.sources
        if source.enabled
    ]
    return sorted(plan, key=lambda p: (p.offset_seconds, p.tenant, p.source))
