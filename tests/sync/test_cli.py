"""``preuve sync`` (inline and queued, ``--wait``), ``sync-status`` and ``worker --check``,
run for real: click's runner, real store, real Redis, a real worker process."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import urllib.request
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from redis.asyncio import Redis

from preuve.cli.main import cli
from preuve.constants import EXIT_FAILURE, EXIT_USAGE
from preuve.store import SyncRun, open_store
from preuve.sync.locks import job_key, redis_lock
from tests.sync.helpers import tenant_dicts
from tests.sync.standin import TARGET
from tests.sync.workers import running_workers, worker_env, worker_logs, write_config


def _env(config: Path, store_url: str, redis_url: str | None = None) -> dict[str, str]:
    env = {
        "PREUVE_CONFIG": str(config),
        "PREUVE_STORE__URL": store_url,
        "PREUVE_SYNC__CONNECTOR_CLASSES": json.dumps({"jsonl": TARGET}),
    }
    if redis_url:
        env["PREUVE_REDIS__URL"] = redis_url
    return env


async def _runs(store_url: str, tenant: str) -> list[SyncRun]:
    store = await open_store(store_url)
    try:
        return await store.runs.recent(tenant=tenant)
    finally:
        await store.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_out(env: dict[str, str], *args: str) -> tuple[int, str]:
    code, out, _ = _run(env, *args)
    return code, out


def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_inline_sync_shows_results_and_refuses_a_sync_running_elsewhere(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = write_config(tmp_path / "p.toml", tenant_dicts(tmp_path, 2, 12), {})
    env = _env(config, sqlite_url)

    code, out, _ = _run(env, "--json", "sync", "--tenant", "of-000")
    assert code == 0
    [outcome] = orjson.loads(out)
    assert outcome["status"] == "succeeded"
    assert outcome["totals"]["inserted"] == 12

    async def _running_elsewhere() -> None:
        store = await open_store(sqlite_url)
        await store.runs.start("of-001", "lms", trigger="api", worker="embedded")
        await store.close()

    asyncio.run(_running_elsewhere())
    code, out, _ = _run(env, "sync")
    assert code == 0
    assert "of-000/lms" in out
    assert "déjà en cours" in out  # of-001 is left to the run already going on

    code, out, _ = _run(env, "--json", "sync-status")
    status = orjson.loads(out)
    assert [(r["tenant"], r["status"]) for r in status["running"]] == [("of-001", "running")]
    assert status["queue"] is None

    code, _, err = _run(env, "sync", "--source", "nope")
    assert code == EXIT_USAGE
    assert "nope" in err


def test_inline_sync_failure_exits_nonzero(tmp_path: Path, sqlite_url: str) -> None:
    tenants = tenant_dicts(tmp_path, 1, 3)
    tenants[0]["sources"][0]["path"] = str(tmp_path / "absent.jsonl")
    env = _env(write_config(tmp_path / "p.toml", tenants, {}), sqlite_url)
    code, out, err = _run(env, "sync")
    assert code == EXIT_FAILURE
    assert "failed" in out
    assert "absent.jsonl" in err


@pytest.mark.redis
@pytest.mark.postgres
def test_queued_sync_wait_and_worker_check(tmp_path: Path, pg_url: str, redis_url: str) -> None:
    tenants = tenant_dicts(tmp_path, 2, 30, options={"batch_size": 5, "batch_delay": 0.05})
    # of-001's LMS answers 503 once: the worker retries it with a backoff (arq Retry).
    flaky = tmp_path / "flaky"
    flaky.write_text("1")
    tenants[1]["sources"][0]["options"]["transient_failures_file"] = str(flaky)
    config = write_config(
        tmp_path / "p.toml", tenants, {"job_timeout_seconds": 30, "retry_base_seconds": 0.3}
    )
    env = _env(config, pg_url, redis_url)

    code, out, _ = _run(env, "worker", "--check")
    assert code == EXIT_FAILURE
    assert "aucun signe de vie" in out

    # Queued without a worker: a second request is reported, not queued twice.
    code, out, _ = _run(env, "sync", "--tenant", "of-000")
    assert "demandée" in out
    code, out, _ = _run(env, "--json", "sync", "--tenant", "of-000")
    assert orjson.loads(out)["requests"][0]["status"] == "already_queued"

    # An inline sync takes the workers' Redis lock: while one holds it, it is refused.
    async def _hold_lock_and_sync_inline() -> tuple[int, str]:
        redis = Redis.from_url(redis_url)
        try:
            async with redis_lock(redis, job_key("of-001", "lms"), ttl=30) as held:
                assert held
                return await asyncio.to_thread(
                    _run_out, env, "sync", "--inline", "--tenant", "of-001"
                )
        finally:
            await redis.aclose()

    code, out = asyncio.run(_hold_lock_and_sync_inline())
    assert code == 0
    assert "déjà en cours" in out

    port = _free_port()
    worker = worker_env(
        config,
        pg_url,
        redis_url,
        PREUVE_SCHEDULE__ENABLED="false",
        PREUVE_LOG_FORMAT="json",
        PREUVE_SYNC__METRICS_PORT=str(port),
    )
    with running_workers(1, worker, tmp_path):
        deadline = time.monotonic() + 20
        while "ready on queue" not in worker_logs(tmp_path):
            assert time.monotonic() < deadline, worker_logs(tmp_path)
            time.sleep(0.1)
        code, out, _ = _run(env, "--json", "sync", "--wait")
        result = orjson.loads(out)
        assert code == 0, result
        answers = {r["tenant"]: r["status"] for r in result["requests"]}
        # of-000 was queued before the worker started: it is waiting or already running.
        assert answers["of-000"] in {"already_queued", "already_running"}
        assert answers["of-001"] == "queued"
        assert sorted((r["tenant"], r["status"]) for r in result["runs"]) == [
            ("of-000", "succeeded"),
            ("of-001", "succeeded"),
        ]
        store_runs = asyncio.run(_runs(pg_url, "of-001"))
        codes = [(r.status.value, r.errors[-1]["code"] if r.errors else None) for r in store_runs]
        assert codes == [("succeeded", None), ("failed", "http_503")]
        assert store_runs[0].counts["records"]["inserted"] == 30
        code, out, _ = _run(env, "worker", "--check")
        assert code == 0
        assert "vivant" in out
        # The worker's own metrics, and its JSON log lines with the sync context.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
            metrics = page.read().decode()
        assert 'preuve_sync_runs_total{kind="jsonl",status="succeeded"} 2.0' in metrics
        lines = [
            orjson.loads(line)
            for line in worker_logs(tmp_path).splitlines()
            if line.startswith("{")
        ]
        finished = [entry for entry in lines if "finished: succeeded" in entry["message"]]
        assert {e["tenant"] for e in finished} == {"of-000", "of-001"}
        assert all(e["source"] == "lms" and e["run"] for e in finished)


def test_serve_process_answers_health_sync_and_metrics(tmp_path: Path, sqlite_url: str) -> None:
    import subprocess
    import sys
    import urllib.error

    from tests.sync.workers import REPO

    config = write_config(tmp_path / "p.toml", tenant_dicts(tmp_path, 1, 6), {})
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREUVE_")},
        **_env(config, sqlite_url),
        "PYTHONPATH": str(REPO),
    }
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "preuve", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as page:
                    assert orjson.loads(page.read())["status"] == "ok"
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
        request = urllib.request.Request(
            f"{base}/api/tenants/of-000/sources/lms/sync", method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as page:
            assert page.status == 202
        while True:
            with urllib.request.urlopen(f"{base}/api/sync/runs", timeout=5) as page:
                runs = orjson.loads(page.read())
            if runs and runs[0]["status"] == "succeeded":
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as page:
            text = page.read().decode()
        assert 'preuve_sync_records_total{kind="jsonl",outcome="inserted"} 6.0' in text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0, (tmp_path / "serve.log").read_text()
