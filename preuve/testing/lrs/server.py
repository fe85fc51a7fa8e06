"""An LRS stand-in speaking the xAPI Statement Resource, for tests and benchmarks.

Real behaviour, small scope: Basic auth, the version header (checked against the
versions the stand-in implements, as an LRS must: 400 otherwise), ``/about``
listing those versions (or 404 for an LRS without it), POST/PUT/GET of
statements, ``since``/``until``/``limit``/``ascending``/``verb``/``activity``/
``related_activities``/``registration``/``agent`` filters, ``more`` links
(relative to the origin, as ADL's LRS does), ``X-Experience-API-Consistent-Through``,
voiding (voided statements disappear from queries; the voiding statement is
returned by a filter matching its target), and fault injection (status codes,
Retry-After, delays, for the next N requests).

Statements are kept as serialised bytes in ``stored`` order, so a set of
hundreds of thousands fits in memory and pages are joined, not re-encoded.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import hmac
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiohttp import web

from preuve.connectors.xapi.validation import StatementError, parse_timestamp, validate_statement

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
QUERY_PARAMS = frozenset(
    {
        "statementId",
        "voidedStatementId",
        "agent",
        "verb",
        "activity",
        "registration",
        "related_activities",
        "related_agents",
        "since",
        "until",
        "limit",
        "format",
        "attachments",
        "ascending",
    }
)
AUTHORITY = {"objectType": "Agent", "name": "stand-in", "mbox": "mailto:lrs@stand-in.example"}
VERSION_HEADER = "X-Experience-API-Version"
# ``1.0`` (taken as 1.0.0), ``1.0.x``, ``2.0.x``...: major, minor, optional patch.
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def _major_minor(value: str) -> tuple[int, int] | None:
    found = _VERSION.fullmatch(value.strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


@dataclass
class Fault:
    """Answer the next ``count`` statement requests with ``status`` (after ``delay``)."""

    status: int = 503
    count: int = 1
    retry_after: str | None = None
    delay: float = 0.0


@dataclass(slots=True)
class Entry:
    stored: datetime
    id: str
    verb: str
    object_id: str | None
    related: tuple[str, ...]
    registration: str | None
    actor: bytes
    voids: str | None
    body: bytes
    voided: bool = False


@dataclass
class Stats:
    requests: int = 0
    statement_pages: int = 0
    statements_served: int = 0
    faults_served: int = 0
    about_requests: int = 0
    queries: list[dict[str, str]] = field(default_factory=list)
    # The X-Experience-API-Version of every request but /about ("" when absent).
    versions: list[str] = field(default_factory=list)


def _compact(data: bytes) -> bytes:
    # orjson's output keeps its initial 4 KiB buffer: a copy is sized to fit,
    # which matters with hundreds of thousands of statements held in memory.
    return bytes(memoryview(data))


def _ifi(agent: Any) -> bytes:
    if not isinstance(agent, dict):
        return b""
    for key in ("mbox", "mbox_sha1sum", "openid", "account"):
        if key in agent:
            return _compact(orjson.dumps({key: agent[key]}, option=orjson.OPT_SORT_KEYS))
    return b""


def _related(statement: dict[str, Any]) -> tuple[str, ...]:
    context = statement.get("context") or {}
    found: list[str] = []
    for value in (context.get("contextActivities") or {}).values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                found.append(item["id"])
    return tuple(found)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _is_2(request: web.Request) -> bool:
    """A 2.0 request: its statements may carry 2.0 properties (contextAgents...)."""
    return (_major_minor(request.headers.get(VERSION_HEADER, "")) or (0, 0))[0] == 2


def _bool_param(value: str | None) -> bool:
    # TinCanPython sends Python's "True"; the spec says JSON "true": accept both.
    return (value or "false").lower() == "true"


class LrsStandIn:
    """The statements and the knobs; :meth:`app` serves them."""

    def __init__(
        self,
        *,
        username: str = "lrs-key",
        password: str = "lrs-secret",  # noqa: S107 - a test stand-in's default
        page_limit: int = 500,
        consistent_lag: timedelta = timedelta(seconds=0),
        versions: Sequence[str] = ("1.0.3", "2.0.0"),
        serves_about: bool = True,
    ) -> None:
        self.username = username
        self.password = password
        self.page_limit = page_limit
        self.consistent_lag = consistent_lag
        self.consistent_through: datetime | None = None  # fixed value, overrides the lag
        # The versions implemented, each the latest patch of its major.minor: /about
        # lists them and a request whose header matches none of them is refused
        # (400), as a 1.0.x-only LRS refuses 2.0.0. ``()``: nothing we speak.
        self.versions: tuple[str, ...] = tuple(versions)
        # False: /about answers 404, like LRSs that leave it out.
        self.serves_about = serves_about
        # Served by /about instead of the version list when set (a malformed one).
        self.about_document: Any = None
        self.faults: list[Fault] = []
        # A broken LRS: every "more" page links to itself.
        self.stuck_more = False
        self.stats = Stats()
        self._entries: list[Entry] = []
        self._keys: list[datetime] = []
        self._by_id: dict[str, int] = {}
        self._last = datetime(2000, 1, 1, tzinfo=UTC)

    # -- content ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def _next_stored(self, stored: datetime | None) -> datetime:
        now = stored or datetime.now(UTC)
        if now <= self._last:
            now = self._last + timedelta(microseconds=1)
        return now

    def add(self, statement: dict[str, Any], *, stored: datetime | None = None) -> str:
        """Store one statement as the LRS would (id, stored, authority, version)."""
        statement = dict(statement)
        ident = statement.setdefault("id", str(uuid.uuid4()))
        if ident in self._by_id:
            raise ValueError(f"statement {ident} exists")
        when = self._next_stored(stored)
        self._last = when
        statement["stored"] = _iso(when)
        statement.setdefault("timestamp", statement["stored"])
        statement.setdefault("version", "1.0.0")
        statement["authority"] = AUTHORITY
        target = statement.get("object") or {}
        verb = str((statement.get("verb") or {}).get("id", ""))
        voids = target.get("id") if verb == VOIDED else None
        is_activity = target.get("objectType", "Activity") == "Activity"
        entry = Entry(
            stored=when,
            id=ident,
            verb=verb,
            object_id=target.get("id") if is_activity else None,
            related=_related(statement),
            registration=(statement.get("context") or {}).get("registration"),
            actor=_ifi(statement.get("actor")),
            voids=voids,
            body=_compact(orjson.dumps(statement)),
        )
        self._by_id[ident] = len(self._entries)
        self._entries.append(entry)
        self._keys.append(when)
        if voids is not None and voids in self._by_id:
            self._entries[self._by_id[voids]].voided = True
        return str(ident)

    def add_many(
        self, statements: Iterable[dict[str, Any]], *, start: datetime, step: timedelta
    ) -> list[str]:
        """Bulk load with ``stored`` = start, start + step, ... (a past backlog)."""
        ids = []
        for n, item in enumerate(statements):
            ids.append(self.add(item, stored=start + step * n))
        return ids

    def void(self, target_id: str, *, stored: datetime | None = None) -> str:
        return self.add(
            {
                "actor": {"objectType": "Agent", "mbox": "mailto:formatrice@of-demo.example"},
                "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
                "object": {"objectType": "StatementRef", "id": target_id},
            },
            stored=stored,
        )

    def add_raw(self, body: bytes, ident: str, *, stored: datetime | None = None) -> None:
        """Store bytes as they are (a statement some other LRS let through)."""
        when = self._next_stored(stored)
        self._last = when
        entry = Entry(when, ident, "", None, (), None, b"", None, body)
        self._by_id[ident] = len(self._entries)
        self._entries.append(entry)
        self._keys.append(when)

    def statement(self, ident: str) -> dict[str, Any] | None:
        index = self._by_id.get(ident)
        return orjson.loads(self._entries[index].body) if index is not None else None

    # -- queries -----------------------------------------------------------------

    def _matches(self, entry: Entry, query: dict[str, str]) -> bool:
        if entry.voided:
            return False
        if self._direct(entry, query):
            return True
        # A statement targeting a matching statement (e.g. the voiding one) matches too.
        if entry.voids is not None and entry.voids in self._by_id:
            target = self._entries[self._by_id[entry.voids]]
            return self._direct(target, query)
        return False

    @staticmethod
    def _direct(entry: Entry, query: dict[str, str]) -> bool:
        verb = query.get("verb")
        if verb is not None and entry.verb != verb:
            return False
        activity = query.get("activity")
        if activity is not None and entry.object_id != activity:
            related = _bool_param(query.get("related_activities"))
            if not (related and activity in entry.related):
                return False
        registration = query.get("registration")
        if registration is not None and entry.registration != registration:
            return False
        agent = query.get("agent")
        return agent is None or entry.actor == _ifi(orjson.loads(agent))

    def page(self, query: dict[str, str], position: int | None) -> tuple[list[Entry], int | None]:
        """Up to ``limit`` matching entries from ``position``; the next position or None."""
        ascending = _bool_param(query.get("ascending"))
        requested = int(query.get("limit", "0") or 0)
        limit = self.page_limit if requested <= 0 else min(requested, self.page_limit)
        since = parse_timestamp(query["since"]) if "since" in query else None
        until = parse_timestamp(query["until"]) if "until" in query else None
        low = bisect.bisect_right(self._keys, since) if since else 0  # since is exclusive
        high = bisect.bisect_right(self._keys, until) if until else len(self._keys)
        found: list[Entry] = []
        if ascending:
            index = low if position is None else position
            while index < high and len(found) < limit:
                if self._matches(self._entries[index], query):
                    found.append(self._entries[index])
                index += 1
            more = index if index < high else None
        else:
            index = high - 1 if position is None else position
            while index >= low and len(found) < limit:
                if self._matches(self._entries[index], query):
                    found.append(self._entries[index])
                index -= 1
            more = index if index >= low else None
        return found, more

    # -- HTTP ----------------------------------------------------------------------

    def through(self) -> datetime:
        return self.consistent_through or datetime.now(UTC) - self.consistent_lag

    def implemented(self, header: str) -> str | None:
        """The implemented version answering a request with this version header."""
        wanted = _major_minor(header) if header else None
        if wanted is None:
            return None
        return next((v for v in self.versions if _major_minor(v) == wanted), None)

    def _headers(self, version: str | None = None) -> dict[str, str]:
        # Every response carries the version header: the one matching the request,
        # else the highest implemented.
        answer = version or max(self.versions, key=lambda v: _major_minor(v) or (0, 0), default="")
        headers = {"X-Experience-API-Consistent-Through": _iso(self.through())}
        if answer:
            headers[VERSION_HEADER] = answer
        return headers

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.username) and hmac.compare_digest(
            password, self.password
        )

    def _error(self, status: int, text: str, **extra: str) -> web.Response:
        return web.Response(status=status, text=text, headers={**self._headers(), **extra})

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.stats.requests += 1
        if request.path.endswith("/about"):
            # No credentials and no version check: an LRS must not refuse /about
            # for its version header (1.0.3 section 2.8).
            self.stats.about_requests += 1
            response: web.StreamResponse = await handler(request)
            return response
        version = request.headers.get(VERSION_HEADER, "")
        self.stats.versions.append(version)
        if self.faults:
            fault = self.faults[0]
            fault.count -= 1
            if fault.count <= 0:
                self.faults.pop(0)
            self.stats.faults_served += 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return self._error(fault.status, f"injected fault {fault.status}", **extra)
        if not self._authorised(request):
            return self._error(401, "bad credentials", **{"WWW-Authenticate": 'Basic realm="LRS"'})
        # A missing header, one before 1.0.0, or a major.minor not implemented
        # (2.0.0 sent to a 1.0.x-only LRS, 1.1.0+): 400 (1.0.3 section 3.3).
        answer = self.implemented(version)
        if answer is None:
            return self._error(400, "X-Experience-API-Version is not supported")
        response = await handler(request)
        response.headers[VERSION_HEADER] = answer  # the version the request speaks
        return response

    def _result(
        self, query: dict[str, str], entries: list[Entry], more: int | None
    ) -> web.Response:
        link = ""
        if more is not None:
            token = base64.urlsafe_b64encode(orjson.dumps({"q": query, "p": more})).decode()
            link = f"/xapi/statements/more/{token}"
        self.stats.statement_pages += 1
        self.stats.statements_served += len(entries)
        body = (
            b'{"statements":['
            + b",".join(e.body for e in entries)
            + b'],"more":'
            + orjson.dumps(link)
            + b"}"
        )
        return web.Response(body=body, content_type="application/json", headers=self._headers())

    async def get_statements(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        unknown = set(query) - QUERY_PARAMS
        if unknown:
            return self._error(400, f"unknown parameter(s): {sorted(unknown)}")
        if "statementId" in query or "voidedStatementId" in query:
            return self._single(query)
        if query.get("format", "exact") not in ("exact", "ids", "canonical"):
            return self._error(400, "bad format")
        if _bool_param(query.get("attachments")):
            return self._error(400, "attachments=true is not supported by the stand-in")
        for key in ("since", "until"):
            if key in query and parse_timestamp(query[key]) is None:
                return self._error(400, f"{key} is not a timestamp")
        self.stats.queries.append(query)
        entries, more = self.page(query, None)
        return self._result(query, entries, more)

    def _single(self, query: dict[str, str]) -> web.Response:
        if "statementId" in query and "voidedStatementId" in query:
            return self._error(400, "statementId and voidedStatementId together")
        voided = "voidedStatementId" in query
        ident = query.get("voidedStatementId") or query.get("statementId", "")
        index = self._by_id.get(ident)
        if index is None or self._entries[index].voided != voided:
            return self._error(404, "no such statement")
        return web.Response(
            body=self._entries[index].body, content_type="application/json", headers=self._headers()
        )

    async def get_more(self, request: web.Request) -> web.Response:
        try:
            state = orjson.loads(base64.urlsafe_b64decode(request.match_info["token"]))
        except (ValueError, orjson.JSONDecodeError):
            return self._error(404, "unknown more link")
        query = state["q"]
        entries, more = self.page(query, int(state["p"]))
        return self._result(query, entries, int(state["p"]) if self.stuck_more else more)

    async def post_statements(self, request: web.Request) -> web.Response:
        try:
            payload = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return self._error(400, "malformed JSON")
        items = payload if isinstance(payload, list) else [payload]
        version_2 = _is_2(request)
        try:
            for item in items:
                validate_statement(item, version_2=version_2)
                if isinstance(item, dict) and item.get("id") in self._by_id:
                    return self._error(409, f"statement {item['id']} exists")
        except StatementError as exc:
            return self._error(400, f"{exc.path}: {exc.reason}")
        if version_2:
            for item in items:
                item.setdefault("version", "2.0.0")
        ids = [self.add(item) for item in items]
        return web.json_response(ids, headers=self._headers())

    async def put_statement(self, request: web.Request) -> web.Response:
        ident = request.query.get("statementId")
        if not ident:
            return self._error(400, "statementId is required")
        try:
            item = orjson.loads(await request.read())
            validate_statement(item, version_2=_is_2(request))
        except orjson.JSONDecodeError:
            return self._error(400, "malformed JSON")
        except StatementError as exc:
            return self._error(400, f"{exc.path}: {exc.reason}")
        if item.setdefault("id", ident) != ident:
            return self._error(400, "id differs from statementId")
        if ident in self._by_id:
            return self._error(409, f"statement {ident} exists")
        self.add(item)
        return web.Response(status=204, headers=self._headers())

    async def about(self, request: web.Request) -> web.Response:
        if not self.serves_about:
            return web.Response(status=404, text="no about resource", headers=self._headers())
        document = self.about_document
        if document is None:
            document = {"version": list(self.versions), "extensions": {}}
        return web.json_response(document, headers=self._headers())

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app.router.add_get("/xapi/about", self.about)
        app.router.add_get("/xapi/statements", self.get_statements)
        app.router.add_post("/xapi/statements", self.post_statements)
        app.router.add_put("/xapi/statements", self.put_statement)
        app.router.add_get("/xapi/statements/more/{token}", self.get_more)
        return app
