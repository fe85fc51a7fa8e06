"""xAPI intake: a minimal Statement Resource for LMSs that push statements.

``POST``/``PUT /xapi/statements``, ``GET /xapi/statements?statementId=`` (or
``voidedStatementId=``) and ``GET /xapi/about``. The Basic credentials name the
tenant and source (an ``xapi`` source with ``options.intake = true``). Not a
full LRS: no statement queries, no document resources, no multipart
attachments (docs/xapi.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import orjson
from aiohttp import web

from preuve.connectors.xapi.constants import (
    CONSISTENT_THROUGH_HEADER,
    INTAKE_VERSION,
    INTAKE_VERSION_2,
    MAX_INTAKE_BATCH,
    VERSION_HEADER,
)
from preuve.connectors.xapi.intake import (
    ConflictError,
    IntakeDirectory,
    IntakeSource,
    authority_for,
    get_statement,
    prepare,
    receive,
)
from preuve.connectors.xapi.validation import (
    UUID_RE,
    VERSION_2_RE,
    VERSION_RE,
    StatementError,
    parse_timestamp,
)
from preuve.i18n import Text
from preuve.web.keys import SETTINGS_KEY, STORE_KEY

XAPI_INTAKE_KEY = web.AppKey("xapi_intake", IntakeDirectory)

MSG_AUTH = Text(fr="identifiants absents ou refusés", en="credentials missing or refused")
MSG_VERSION = Text(
    fr="en-tête X-Experience-API-Version absent ou non pris en charge ({value!r}) : "
    "1.0.x ou 2.0.x attendu",
    en="X-Experience-API-Version header missing or not supported ({value!r}): "
    "1.0.x or 2.0.x expected",
)
MSG_JSON = Text(fr="corps JSON illisible", en="unreadable JSON body")
MSG_EMPTY = Text(fr="lot vide", en="empty batch")
MSG_TOO_MANY = Text(
    fr="trop de déclarations dans un envoi ({count}, maximum {limit})",
    en="too many statements in one request ({count}, at most {limit})",
)
MSG_INVALID = Text(
    fr="déclaration {index} invalide, rien n'a été enregistré : {property} {reason}",
    en="statement {index} is invalid, nothing was stored: {property} {reason}",
)
MSG_PARAM = Text(
    fr="paramètre non accepté par ce point d'entrée : {names} (ce n'est pas un LRS complet : "
    "seuls statementId et voidedStatementId sont acceptés en lecture)",
    en="parameter not accepted by this intake: {names} (this is not a full LRS: only "
    "statementId and voidedStatementId are accepted for reading)",
)
MSG_ID_REQUIRED = Text(
    fr="paramètre statementId (UUID) obligatoire", en="parameter statementId (a UUID) is required"
)
MSG_ID_MISMATCH = Text(
    fr="l'id de la déclaration diffère du paramètre statementId",
    en="the statement id differs from the statementId parameter",
)
MSG_NOT_FOUND = Text(fr="déclaration introuvable", en="statement not found")
MSG_BOTH_IDS = Text(
    fr="statementId et voidedStatementId ne peuvent être donnés ensemble",
    en="statementId and voidedStatementId cannot be given together",
)
MSG_CONTENT_TYPE = Text(
    fr="seul application/json est accepté (pas de pièces jointes multipart)",
    en="only application/json is accepted (no multipart attachments)",
)

_READ_PARAMS = frozenset({"statementId", "voidedStatementId", "attachments", "format"})


def _headers(version: str = INTAKE_VERSION) -> dict[str, str]:
    now = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    # Statements are committed before the answer: everything stored is consistent.
    return {VERSION_HEADER: version, CONSISTENT_THROUGH_HEADER: now}


def _error(
    status: int, code: str, message: str, version: str = INTAKE_VERSION, **extra: Any
) -> web.Response:
    body = {"error": code, "message": message, **extra}
    headers = _headers(version)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="Preuve xAPI"'
    return web.Response(
        status=status,
        body=orjson.dumps(body),
        content_type="application/json",
        headers=headers,
    )


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _version(request: web.Request) -> tuple[str, bool]:
    """(version to answer with, whether the request speaks 2.0)."""
    value = request.headers.get(VERSION_HEADER, "").strip()
    if VERSION_RE.match(value):
        return INTAKE_VERSION, False
    if VERSION_2_RE.match(value):
        return INTAKE_VERSION_2, True
    raise _Refused(_error(400, "version", MSG_VERSION(value=value[:16])))


def _source(request: web.Request, version: str) -> IntakeSource:
    intake = request.app[XAPI_INTAKE_KEY].authenticate(request.headers.get("Authorization"))
    if intake is None:
        raise _Refused(_error(401, "unauthorized", MSG_AUTH(), version))
    return intake


async def _json(request: web.Request, version: str) -> Any:
    if request.content_type not in ("application/json", "application/octet-stream", ""):
        raise _Refused(_error(400, "content_type", MSG_CONTENT_TYPE(), version))
    try:
        return orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise _Refused(_error(400, "malformed_json", MSG_JSON(), version)) from None


async def _store(
    request: web.Request, intake: IntakeSource, statements: list[Any], version: str, v2: bool
) -> list[str] | web.Response:
    if not statements:
        return _error(400, "empty", MSG_EMPTY(), version)
    if len(statements) > MAX_INTAKE_BATCH:
        return _error(
            413, "too_many", MSG_TOO_MANY(count=len(statements), limit=MAX_INTAKE_BATCH), version
        )
    public_url = request.app[SETTINGS_KEY].web.public_url
    try:
        prepared = prepare(
            statements,
            version_2=v2,
            authority=authority_for(intake, public_url),
            now=datetime.now(UTC),
        )
    except StatementError as exc:
        index_text, _, prop = exc.path.partition(".")
        index = int(index_text.strip("[]")) if index_text.startswith("[") else 0
        prop = prop or "(statement)"
        return _error(
            400,
            "invalid_statement",
            MSG_INVALID(index=index, property=prop, reason=exc.reason),
            version,
            statement=index,
            property=prop,
            reason=exc.reason,
        )
    try:
        received = await receive(request.app[STORE_KEY], intake, prepared)
    except ConflictError as exc:
        return _error(409, "conflict", str(exc), version, statement_id=exc.statement_id)
    return received.ids


async def post_statements(request: web.Request) -> web.Response:
    try:
        version, v2 = _version(request)
        intake = _source(request, version)
        if request.query:
            return _error(400, "parameters", MSG_PARAM(names=", ".join(request.query)), version)
        payload = await _json(request, version)
    except _Refused as refused:
        return refused.response
    statements = payload if isinstance(payload, list) else [payload]
    result = await _store(request, intake, statements, version, v2)
    if isinstance(result, web.Response):
        return result
    return web.Response(
        body=orjson.dumps(result), content_type="application/json", headers=_headers(version)
    )


async def put_statement(request: web.Request) -> web.Response:
    try:
        version, v2 = _version(request)
        intake = _source(request, version)
        extra = set(request.query) - {"statementId"}
        if extra:
            return _error(400, "parameters", MSG_PARAM(names=", ".join(sorted(extra))), version)
        statement_id = request.query.get("statementId", "")
        if not UUID_RE.match(statement_id):
            return _error(400, "statement_id", MSG_ID_REQUIRED(), version)
        payload = await _json(request, version)
    except _Refused as refused:
        return refused.response
    if (
        isinstance(payload, dict)
        and str(payload.setdefault("id", statement_id)).lower() != statement_id.lower()
    ):
        return _error(400, "id_mismatch", MSG_ID_MISMATCH(), version)
    result = await _store(request, intake, [payload], version, v2)
    if isinstance(result, web.Response):
        return result
    return web.Response(status=204, headers=_headers(version))


async def get_statements(request: web.Request) -> web.Response:
    try:
        version, _ = _version(request)
        intake = _source(request, version)
    except _Refused as refused:
        return refused.response
    extra = set(request.query) - _READ_PARAMS
    if extra or not ({"statementId", "voidedStatementId"} & set(request.query)):
        names = ", ".join(sorted(extra)) or "(none)"
        return _error(400, "parameters", MSG_PARAM(names=names), version)
    if "statementId" in request.query and "voidedStatementId" in request.query:
        return _error(400, "parameters", MSG_BOTH_IDS(), version)
    voided = "voidedStatementId" in request.query
    statement_id = request.query.get("voidedStatementId") or request.query.get("statementId", "")
    if not UUID_RE.match(statement_id):
        return _error(400, "statement_id", MSG_ID_REQUIRED(), version)
    statement = await get_statement(request.app[STORE_KEY], intake, statement_id, voided=voided)
    if statement is None:
        return _error(404, "not_found", MSG_NOT_FOUND(), version)
    headers = _headers(version)
    stored = parse_timestamp(str(statement.get("stored", "")))
    if stored is not None:
        headers["Last-Modified"] = format_datetime(stored.astimezone(UTC), usegmt=True)
    return web.Response(
        body=orjson.dumps(statement), content_type="application/json", headers=headers
    )


async def about(request: web.Request) -> web.Response:
    return web.Response(
        body=orjson.dumps(
            {"version": [INTAKE_VERSION, INTAKE_VERSION_2], "extensions": {"preuve": "intake"}}
        ),
        content_type="application/json",
        headers={VERSION_HEADER: INTAKE_VERSION},
    )


def setup(app: web.Application) -> None:
    app[XAPI_INTAKE_KEY] = IntakeDirectory.from_settings(app[SETTINGS_KEY])
    app.router.add_post("/xapi/statements", post_statements)
    app.router.add_put("/xapi/statements", put_statement)
    app.router.add_get("/xapi/statements", get_statements)
    app.router.add_get("/xapi/about", about)
