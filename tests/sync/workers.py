"""Real ``preuve worker`` subprocesses on a real Redis and PostgreSQL, for the tests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from preuve.store import Store
from preuve.store.schema import evidence, evidence_revision, sync_run
from tests.sync.standin import TARGET

REPO = Path(__file__).resolve().parents[2]


def write_config(path: Path, tenants: list[dict[str, Any]], sync: dict[str, Any]) -> Path:
    """A TOML configuration (URLs come from the environment)."""
    lines = ["[sync]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in sync.items()]
    for tenant in tenants:
        lines += ["", "[[tenants]]", f"id = {json.dumps(tenant['id'])}"]
        lines += [f"name = {json.dumps(tenant['name'])}"]
        for source in tenant["sources"]:
            lines += ["[[tenants.sources]]"]
            lines += [f"{k} = {json.dumps(source[k])}" for k in ("id", "kind", "path")]
            options = ", ".join(f"{k} = {json.dumps(v)}" for k, v in source["options"].items())
            lines += [f"options = {{ {options} }}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def worker_env(config: Path, store_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREUVE_") or k.startswith("PREUVE_TEST")
    }
    env.update(
        {
            "PREUVE_CONFIG": str(config),
            "PREUVE_STORE__URL": store_url,
            "PREUVE_REDIS__URL": redis_url,
            "PREUVE_SYNC__CONNECTOR_CLASSES": json.dumps({"jsonl": TARGET}),
            "PREUVE_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(REPO),
            **extra,
        }
    )
    return env


@contextmanager
def running_workers(
    count: int, env: dict[str, str], logs: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start ``count`` workers; stop (SIGTERM, then SIGKILL) whatever is left at the end."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(count):
            log = (logs / f"worker-{n}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "preuve", "worker"],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in procs:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def worker_logs(logs: Path) -> str:
    text = ""
    for file in sorted(logs.glob("worker-*.log")):
        text += f"\n--- {file.name}\n" + file.read_text(errors="replace")[-3000:]
    return text


async def wait_until(check: Any, *, within: float, what: str, logs: Path | None = None) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = worker_logs(logs) if logs is not None else ""
            raise AssertionError(f"timed out waiting for {what}{tail}")
        await asyncio.sleep(0.1)


async def evidence_keys(store: Store, tenant: str) -> list[tuple[str, str, str]]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            select(evidence.c.kind, evidence.c.source_id, evidence.c.content_hash)
            .where(evidence.c.tenant == tenant)
            .order_by(evidence.c.source_id)
        )
        return [(r[0], r[1], r[2]) for r in rows]


async def revision_count(store: Store) -> int:
    async with store.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(evidence_revision)) or 0)


async def finished_runs(store: Store) -> int:
    async with store.engine.connect() as conn:
        return int(
            await conn.scalar(
                select(func.count())
                .select_from(sync_run)
                .where(sync_run.c.finished_at.is_not(None))
            )
            or 0
        )
