"""The Redis lock around a run: exclusive, renewed while held, freed when its holder dies."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from preuve.sync.locks import LOCK_PREFIX, LocalLocks, job_key, redis_lock

pytestmark = pytest.mark.redis


async def test_lock_is_exclusive_and_renewed_while_held(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    key = job_key("of-1", "lms")
    try:
        async with redis_lock(redis, key, ttl=0.6) as held:
            assert held
            await asyncio.sleep(1.2)  # twice the ttl: the heartbeat kept it
            async with redis_lock(redis, key, ttl=0.6) as second:
                assert not second
        assert not await redis.exists(LOCK_PREFIX + key)
        async with redis_lock(redis, key, ttl=0.6) as again:
            assert again
    finally:
        await redis.aclose()


async def test_lock_of_a_dead_holder_expires(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    key = job_key("of-1", "lms")
    try:
        # A killed worker: its lock is there, nobody renews it.
        await redis.set(LOCK_PREFIX + key, "dead-token", px=300)
        async with redis_lock(redis, key, ttl=5) as held:
            assert not held
        await asyncio.sleep(0.4)
        async with redis_lock(redis, key, ttl=5) as held:
            assert held
    finally:
        await redis.aclose()


def test_local_locks() -> None:
    locks = LocalLocks()
    assert locks.acquire("sync:a:b")
    assert not locks.acquire("sync:a:b")
    assert locks.acquire("sync:a:c")
    locks.release("sync:a:b")
    assert locks.held() == {"sync:a:c"}
