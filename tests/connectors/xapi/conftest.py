"""Fixtures: a running LRS stand-in and xAPI sources pointing at it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from preuve.config.settings import SourceConfig, TenantConfig
from preuve.connectors.base import Connector
from preuve.connectors.registry import build_connector
from preuve.testing.lrs import LrsStandIn, generate_statements

TENANT = TenantConfig(id="of-test", name="OF test")
USER_ENV = "XAPI_TEST_LRS_USER"
PASSWORD_ENV = "XAPI_TEST_LRS_PASSWORD"
WRONG_PASSWORD_ENV = "XAPI_TEST_LRS_WRONG"

XapiFactory = Callable[..., Connector]


@pytest.fixture(autouse=True)
def lrs_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(USER_ENV, "lrs-key")
    monkeypatch.setenv(PASSWORD_ENV, "lrs-secret")
    monkeypatch.setenv(WRONG_PASSWORD_ENV, "not-the-secret")


@pytest.fixture
def lrs() -> LrsStandIn:
    return LrsStandIn(page_limit=1000)


def backlog(lrs: LrsStandIn, count: int, *, seed: int = 7) -> list[str]:
    """``count`` generated statements stored over the last hours."""
    start = datetime.now(UTC) - timedelta(hours=3)
    return lrs.add_many(
        generate_statements(count, seed=seed), start=start, step=timedelta(milliseconds=10)
    )


@pytest.fixture
async def lrs_url(lrs: LrsStandIn) -> Any:
    server = TestServer(lrs.app())
    await server.start_server()
    yield str(server.make_url("/xapi/"))
    await server.close()


def source(url: str, *, password_env: str = PASSWORD_ENV, **options: Any) -> SourceConfig:
    return SourceConfig(
        id="lrs",
        kind="xapi",
        url=url,
        credentials={"username": USER_ENV, "password": password_env},
        options={"page_size": 10, "retry_initial_wait": 0, "retry_attempts": 3, **options},
    )


@pytest.fixture
def xapi_factory(lrs_url: str) -> XapiFactory:
    def make(**options: Any) -> Connector:
        return build_connector(TENANT, source(lrs_url, **options))

    return make
