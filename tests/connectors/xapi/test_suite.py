"""The xAPI connector passes the shared connector suite against the LRS stand-in."""

from __future__ import annotations

import pytest

from preuve.connectors.registry import build_connector
from preuve.testing.lrs import LrsStandIn
from tests.connector_suite import ConnectorFactory, ConnectorSuite
from tests.connectors.xapi.conftest import TENANT, WRONG_PASSWORD_ENV, backlog, source


class TestXapiConnector(ConnectorSuite):
    @pytest.fixture
    def connector_factory(self, lrs: LrsStandIn, lrs_url: str) -> ConnectorFactory:
        backlog(lrs, 35)
        return lambda: build_connector(TENANT, source(lrs_url))

    @pytest.fixture
    def failing_connector_factory(self, lrs: LrsStandIn, lrs_url: str) -> ConnectorFactory:
        backlog(lrs, 5)
        return lambda: build_connector(TENANT, source(lrs_url, password_env=WRONG_PASSWORD_ENV))

    @pytest.fixture
    def bad_payload_connector_factory(self, lrs: LrsStandIn, lrs_url: str) -> ConnectorFactory:
        backlog(lrs, 8)
        # Statements another LRS let through: no usable actor, no object.
        lrs.add_raw(
            b'{"id":"5b1c9d52-0f7e-4c55-9d1a-3e3b0a6f2c11","actor":{"objectType":"Group"},'
            b'"verb":{"id":"http://adlnet.gov/expapi/verbs/attended"},'
            b'"object":{"id":"https://lms.example/x"}}',
            "5b1c9d52-0f7e-4c55-9d1a-3e3b0a6f2c11",
        )
        lrs.add_raw(
            b'{"id":"0f3a1e4b-8d7c-4f6e-9a5b-2c1d0e9f8a7b","actor":{"mbox":"mailto:a@b.example"},'
            b'"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"}}',
            "0f3a1e4b-8d7c-4f6e-9a5b-2c1d0e9f8a7b",
        )
        lrs.add_raw(b"42", "not-a-statement")
        backlog(lrs, 4, seed=8)
        return lambda: build_connector(TENANT, source(lrs_url))
