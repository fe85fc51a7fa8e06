"""The xAPI connector: pulls statements from an LRS (``url``), and describes an
intake source (``options.intake``) whose statements are pushed to Preuve."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

import aiohttp

from preuve import __version__
from preuve.config.settings import SecretMissingError
from preuve.connectors.base import CheckReport, CheckStatus, Connector, ConnectorContext, Stream
from preuve.connectors.errors import ConnectorError, PermanentError
from preuve.connectors.http import client_timeout
from preuve.connectors.xapi.client import LrsClient
from preuve.connectors.xapi.constants import DEFAULT_VERSION, VERSION_HEADER
from preuve.connectors.xapi.mapping import StatementMapper
from preuve.connectors.xapi.options import XapiOptions, parse_options
from preuve.connectors.xapi.pull import StatementsStream
from preuve.i18n import Text

MSG_NO_URL = Text(
    fr="la source xAPI {source} n'a ni url (LRS à interroger) ni options.intake = true",
    en="xAPI source {source} has neither a url (LRS to pull from) nor options.intake = true",
)
MSG_REACHED = Text(
    fr="LRS joignable, versions annoncées : {versions}",
    en="LRS reachable, versions offered: {versions}",
)
MSG_VERSION = Text(
    fr="le LRS n'annonce pas la version {version} configurée (annoncées : {versions})",
    en="the LRS does not offer the configured version {version} (offered: {versions})",
)
MSG_READ_OK = Text(fr="lecture des déclarations autorisée", en="reading statements is allowed")
MSG_INTAKE = Text(
    fr="réception activée : les déclarations sont reçues sur /xapi/statements "
    "(identifiants Basic : credentials.username / credentials.password)",
    en="intake enabled: statements are received at /xapi/statements "
    "(Basic credentials: credentials.username / credentials.password)",
)


class XapiConnector(Connector):
    kind: ClassVar[str] = "xapi"
    version: ClassVar[str] = __version__

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self._options: XapiOptions | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def options(self) -> XapiOptions:
        if self._options is None:
            self._options = parse_options(self.context.source)
        return self._options

    @property
    def pulls(self) -> bool:
        return bool(self.context.source.url)

    # No ``open``: the HTTP session is made on first use, inside the sync, so a
    # missing credential is reported in the run log like any other failure.

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _new_session(self) -> aiohttp.ClientSession:
        source = self.context.source
        username = source.credential("username") or ""
        password = source.credential("password") or ""
        return aiohttp.ClientSession(
            timeout=client_timeout(self.options.timeout_seconds),
            headers={
                "Authorization": aiohttp.encode_basic_auth(username, password),
                VERSION_HEADER: self.options.version or DEFAULT_VERSION,
                "Accept": "application/json",
            },
            raise_for_status=False,
        )

    def client(self) -> LrsClient:
        source = self.context.source
        if not source.url:
            raise PermanentError(MSG_NO_URL(source=self.context.source.id), code="no_url")
        if self._session is None:
            self._session = self._new_session()
        return LrsClient(self._session, source.url, self.options, source.id)

    def mapper(self, *, url_for: Callable[[str], str | None] | None = None) -> StatementMapper:
        return StatementMapper(self, self.options, url_for=url_for)

    def streams(self) -> Sequence[Stream]:
        # An intake-only source has nothing to pull: its statements arrive by HTTP.
        return [StatementsStream(self)] if self.pulls else []

    async def check(self) -> CheckReport:
        report = CheckReport(source=self.context.source.id, kind=self.kind)
        try:
            options = self.options
            if options.intake:
                self.context.source.credential("username")
                self.context.source.credential("password")
                report.add(CheckStatus.OK, "intake", MSG_INTAKE())
            if not self.pulls:
                if not options.intake:
                    report.add(
                        CheckStatus.ERROR, "no_url", MSG_NO_URL(source=self.context.source.id)
                    )
                return report
            client = self.client()
            about = await client.about()
            versions = [str(v) for v in about.get("version", []) if isinstance(v, str)]
            report.details["versions"] = versions
            report.add(CheckStatus.OK, "reachable", MSG_REACHED(versions=", ".join(versions)))
            major = options.version.rsplit(".", 1)[0]
            if versions and not any(v.startswith(major) for v in versions):
                report.add(
                    CheckStatus.WARNING,
                    "version",
                    MSG_VERSION(version=options.version, versions=", ".join(versions)),
                )
            await client.statements(client.more_url("statements"), {"limit": "1", "format": "ids"})
            report.add(CheckStatus.OK, "read", MSG_READ_OK())
        except ConnectorError as exc:
            report.add(CheckStatus.ERROR, exc.code, exc.message, exc.hint)
        except SecretMissingError as exc:
            report.add(CheckStatus.ERROR, "missing_secret", str(exc))
        return report
