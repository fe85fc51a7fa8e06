"""The retry schedule, jitter, Retry-After and the lease of a round."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from preuve.config.settings import WebhooksConfig
from preuve.webhooks.delivery import parse_retry_after
from preuve.webhooks.policy import DEFAULT_SCHEDULE, DeliveryPolicy


def test_the_default_schedule_is_the_standard_one() -> None:
    # immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
    assert DEFAULT_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    policy = DeliveryPolicy.from_config(WebhooksConfig())
    assert policy.schedule == DEFAULT_SCHEDULE
    assert policy.timeout_seconds == 15
    assert policy.disable_after == timedelta(days=5)
    custom = DeliveryPolicy.from_config(
        WebhooksConfig(retry_schedule_seconds=[0, 1], disable_after_hours=2)
    )
    assert (custom.schedule, custom.disable_after) == ((0, 1), timedelta(hours=2))


def test_delays_have_jitter_and_end_after_the_last_attempt() -> None:
    policy = DeliveryPolicy(rng=random.Random(7))
    delays = [policy.delay_after(1) for _ in range(200)]
    assert all(d is not None and 4.0 <= d <= 6.0 for d in delays)
    assert len(set(delays)) > 100  # spread, not one value
    assert policy.delay_after(7) is not None
    assert policy.delay_after(8) is None  # 8 attempts made: give up


def test_retry_after_pushes_later_but_is_capped() -> None:
    policy = DeliveryPolicy(jitter=0)
    assert policy.delay_after(1, retry_after=120) == 120
    assert policy.delay_after(2, retry_after=1) == 300  # never earlier than the schedule
    assert policy.delay_after(1, retry_after=10**9) == 86400


def test_retry_after_header_forms() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Sun, 29 Nov 2026 12:02:00 GMT", now) == 120
    assert parse_retry_after("Sun, 29 Nov 2026 11:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_the_lease_outlasts_a_round() -> None:
    policy = DeliveryPolicy(batch_size=200, concurrency=50, timeout_seconds=15)
    assert policy.round_lease_seconds >= 4 * 15
    with pytest.raises(ValueError, match="lease"):
        DeliveryPolicy(timeout_seconds=30, lease_seconds=10)
    with pytest.raises(ValueError, match="schedule"):
        DeliveryPolicy(schedule=())


def test_a_bad_schedule_is_refused_in_the_configuration() -> None:
    with pytest.raises(ValueError, match="negative"):
        WebhooksConfig(retry_schedule_seconds=[0, -5])
    with pytest.raises(ValueError, match="at least one"):
        WebhooksConfig(retry_schedule_seconds=[])
