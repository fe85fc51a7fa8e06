"""The ``statements`` stream: incremental pull from an LRS, cursor = ``stored``.

Algorithm (reference note, section 2.4):

0. With ``options.version = "auto"``, ``GET about`` once: the highest version
   both sides speak is sent on every request of the run (1.0.3 when the LRS has
   no /about; none in common fails the run, ``version_unsupported``).
1. ``GET statements?since=<cursor - overlap>&ascending=true&limit=N&format=exact``
   plus the configured filters; follow ``more`` to the end.
2. Each page is one batch; every statement is upserted by its id (a re-read
   statement is "unchanged", never counted twice).
3. The cursor after a page is the highest ``stored`` seen, capped by the
   ``X-Experience-API-Consistent-Through`` of the first response (a statement
   stored before that time may still be committing), never moved backwards.
4. A voiding statement withdraws the evidence of the statement it voids; with a
   verb filter the LRS also returns voiding statements (their target matched),
   so the verb is re-checked: anything else that does not match is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from preuve.connectors.base import Batch, Stream
from preuve.connectors.errors import ConnectorError, PermanentError, SkippedItem
from preuve.connectors.xapi.client import Page, statements_url
from preuve.connectors.xapi.mapping import StatementMapper
from preuve.connectors.xapi.validation import parse_timestamp
from preuve.i18n import Text

if TYPE_CHECKING:
    from preuve.connectors.xapi.connector import XapiConnector

MSG_MORE_LOOP = Text(
    fr="le LRS renvoie le même lien « more » que la page lue ({url}) : arrêt",
    en="the LRS returned the same 'more' link as the page just read ({url}): stopping",
)
MSG_NOT_OBJECT = Text(
    fr="élément de la page qui n'est pas une déclaration : {value}",
    en="page item that is not a statement: {value}",
)
MSG_FILTERED = Text(
    fr="verbe {verb} hors du filtre configuré ({wanted}) : ignorée",
    en="verb {verb} outside the configured filter ({wanted}): ignored",
)


def format_cursor(value: datetime) -> str:
    """Full precision, UTC, ``Z``: what every LRS accepts for ``since``."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_cursor(value: str | None) -> datetime | None:
    return parse_timestamp(value) if value else None


class StatementsStream(Stream):
    name: ClassVar[str] = "statements"

    def __init__(self, connector: XapiConnector) -> None:
        self.connector = connector

    def _params(self, since: datetime | None) -> dict[str, str]:
        options = self.connector.options
        params = {"ascending": "true", "limit": str(options.page_size), "format": "exact"}
        if since is not None:
            params["since"] = format_cursor(since)
        if options.verb:
            params["verb"] = options.verb
        if options.activity:
            params["activity"] = options.activity
            if options.related_activities:
                params["related_activities"] = "true"
        return params

    async def read(self, cursor: str | None) -> AsyncIterator[Batch]:
        connector = self.connector
        # With version = "auto", the LRS's /about is read here, before the first query.
        client = await connector.pull_client()
        mapper: StatementMapper = connector.mapper(url_for=client.statement_link)
        saved = parse_cursor(cursor)
        since = saved - timedelta(seconds=connector.options.overlap_seconds) if saved else None
        position = saved
        url = statements_url(client.endpoint)
        page = await client.statements(url, self._params(since))
        # Only the first answer vouches for what the query saw (ADL's LRS leaves
        # the header out of "more" pages).
        cap = page.consistent_through
        pending: asyncio.Task[Page] | None = None
        try:
            while True:
                looping = False
                if page.more:
                    next_url = client.more_url(page.more)
                    # A broken LRS handing back the same page would loop forever.
                    looping = next_url == url
                    if not looping:
                        url = next_url
                        # The next page travels while this one is mapped and stored.
                        pending = asyncio.ensure_future(client.statements(url))
                batch, highest = self._batch(page, mapper)
                if highest is not None:
                    candidate = min(highest, cap) if cap is not None else highest
                    if position is None or candidate > position:
                        position = candidate
                        batch.cursor = format_cursor(candidate)
                if batch.records or batch.withdrawals or batch.skipped or batch.cursor:
                    yield batch
                if looping:
                    raise PermanentError(MSG_MORE_LOOP(url=url), code="more_loop")
                if pending is None:
                    return
                page = await pending
                pending = None
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectorError):
                    await pending

    def _batch(self, page: Page, mapper: StatementMapper) -> tuple[Batch, datetime | None]:
        """The page's evidence, withdrawals and skips, and its highest ``stored``."""
        wanted_verb = self.connector.options.verb
        batch = Batch()
        highest: datetime | None = None
        for statement in page.statements:
            if not isinstance(statement, dict):
                batch.skipped.append(_not_an_object(statement))
                continue
            stored = parse_timestamp(str(statement.get("stored", "")))
            if stored is not None and (highest is None or stored > highest):
                highest = stored
            if wanted_verb and not _verb_matches(statement, wanted_verb, mapper):
                batch.skipped.append(_filtered(statement, wanted_verb))
                continue
            mapped = mapper.map(statement)
            if mapped.record is not None:
                batch.records.append(mapped.record)
            batch.withdrawals.extend(mapped.withdrawals)
            if mapped.skipped is not None:
                batch.skipped.append(mapped.skipped)
        return batch, highest


def _verb_matches(statement: dict[str, object], wanted: str, mapper: StatementMapper) -> bool:
    verb = statement.get("verb")
    verb_id = verb.get("id") if isinstance(verb, dict) else None
    # A voiding statement comes back because its target matched the filter.
    return verb_id == wanted or mapper.voided_target(statement) is not None


def _not_an_object(value: object) -> SkippedItem:
    return SkippedItem(
        stream=StatementsStream.name,
        item="statement ?",
        reason=MSG_NOT_OBJECT(value=repr(value)[:80]),
        code="unreadable_statement",
    )


def _filtered(statement: dict[str, object], wanted: str) -> SkippedItem:
    verb = statement.get("verb")
    verb_id = verb.get("id") if isinstance(verb, dict) else None
    return SkippedItem(
        stream=StatementsStream.name,
        item=f"statement {statement.get('id')}",
        reason=MSG_FILTERED(verb=verb_id, wanted=wanted),
        code="filtered_out",
    )
