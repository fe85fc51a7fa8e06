"""Commands: serve (web app, plus the nightly scheduler when there is no Redis) and
worker (arq worker, needs Redis; ``--check`` for liveness probes)."""

from __future__ import annotations

import logging
import sys

import click
from aiohttp import web

from preuve.cli.common import CliState, pass_state, run_async
from preuve.config.settings import Settings
from preuve.constants import EXIT_CONFIG, EXIT_FAILURE
from preuve.i18n import Text
from preuve.logs import setup_logging
from preuve.store import open_store
from preuve.sync.worker import check_worker, run_worker
from preuve.web.app import create_app
from preuve.web.auth import check_start, is_loopback
from preuve.web.routes_sync import BACKGROUND_KEY

MSG_NO_REDIS = Text(
    fr="[redis] url n'est pas configurée (ou PREUVE_REDIS__URL) : le worker en a besoin",
    en="[redis] url is not configured (or PREUVE_REDIS__URL): the worker needs it",
)
MSG_WORKER_ALIVE = Text(fr="worker vivant", en="worker alive")
MSG_WORKER_DEAD = Text(
    fr="aucun signe de vie du worker depuis plus d'une minute",
    en="no sign of life from the worker for more than a minute",
)


async def _start_refusal(settings: Settings, host: str) -> str | None:
    """Why the web app must not listen on ``host`` (no API token beyond the loopback)."""
    if settings.web.auth == "off" or is_loopback(host):
        return None  # nothing to ask the store
    store = await open_store(settings.store.url)
    try:
        return await check_start(store, settings.web, host)
    finally:
        await store.close()


def _logging_from(settings: Settings) -> None:
    setup_logging(level=settings.log_level, json_format=settings.log_format == "json")
    # arq logs every job start/end at INFO: useful in a worker, noisy elsewhere.
    logging.getLogger("arq").setLevel(settings.log_level)


@click.command("serve")
@click.option("--host", default=None, help="Listen address (default: configuration).")
@click.option("--port", default=None, type=int, help="Port (default: configuration).")
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Embedded mode: no nightly sync or webhook delivery in this process.",
)
@pass_state
def serve_command(state: CliState, host: str | None, port: int | None, no_scheduler: bool) -> None:
    """Run the web app (and, without Redis, the nightly sync and webhooks in process)."""
    settings = state.settings
    _logging_from(settings)
    listen = host or settings.web.host
    refusal = run_async(_start_refusal(settings, listen))
    if refusal:
        state.fail(refusal, EXIT_CONFIG)
    app = create_app(settings, host=listen)
    app[BACKGROUND_KEY] = not settings.redis.url and not no_scheduler
    web.run_app(app, host=listen, port=port or settings.web.port, print=None)


@click.command("worker")
@click.option(
    "--check", is_flag=True, help="Liveness probe: exit 0 if this host's worker is alive."
)
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (batch runs, tests).")
@pass_state
def worker_command(state: CliState, check: bool, burst: bool) -> None:
    """Run an arq worker: sync jobs and the nightly schedule (needs [redis] url)."""
    settings = state.settings
    if not settings.redis.url:
        state.fail(MSG_NO_REDIS(), EXIT_CONFIG)
    if check:
        alive = run_async(check_worker(settings))
        if state.json_output:
            state.emit_json({"alive": alive})
        else:
            state.console.print(MSG_WORKER_ALIVE() if alive else MSG_WORKER_DEAD())
        sys.exit(0 if alive else EXIT_FAILURE)
    _logging_from(settings)
    run_worker(settings, burst=burst)


def register(group: click.Group) -> None:
    group.add_command(serve_command)
    group.add_command(worker_command)
