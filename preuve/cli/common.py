"""Shared CLI plumbing: the context object, output in text or JSON, exit codes."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import orjson
from rich.console import Console
from rich.markup import escape

from preuve.config.settings import ConfigError, Settings, TenantConfig, load_settings
from preuve.constants import EXIT_CONFIG, EXIT_USAGE
from preuve.i18n import Text, set_language
from preuve.store import Store, open_store

T = TypeVar("T")

MSG_CONFIG_ERROR = Text(fr="Configuration invalide", en="Invalid configuration")
MSG_NO_TENANT = Text(
    fr="aucun organisme « {tenant} » dans la configuration (organismes : {known})",
    en="no tenant '{tenant}' in the configuration (tenants: {known})",
)
MSG_TENANT_NEEDED = Text(
    fr="plusieurs organismes configurés : précisez --tenant ({known})",
    en="several tenants are configured: give --tenant ({known})",
)


@dataclass
class CliState:
    config_path: Path | None
    json_output: bool
    language: str | None
    console: Console = field(default_factory=lambda: Console(highlight=False))
    err_console: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))
    _settings: Settings | None = None

    def with_store(
        self,
        work: Callable[[Store], Awaitable[T]],
        refusals: Mapping[type[Exception], int] | None = None,
    ) -> T:
        """Run ``work`` on the configured store, closed afterwards.

        ``refusals``: the exceptions that are the user's to fix, each failing the
        command with its message and the exit code given (the first match wins).
        """

        async def _run() -> T:
            store = await open_store(self.settings.store.url)
            try:
                return await work(store)
            finally:
                await store.close()

        try:
            return run_async(_run())
        except Exception as exc:
            for kind, code in (refusals or {}).items():
                if isinstance(exc, kind):
                    self.fail(str(exc), code)
            raise

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                self.fail(
                    f"{MSG_CONFIG_ERROR()} ({exc.path or 'env'}):\n"
                    + "\n".join(f"  - {p}" for p in exc.problems),
                    EXIT_CONFIG,
                )
            if self.language is None:
                set_language(self._settings.language)
        return self._settings

    def tenant(self, tenant_id: str | None) -> TenantConfig:
        tenants = self.settings.tenants
        known = ", ".join(t.id for t in tenants) or "-"
        if tenant_id is None:
            if len(tenants) == 1:
                return tenants[0]
            self.fail(MSG_TENANT_NEEDED(known=known), EXIT_USAGE)
        try:
            return self.settings.tenant(tenant_id)
        except KeyError:
            self.fail(MSG_NO_TENANT(tenant=tenant_id, known=known), EXIT_USAGE)

    def emit_json(self, value: Any) -> None:
        sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")

    def fail(self, message: str, code: int) -> NoReturn:
        if self.json_output:
            self.emit_json({"error": message, "exit_code": code})
        else:
            self.err_console.print(f"[bold red]Erreur / Error:[/] {escape(message)}")
        sys.exit(code)


pass_state = click.make_pass_decorator(CliState)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)
