"""Delivery policy: the retry schedule, timeouts, leases and disabling, in one place."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from preuve.config.settings import WebhooksConfig

# Delay before each attempt (Standard Webhooks / Svix schedule): immediately, 5 s,
# 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. After the last failure the message is failed.
DEFAULT_SCHEDULE: Final[tuple[float, ...]] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_TIMEOUT_SECONDS: Final = 15.0
DEFAULT_DISABLE_AFTER: Final = timedelta(days=5)
# A claimed message is someone else's until the lease ends: longer than a request
# may take, so a live dispatcher never loses its claim; short enough that a crashed
# one's messages are picked up again soon.
DEFAULT_LEASE_SECONDS: Final = 60.0
# Retry-After is honoured up to this delay; a larger value cannot park a message.
MAX_RETRY_AFTER_SECONDS: Final = 86400.0
DEFAULT_JITTER: Final = 0.2
DEFAULT_BATCH_SIZE: Final = 200
DEFAULT_CONCURRENCY: Final = 64
USER_AGENT: Final = "Preuve-Webhooks/1"


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How messages are delivered; injectable so tests run the schedule in seconds."""

    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    disable_after: timedelta = DEFAULT_DISABLE_AFTER
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    jitter: float = DEFAULT_JITTER
    max_retry_after_seconds: float = MAX_RETRY_AFTER_SECONDS
    batch_size: int = DEFAULT_BATCH_SIZE
    concurrency: int = DEFAULT_CONCURRENCY
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def __post_init__(self) -> None:
        if not self.schedule:
            raise ValueError("the retry schedule needs at least one attempt")
        if self.lease_seconds <= self.timeout_seconds:
            raise ValueError("the lease must outlast the request timeout")

    @property
    def round_lease_seconds(self) -> float:
        """The lease of a claimed batch: it must outlast the whole round.

        A batch is sent ``concurrency`` at a time; if every request ran into the
        timeout the round would take ``waves * timeout``. A lease shorter than
        that would let another dispatcher claim messages still queued here.
        """
        waves = math.ceil(self.batch_size / self.concurrency)
        return max(self.lease_seconds, waves * self.timeout_seconds * 1.5)

    @property
    def max_attempts(self) -> int:
        return len(self.schedule)

    def delay_after(self, attempts: int, retry_after: float | None = None) -> float | None:
        """Seconds before the next attempt once ``attempts`` have failed; None: give up."""
        if attempts >= len(self.schedule):
            return None
        base = self.schedule[attempts]
        # Jitter spreads the retries of many messages that failed together.
        delay = base * (1 + self.rng.uniform(-self.jitter, self.jitter)) if base else 0.0
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after_seconds))
        return delay

    @classmethod
    def from_config(cls, config: WebhooksConfig) -> DeliveryPolicy:
        schedule = (
            tuple(config.retry_schedule_seconds)
            if config.retry_schedule_seconds
            else DEFAULT_SCHEDULE
        )
        return cls(
            schedule=schedule,
            timeout_seconds=config.timeout_seconds,
            disable_after=timedelta(hours=config.disable_after_hours),
            lease_seconds=max(DEFAULT_LEASE_SECONDS, config.timeout_seconds * 4),
        )
