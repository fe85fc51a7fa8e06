"""Fixtures: a Moodle stand-in per test and connectors pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from preuve.config.settings import SourceConfig, TenantConfig
from preuve.connectors.moodle import MoodleConnector
from preuve.connectors.registry import build_connector
from preuve.testing.moodle import Faults, MoodleStandIn, SiteSpec, start_stand_in

TOKEN_ENV = "PREUVE_TEST_MOODLE_TOKEN"
TENANT = TenantConfig(id="of-test", name="Organisme de test")
# Tiny backoff so retried faults cost milliseconds.
FAST = {"retry_initial_wait": 0.01, "retry_max_wait": 0.05, "request_timeout": 2.0}
SMALL_SITE = SiteSpec(courses=5, learners_per_course=8, sessions_per_course=2, graded_per_course=3)

MakeConnector = Callable[..., MoodleConnector]


@pytest.fixture
async def moodle(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MoodleStandIn]:
    stand_in = await start_stand_in(SMALL_SITE, Faults())
    monkeypatch.setenv(TOKEN_ENV, stand_in.token)
    yield stand_in
    await stand_in.close()


def source(url: str, **options: Any) -> SourceConfig:
    return SourceConfig(
        id="moodle",
        kind="moodle",
        url=url,
        credentials={"token": TOKEN_ENV},
        options={**FAST, **options},
    )


@pytest.fixture
def make_connector(moodle: MoodleStandIn) -> MakeConnector:
    def make(**options: Any) -> MoodleConnector:
        connector = build_connector(TENANT, source(moodle.url, **options))
        assert isinstance(connector, MoodleConnector)
        return connector

    return make
