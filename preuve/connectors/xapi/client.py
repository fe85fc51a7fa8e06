"""A small LRS client: one GET of the Statement Resource or the About resource.

Every call is retried by :func:`preuve.connectors.http.with_retries` (timeouts,
resets, 429 with Retry-After, 5xx); refused credentials stop the sync with a
message saying which credentials to check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import orjson

from preuve.connectors.errors import PermanentError, TransientError
from preuve.connectors.http import (
    TRANSPORT_ERRORS,
    raise_for_status,
    transport_error,
    with_retries,
)
from preuve.connectors.xapi.constants import (
    CONSISTENT_THROUGH_HEADER,
    FALLBACK_VERSION,
    VERSION_HEADER,
)
from preuve.connectors.xapi.options import XapiOptions
from preuve.connectors.xapi.validation import parse_timestamp
from preuve.i18n import Text

MSG_CREDENTIALS = Text(
    fr="le LRS refuse les identifiants de la source {source} (HTTP {status}) : vérifier les "
    "variables d'environnement nommées par credentials.username et credentials.password",
    en="the LRS refused the credentials of source {source} (HTTP {status}): check the "
    "environment variables named by credentials.username and credentials.password",
)
MSG_CREDENTIALS_HINT = Text(
    fr="dans le LRS, créer une clé (client) avec le droit de lecture des déclarations "
    "(statements/read)",
    en="in the LRS, create a key (client) allowed to read statements (statements/read)",
)
MSG_BAD_REQUEST = Text(
    fr="le LRS refuse la requête (HTTP {status}) : {body}",
    en="the LRS refused the request (HTTP {status}): {body}",
)
MSG_VERSION_HINT = Text(
    fr="la requête portait X-Experience-API-Version: {version} ; avec options.version = "
    '"auto" (par défaut), la version est choisie d\'après /about du LRS',
    en="the request carried X-Experience-API-Version: {version}; with options.version = "
    '"auto" (the default), the version is chosen from the LRS\'s /about',
)
MSG_OTHER_ORIGIN = Text(
    fr="le LRS renvoie un lien « more » vers un autre serveur ({url}) : refusé",
    en="the LRS returned a 'more' link to another server ({url}): refused",
)
MSG_NOT_JSON = Text(
    fr="réponse du LRS illisible (JSON attendu) : {url}",
    en="unreadable LRS response (JSON expected): {url}",
)


# What ``_get`` returns for a 404 it was told to expect (JSON ``null`` is None).
MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class Page:
    statements: list[dict[str, Any]]
    more: str
    consistent_through: datetime | None
    version: str | None


def statements_url(endpoint: str) -> str:
    return urljoin(endpoint if endpoint.endswith("/") else endpoint + "/", "statements")


def resolve_more(endpoint: str, more: str) -> str:
    """``more`` is relative to the LRS origin (a full path), not to the endpoint.

    A link to another origin is refused: the credentials would go with it.
    """
    url = urljoin(endpoint, more)
    here, there = urlsplit(endpoint), urlsplit(url)
    if (here.scheme, here.netloc) != (there.scheme, there.netloc):
        raise PermanentError(MSG_OTHER_ORIGIN(url=url[:200]), code="more_other_origin")
    return url


class LrsClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        endpoint: str,
        options: XapiOptions,
        source_id: str,
        *,
        version: str = FALLBACK_VERSION,
    ) -> None:
        self.session = session
        self.endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        self.options = options
        self.source_id = source_id
        # The X-Experience-API-Version of every request (the spec wants it on all,
        # /about included; an LRS must not refuse /about for it).
        self.version = version

    def statement_link(self, statement_id: str) -> str:
        return f"{statements_url(self.endpoint)}?statementId={statement_id}"

    def more_url(self, more: str) -> str:
        return resolve_more(self.endpoint, more)

    async def _get(
        self, url: str, params: dict[str, str] | None, *, missing_ok: bool = False
    ) -> tuple[Any, dict[str, str]]:
        """The decoded JSON and the headers; ``(MISSING, headers)`` for a 404 if ``missing_ok``."""

        async def attempt() -> tuple[Any, dict[str, str]]:
            try:
                async with self.session.get(
                    url, params=params, headers={VERSION_HEADER: self.version}
                ) as response:
                    body = await response.read()
                    headers = dict(response.headers)
                    status = response.status
            except TRANSPORT_ERRORS as exc:
                raise transport_error(exc, "LRS") from exc
            if status in (401, 403):
                raise PermanentError(
                    MSG_CREDENTIALS(source=self.source_id, status=status),
                    code="unauthorized",
                    hint=MSG_CREDENTIALS_HINT(),
                )
            if status == 400:
                text = body[:200].decode("utf-8", "replace")
                raise PermanentError(
                    MSG_BAD_REQUEST(status=status, body=text),
                    code="bad_request",
                    # An LRS refusing the version header says so in its message.
                    hint=MSG_VERSION_HINT(version=self.version)
                    if "version" in text.lower()
                    else None,
                )
            if status == 404 and missing_ok:
                return MISSING, headers
            raise_for_status(status, headers, "LRS")
            try:
                return orjson.loads(body), headers
            except orjson.JSONDecodeError as exc:
                # A proxy's HTML error page with a 200: worth one more try.
                raise TransientError(MSG_NOT_JSON(url=url), code="not_json") from exc

        return await with_retries(
            attempt,
            attempts=self.options.retry_attempts,
            initial_wait=self.options.retry_initial_wait,
        )

    async def statements(self, url: str, params: dict[str, str] | None = None) -> Page:
        data, headers = await self._get(url, params)
        if not isinstance(data, dict) or not isinstance(data.get("statements"), list):
            raise PermanentError(MSG_NOT_JSON(url=url), code="not_statement_result")
        through = headers.get(CONSISTENT_THROUGH_HEADER)
        more = data.get("more")
        return Page(
            statements=data["statements"],
            more=more if isinstance(more, str) else "",
            consistent_through=parse_timestamp(through) if through else None,
            version=headers.get(VERSION_HEADER),
        )

    async def about(self) -> dict[str, Any] | None:
        """The LRS's /about document; None when the LRS has none (404)."""
        data, _ = await self._get(urljoin(self.endpoint, "about"), None, missing_ok=True)
        if data is MISSING:
            return None
        return data if isinstance(data, dict) else {}
