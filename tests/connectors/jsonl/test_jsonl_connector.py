"""The JSON Lines source passes the shared connector suite, and its own checks."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from preuve.config.settings import SourceConfig, TenantConfig
from preuve.connectors.base import Connector
from preuve.connectors.registry import build_connector
from preuve.store import RunStatus, Store
from preuve.sync.runner import sync_source
from tests.connector_suite import ConnectorFactory, ConnectorSuite

TENANT = TenantConfig(id="of-test", name="OF test")


def _lines(count: int, *, start: int = 0) -> list[bytes]:
    return [
        orjson.dumps(
            {
                "source_id": f"enr-{n}",
                "effective_at": "2026-09-01T09:00:00+02:00",
                "data": {
                    "kind": "enrolment",
                    "action_ref": f"A{n % 3}",
                    "person_ref": f"p_{n}",
                },
            }
        )
        for n in range(start, start + count)
    ]


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _factory(path: Path, batch_size: int = 10) -> ConnectorFactory:
    def make() -> Connector:
        source = SourceConfig(
            id="files", kind="jsonl", path=str(path), options={"batch_size": batch_size}
        )
        return build_connector(TENANT, source)

    return make


class TestJsonlConnector(ConnectorSuite):
    @pytest.fixture
    def connector_factory(self, tmp_path: Path) -> ConnectorFactory:
        folder = tmp_path / "data"
        folder.mkdir()
        _write(folder / "a.jsonl", _lines(35))
        _write(folder / "b.jsonl", _lines(12, start=100))
        return _factory(folder)

    @pytest.fixture
    def failing_connector_factory(self, tmp_path: Path) -> ConnectorFactory:
        return _factory(tmp_path / "missing-folder")

    @pytest.fixture
    def bad_payload_connector_factory(self, tmp_path: Path) -> ConnectorFactory:
        lines = _lines(5)
        lines.insert(2, b'{"source_id": "x", "data": {"kind": "enrolment", "action_ref": "A"}}')
        lines.insert(4, b"{not json")
        return _factory(_write(tmp_path / "bad.jsonl", lines))


async def test_bad_lines_are_named_by_line_and_field(store: Store, tmp_path: Path) -> None:
    lines = _lines(4)
    lines.insert(1, b'{"source_id": "x", "data": {"kind": "enrolment", "action_ref": "A"}}')
    lines.insert(
        3,
        b'{"source_id": "y", "data": {"kind": "attendance", "action_ref": "A", '
        b'"person_ref": "p", "day": "2026-13-01", "half": "am", "status": "present"}}',
    )
    path = _write(tmp_path / "import.jsonl", lines)
    source = SourceConfig(id="import", kind="jsonl", path=str(path))
    outcome = await sync_source(store, TENANT, source)
    assert outcome.status is RunStatus.PARTIAL
    assert outcome.totals.inserted == 4
    reasons = {e["item"]: e["reason"] for e in outcome.errors}
    assert set(reasons) == {"import.jsonl, ligne 2", "import.jsonl, ligne 4"}
    assert reasons["import.jsonl, ligne 2"].startswith("data.person_ref:")
    assert reasons["import.jsonl, ligne 4"].startswith("data.day:")


async def test_unchanged_file_is_not_read_again(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", _lines(25))
    source = SourceConfig(id="files", kind="jsonl", path=str(path), options={"batch_size": 10})
    first = await sync_source(store, TENANT, source)
    second = await sync_source(store, TENANT, source)
    assert first.totals.inserted == 25
    # Nothing read: not even an "unchanged" count.
    assert (second.totals.inserted, second.totals.unchanged) == (0, 0)
    _write(path, [*_lines(25), *_lines(5, start=25)])
    third = await sync_source(store, TENANT, source)
    assert (third.totals.inserted, third.totals.unchanged) == (5, 25)


async def test_bad_options_fail_with_the_key_named(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", _lines(2))
    source = SourceConfig(id="files", kind="jsonl", path=str(path), options={"batchsize": 3})
    outcome = await sync_source(store, TENANT, source)
    assert outcome.status is RunStatus.FAILED
    assert outcome.errors[0]["code"] == "bad_options"
    assert "batchsize" in outcome.errors[0]["message"]
