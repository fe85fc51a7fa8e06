"""Trainer documents through the web app: upload a CV or badge, list trainer records.

``POST /api/tenants/{tenant}/trainers/documents``: multipart body with a ``file``
field (Europass XML/JSON, JSON Resume, Open Badge, PDF) and the trainer's
``email`` (or ``person`` key) as fields or query parameters. The document is
read in memory (413 past the size limit), never written to disk unless a ``cv``
source of the tenant sets ``copy_documents_to``; its entries are stored through
the sync runner (source ``trainer-upload``, run log included). Answer: the run
outcome, 200 when stored, 422 when the document was refused (with the reason).

``GET /api/tenants/{tenant}/trainers``: one line per trainer with the count of
each kind of record and the latest CV and continuing-development dates.
"""

from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web

from preuve.config.settings import SourceConfig, TenantConfig
from preuve.connectors.base import ConnectorContext
from preuve.connectors.cv.connector import CvConnector
from preuve.connectors.cv.constants import MAX_DOCUMENT_BYTES, TRAINER_KINDS
from preuve.evidence.identity import Pseudonymiser
from preuve.evidence.model import PartialDate
from preuve.i18n import Text
from preuve.store import RunStatus
from preuve.sync.runner import sync_connector
from preuve.web.keys import STORE_KEY
from preuve.web.requests import request_tenant, safe_base_name

UPLOAD_SOURCE = "trainer-upload"

MSG_TOO_BIG = Text(
    fr="fichier trop volumineux (maximum {limit} octets)",
    en="file too large (limit {limit} bytes)",
)
MSG_NO_FILE = Text(
    fr="fichier attendu : champ multipart « file »", en="expected a file: multipart field 'file'"
)
MSG_FIELD_TOO_LONG = Text(
    fr="champ « {field} » trop long (maximum {limit} octets)",
    en="field '{field}' too long (limit {limit} bytes)",
)

_CHUNK = 256 * 1024
MAX_FIELD_BYTES = 320  # an e-mail address is at most 254 characters


def _safe_name(raw: str | None) -> str:
    """The base name only, in safe characters (it is shown in messages and picks the format)."""
    return safe_base_name(raw) or "document"


async def _read_part(part: BodyPartReader) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(_CHUNK):
        data.extend(chunk)
        if len(data) > MAX_DOCUMENT_BYTES:
            raise web.HTTPRequestEntityTooLarge(
                max_size=MAX_DOCUMENT_BYTES,
                actual_size=len(data),
                text=MSG_TOO_BIG(limit=MAX_DOCUMENT_BYTES),
            )
    return bytes(data)


async def _read_field(part: BodyPartReader) -> str:
    """A small text field, read with a cap: an e-mail or a key is never long."""
    data = bytearray()
    while chunk := await part.read_chunk(MAX_FIELD_BYTES + 1):
        data.extend(chunk)
        if len(data) > MAX_FIELD_BYTES:
            raise web.HTTPBadRequest(
                text=MSG_FIELD_TOO_LONG(field=part.name, limit=MAX_FIELD_BYTES)
            )
    return data.decode("utf-8", errors="replace").strip()


async def _form(request: web.Request) -> tuple[str, bytes, dict[str, str]]:
    if not request.content_type.startswith("multipart/"):
        raise web.HTTPBadRequest(text=MSG_NO_FILE())
    reader = await request.multipart()
    name, data, fields = None, None, {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file":
            name, data = _safe_name(part.filename), await _read_part(part)
        elif part.name in {"email", "person"}:
            fields[part.name] = await _read_field(part)
    if name is None or data is None:
        raise web.HTTPBadRequest(text=MSG_NO_FILE())
    for key in ("email", "person"):
        if key not in fields and request.query.get(key):
            fields[key] = request.query[key].strip()
    return name, data, fields


def _upload_options(tenant: TenantConfig, fields: dict[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if fields.get("email"):
        options["email"] = fields["email"]
    if fields.get("person"):
        options["person_ref"] = fields["person"]
    for source in tenant.sources:
        copy_dir = source.options.get("copy_documents_to") if source.kind == "cv" else None
        if copy_dir:
            options["copy_documents_to"] = copy_dir
            break
    return options


async def upload_document(request: web.Request) -> web.Response:
    tenant = request_tenant(request)
    name, data, fields = await _form(request)
    source = SourceConfig(id=UPLOAD_SOURCE, kind="cv", options=_upload_options(tenant, fields))
    context = ConnectorContext(
        tenant=tenant.id, source=source, pseudonymiser=Pseudonymiser(tenant.pseudonym_secret())
    )
    connector = CvConnector(context, uploads=[(name, data)])
    async with connector:
        outcome = await sync_connector(request.app[STORE_KEY], connector, trigger="upload")
    status = 200 if outcome.status is RunStatus.SUCCEEDED else 422
    return web.json_response(outcome.as_json(), status=status)


def _later(current: str | None, value: Any) -> str | None:
    if value is None:
        return current
    text = str(PartialDate.model_validate(value))
    if current is None:
        return text
    return (
        text
        if PartialDate.model_validate(text).latest() > PartialDate.model_validate(current).latest()
        else current
    )


async def list_trainers(request: web.Request) -> web.Response:
    tenant = request_tenant(request)
    store = request.app[STORE_KEY]
    trainers: dict[str, dict[str, Any]] = {}

    def entry(ref: str) -> dict[str, Any]:
        return trainers.setdefault(
            ref,
            {"person_ref": ref, "display_name": None, "counts": {}, "cv": None, "last_cpd": None},
        )

    async for row in store.evidence.iter_evidence(tenant.id, kind="person"):
        if "trainer" in row.payload.get("roles", ()) and row.person_ref:
            item = entry(row.person_ref)
            item["display_name"] = item["display_name"] or row.payload.get("display_name")
    for kind in TRAINER_KINDS:
        async for row in store.evidence.iter_evidence(tenant.id, kind=kind):
            if not row.person_ref:
                continue
            item = entry(row.person_ref)
            item["counts"][kind] = item["counts"].get(kind, 0) + 1
            if kind == "trainer_cv":
                item["cv"] = _later(item["cv"], row.payload.get("updated"))
            elif kind == "trainer_cpd":
                item["last_cpd"] = _later(item["last_cpd"], row.payload.get("completed"))
    return web.json_response(sorted(trainers.values(), key=lambda t: t["person_ref"]))


def setup(app: web.Application) -> None:
    app.router.add_post("/api/tenants/{tenant}/trainers/documents", upload_document)
    app.router.add_get("/api/tenants/{tenant}/trainers", list_trainers)
