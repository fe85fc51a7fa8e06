"""The xAPI connector: pulls statements from an LRS (``url``), and describes an
intake source (``options.intake``) whose statements are pushed to Preuve."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import ClassVar

import aiohttp

from preuve import __version__
from preuve.config.settings import SecretMissingError
from preuve.connectors.base import CheckReport, CheckStatus, Connector, ConnectorContext, Stream
from preuve.connectors.errors import ConnectorError, PermanentError
from preuve.connectors.http import client_timeout
from preuve.connectors.xapi.client import LrsClient
from preuve.connectors.xapi.constants import (
    AUTO_VERSION,
    FALLBACK_VERSION,
    SUPPORTED_PULL_VERSIONS,
)
from preuve.connectors.xapi.mapping import StatementMapper
from preuve.connectors.xapi.options import XapiOptions, parse_options
from preuve.connectors.xapi.pull import StatementsStream
from preuve.connectors.xapi.versions import choose_version, offered_versions, offers
from preuve.i18n import Text

log = logging.getLogger(__name__)

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
MSG_NONE_OFFERED = Text(fr="aucune", en="none")
MSG_VERSION_DETECTED = Text(
    fr="version xAPI utilisée : {version} (la plus haute annoncée par le LRS que Preuve "
    "prend en charge)",
    en="xAPI version used: {version} (the highest one offered by the LRS that Preuve supports)",
)
MSG_VERSION_CONFIGURED = Text(
    fr="version xAPI utilisée : {version} (options.version)",
    en="xAPI version used: {version} (options.version)",
)
MSG_UNSUPPORTED = Text(
    fr="le LRS de la source {source} n'annonce aucune version xAPI prise en charge par "
    "Preuve : il annonce {versions} ; Preuve parle {supported}",
    en="the LRS of source {source} offers no xAPI version Preuve supports: it offers "
    "{versions}; Preuve speaks {supported}",
)
MSG_UNSUPPORTED_HINT = Text(
    fr="vérifier l'URL du LRS (point d'accès xAPI) ; si le LRS accepte malgré tout une de "
    'ces versions, la fixer dans options.version ("1.0.3" ou "2.0.0")',
    en="check the LRS url (its xAPI endpoint); if the LRS accepts one of these versions "
    'anyway, set it in options.version ("1.0.3" or "2.0.0")',
)
MSG_NO_ABOUT = Text(
    fr="le LRS de la source {source} ne sert pas /about (HTTP 404) : version xAPI "
    "{version} utilisée par défaut",
    en="the LRS of source {source} has no /about (HTTP 404): xAPI version {version} "
    "used by default",
)
MSG_NO_ABOUT_CONFIGURED = Text(
    fr="le LRS de la source {source} ne sert pas /about (HTTP 404) : la version "
    "configurée {version} n'a pas pu être vérifiée",
    en="the LRS of source {source} has no /about (HTTP 404): the configured version "
    "{version} could not be checked",
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
        # The X-Experience-API-Version chosen for this sync (detected once with "auto").
        self._version: str | None = None

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
            # X-Experience-API-Version is set per request by the client (it may
            # only be known after /about).
            headers={
                "Authorization": aiohttp.encode_basic_auth(username, password),
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
        return LrsClient(
            self._session, source.url, self.options, source.id, version=self._current_version()
        )

    def _current_version(self) -> str:
        """The version chosen so far: the configured one, the detected one, else the fallback."""
        if self._version is not None:
            return self._version
        configured = self.options.version
        return FALLBACK_VERSION if configured == AUTO_VERSION else configured

    async def pull_client(self) -> LrsClient:
        """The client speaking this sync's version, detected on first use with "auto".

        With ``version = "auto"`` the LRS's /about is read once (per connector, so
        per sync) before any statement request. An explicit version sends no /about.
        """
        client = self.client()
        if self._version is None:
            self._version = await self._detect_version(client)
            client.version = self._version
        return client

    async def _detect_version(self, client: LrsClient) -> str:
        configured = self.options.version
        if configured != AUTO_VERSION:
            return configured
        source = self.context.source.id
        about = await client.about()
        if about is None:
            # Not a failure: some LRSs leave /about out, and every LRS speaks 1.0.3.
            # Logged (with the run id) rather than reported as a skipped item, which
            # would mark every run of such a source partial.
            log.warning(MSG_NO_ABOUT(source=source, version=FALLBACK_VERSION))
            return FALLBACK_VERSION
        offered = offered_versions(about)
        chosen = choose_version(offered)
        if chosen is None:
            raise PermanentError(
                _unsupported_message(source, offered),
                code="version_unsupported",
                hint=MSG_UNSUPPORTED_HINT(),
            )
        log.info("xAPI source %s: version %s (LRS offers %s)", source, chosen, offered)
        return chosen

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
            if not await self._check_version(client, report):
                return report
            client.version = self._current_version()
            await client.statements(client.more_url("statements"), {"limit": "1", "format": "ids"})
            report.add(CheckStatus.OK, "read", MSG_READ_OK())
        except ConnectorError as exc:
            report.add(CheckStatus.ERROR, exc.code, exc.message, exc.hint)
        except SecretMissingError as exc:
            report.add(CheckStatus.ERROR, "missing_secret", str(exc))
        return report

    async def _check_version(self, client: LrsClient, report: CheckReport) -> bool:
        """Read /about, report the versions offered and the one used; False: stop here."""
        source = self.context.source.id
        configured = self.options.version
        about = await client.about()
        if about is None:
            chosen = FALLBACK_VERSION if configured == AUTO_VERSION else configured
            message = (
                MSG_NO_ABOUT(source=source, version=chosen)
                if configured == AUTO_VERSION
                else MSG_NO_ABOUT_CONFIGURED(source=source, version=chosen)
            )
            report.details.update(versions=None, version=chosen)
            report.add(CheckStatus.WARNING, "no_about", message)
            self._version = chosen
            return True
        offered = offered_versions(about)
        listed = ", ".join(offered) or MSG_NONE_OFFERED()
        report.details["versions"] = offered
        report.add(CheckStatus.OK, "reachable", MSG_REACHED(versions=listed))
        if configured == AUTO_VERSION:
            detected = choose_version(offered)
            if detected is None:
                report.details["version"] = None
                report.add(
                    CheckStatus.ERROR,
                    "version_unsupported",
                    _unsupported_message(source, offered),
                    MSG_UNSUPPORTED_HINT(),
                )
                return False
            report.details["version"] = detected
            report.add(CheckStatus.OK, "version", MSG_VERSION_DETECTED(version=detected))
            self._version = detected
            return True
        report.details["version"] = configured
        if offers(offered, configured):
            report.add(CheckStatus.OK, "version", MSG_VERSION_CONFIGURED(version=configured))
        else:
            report.add(
                CheckStatus.WARNING,
                "version",
                MSG_VERSION(version=configured, versions=listed),
            )
        self._version = configured
        return True


def _unsupported_message(source: str, offered: list[str]) -> str:
    return MSG_UNSUPPORTED(
        source=source,
        versions=", ".join(offered) or MSG_NONE_OFFERED(),
        supported=", ".join(SUPPORTED_PULL_VERSIONS),
    )
