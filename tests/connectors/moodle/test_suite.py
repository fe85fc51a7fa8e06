"""The shared connector suite, run against the Moodle stand-in."""

from __future__ import annotations

import pytest

from preuve.testing.moodle import MoodleStandIn
from tests.connector_suite import ConnectorFactory, ConnectorSuite
from tests.connectors.moodle.conftest import MakeConnector


class TestMoodleConnector(ConnectorSuite):
    @pytest.fixture
    def connector_factory(self, make_connector: MakeConnector) -> ConnectorFactory:
        # Small batches: several batches per stream, so the interruption test bites.
        return lambda: make_connector(batch_size=40)

    @pytest.fixture
    def failing_connector_factory(
        self, make_connector: MakeConnector, moodle: MoodleStandIn
    ) -> ConnectorFactory:
        moodle.token = "ffffffffffffffffffffffffffffffff"  # the site no longer knows our token
        return make_connector

    @pytest.fixture
    def bad_payload_connector_factory(
        self, make_connector: MakeConnector, moodle: MoodleStandIn
    ) -> ConnectorFactory:
        moodle.faults.bad_grade_courses.add(3)  # one grade above its maximum
        return make_connector
