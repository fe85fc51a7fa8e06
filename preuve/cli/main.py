"""The ``preuve`` command line."""

from __future__ import annotations

import importlib
import logging
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from preuve import __version__
from preuve.cli.common import CliState
from preuve.constants import EXIT_FAILURE
from preuve.i18n import Text, set_language
from preuve.logs import setup_logging

log = logging.getLogger(__name__)

MSG_STORE_ERROR = Text(
    fr="la base de données a refusé l'opération ({error}) : vérifiez [store] url et que le "
    "serveur répond ; rien n'a été écrit à moitié. Détail avec -v.",
    en="the database refused the operation ({error}): check [store] url and that the server "
    "answers; nothing was half-written. Details with -v.",
)

# Modules that each add commands to the group (a ``register(group)`` function).
COMMAND_MODULES: tuple[str, ...] = (
    "preuve.cli.core_commands",
    "preuve.cli.sync_commands",
    "preuve.cli.coverage_commands",
    "preuve.cli.demo_commands",
    "preuve.cli.serve_commands",
    "preuve.cli.webhook_commands",
    "preuve.cli.scorm_commands",
    "preuve.cli.trainer_commands",
    "preuve.cli.token_commands",
)


class PreuveGroup(click.Group):
    """Turns a database failure in any command into one clear line and exit code 1.

    The traceback goes to the debug log only (``-v``); bound values are never in it
    (the engine hides them).
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (SQLAlchemyError, ConnectionError) as exc:
            log.debug("store error", exc_info=exc)
            click.echo(MSG_STORE_ERROR(error=type(exc).__name__), err=True)
            ctx.exit(EXIT_FAILURE)


@click.group(cls=PreuveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="preuve")
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=__import__("pathlib").Path),
    envvar="PREUVE_CONFIG",
    help="TOML configuration file (default: ./preuve.toml when present).",
)
@click.option("--json", "json_output", is_flag=True, help="Machine-readable JSON output.")
@click.option(
    "--lang",
    type=click.Choice(["fr", "en"]),
    default=None,
    help="Language of messages (default: configuration, else French).",
)
@click.option("-v", "--verbose", is_flag=True, help="Debug logging on stderr.")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: object,
    json_output: bool,
    lang: str | None,
    verbose: bool,
) -> None:
    """Preuve : les preuves Qualiopi tirées de votre plateforme de formation."""
    if lang is not None:
        set_language(lang)
    setup_logging(level=logging.DEBUG if verbose else logging.WARNING)
    ctx.obj = CliState(config_path=config_path, json_output=json_output, language=lang)  # type: ignore[arg-type]


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(cli)


def main() -> None:
    cli(prog_name="preuve")
