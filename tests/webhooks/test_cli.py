"""The ``preuve webhooks`` commands, end to end on a SQLite store."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from standardwebhooks.webhooks import Webhook

from preuve.cli.main import cli
from preuve.store import open_store
from preuve.testing.webhook_receiver import WebhookReceiver
from preuve.webhooks import enqueue
from tests.webhooks.conftest import TENANT, events


class ThreadedReceiver:
    """The receiver on its own loop in a thread: the CLI runs its own asyncio.run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.receiver: WebhookReceiver | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def _start() -> None:
            self.receiver = await WebhookReceiver().start()
            self.ready.set()

        self.loop.run_until_complete(_start())
        self.loop.run_forever()

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        self.ready.wait(10)
        assert self.receiver is not None
        return self.receiver

    def __exit__(self, *exc: object) -> None:
        assert self.receiver is not None
        asyncio.run_coroutine_threadsafe(self.receiver.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def threaded_receiver() -> Iterator[WebhookReceiver]:
    with ThreadedReceiver() as receiver:
        yield receiver


@pytest.fixture
def config(tmp_path: Path, sqlite_url: str) -> Path:
    path = tmp_path / "preuve.toml"
    path.write_text(
        f"""
language = "en"
[store]
url = "{sqlite_url}"
[webhooks]
allow_networks = ["127.0.0.0/8"]
retry_schedule_seconds = [0, 0.05]
[[tenants]]
id = "{TENANT}"
name = "OF Test"
""",
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, ["-c", str(config), "--json", *args])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_endpoints_replay_log_and_dispatch(
    config: Path, sqlite_url: str, threaded_receiver: WebhookReceiver
) -> None:
    added = run(
        config, "webhooks", "endpoints", "add", threaded_receiver.url, "--event", "sync.failed"
    )
    endpoint_id, secret = added["id"], added["secret"]
    [listed] = run(config, "webhooks", "endpoints", "list")
    assert listed["id"] == endpoint_id
    assert listed["event_types"] == ["sync.failed"]

    assert not run(config, "webhooks", "endpoints", "disable", endpoint_id)["enabled"]

    batch = events(3, "sync.failed")

    async def _enqueue() -> None:
        store = await open_store(sqlite_url)
        try:
            await enqueue(store, batch)
        finally:
            await store.close()

    asyncio.run(_enqueue())
    # Disabled: the dispatcher sends nothing.
    assert run(config, "webhooks", "dispatch", "--once")["delivered"] == 0
    assert threaded_receiver.received == []
    assert run(config, "webhooks", "endpoints", "enable", endpoint_id)["enabled"]
    assert run(config, "webhooks", "dispatch", "--once")["delivered"] == 3
    assert sorted(threaded_receiver.delivered_ids()) == sorted(e.id for e in batch)
    for request in threaded_receiver.received:
        Webhook(secret).verify(request.body, request.headers)

    log = run(config, "webhooks", "log", endpoint_id)
    assert [a["outcome"] for a in log] == ["success"] * 3

    assert run(config, "webhooks", "replay", "--since", "1h") == {"replayed": 0}
    assert run(config, "webhooks", "replay", "--since", "1h", "--all") == {"replayed": 3}
    assert run(config, "webhooks", "dispatch", "--once")["delivered"] == 3
    assert len(threaded_receiver.delivered_ids()) == 6

    nothing = {"purged": 0, "purged_inbound": 0}
    assert run(config, "webhooks", "purge", "--older-than", "1d") == nothing
    everything = {"purged": 3, "purged_inbound": 0}
    assert run(config, "webhooks", "purge", "--older-than", "2099-01-01") == everything
    assert run(config, "webhooks", "log", endpoint_id) == []

    rotated = run(config, "webhooks", "endpoints", "rotate-secret", endpoint_id)
    assert rotated["secret"] != secret
    run(config, "webhooks", "endpoints", "remove", endpoint_id)
    assert run(config, "webhooks", "endpoints", "list") == []


def test_cli_errors_are_clear(config: Path) -> None:
    refused = run(config, "webhooks", "endpoints", "add", "http://10.0.0.1/hook", code=1)
    assert "10.0.0.1" in refused["error"]
    assert "private" in refused["error"]
    missing = run(config, "webhooks", "endpoints", "enable", "ep_none", code=2)
    assert "ep_none" in missing["error"]
    bad_date = run(config, "webhooks", "replay", "--since", "yesterday", code=2)
    assert "yesterday" in bad_date["error"]
