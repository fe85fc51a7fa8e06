"""Commands: serve (web app) and worker (arq worker, needs Redis)."""

from __future__ import annotations

import click
from aiohttp import web

from preuve.cli.common import CliState, pass_state
from preuve.constants import EXIT_CONFIG
from preuve.web.app import create_app


@click.command("serve")
@click.option("--host", default=None, help="Listen address (default: configuration).")
@click.option("--port", default=None, type=int, help="Port (default: configuration).")
@pass_state
def serve_command(state: CliState, host: str | None, port: int | None) -> None:
    """Run the web app."""
    settings = state.settings
    web.run_app(
        create_app(settings),
        host=host or settings.web.host,
        port=port or settings.web.port,
        print=None,
    )


@click.command("worker")
@pass_state
def worker_command(state: CliState) -> None:
    """Run an arq worker (needs [redis] url)."""
    if not state.settings.redis.url:
        state.fail("[redis] url n'est pas configurée / is not configured", EXIT_CONFIG)
    state.fail("worker: pas encore disponible / not available yet", EXIT_CONFIG)


def register(group: click.Group) -> None:
    group.add_command(serve_command)
    group.add_command(worker_command)
