"""Upload of a SCORM package or tracking export, imported at once for a tenant/source.

``POST /api/tenants/{tenant}/sources/{source}/scorm`` with a multipart body
(field ``file``) or the raw file as body and ``?filename=``; optional
``?action=<action_ref>``. The body is streamed to a private temporary folder
(413 past the size limit), imported through the sync runner (run log included),
then deleted. Answer: the run outcome (200, or 422 when the file was refused).
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import BodyPartReader, web

from preuve.connectors.scorm.constants import MAX_UPLOAD_BYTES
from preuve.connectors.scorm.sources import scorm_source
from preuve.i18n import Text
from preuve.store import RunStatus
from preuve.sync.runner import sync_source
from preuve.web.keys import STORE_KEY
from preuve.web.requests import request_tenant, safe_base_name

MSG_TOO_BIG = Text(
    fr="fichier trop volumineux (maximum {limit} octets)",
    en="file too large (limit {limit} bytes)",
)
MSG_NO_FILE = Text(
    fr="fichier attendu : champ multipart « file », ou corps brut avec ?filename=",
    en="expected a file: multipart field 'file', or a raw body with ?filename=",
)
MSG_BAD_NAME = Text(
    fr="nom de fichier attendu avec une extension .zip, .txt, .tsv, .csv, .json ou .xml",
    en="expected a file name ending in .zip, .txt, .tsv, .csv, .json or .xml",
)

_ACCEPTED = (".zip", ".pif", ".txt", ".tsv", ".csv", ".json", ".xml")
_CHUNK = 256 * 1024


def _safe_name(raw: str | None) -> str:
    """The base name only, in safe characters (it is shown in messages and picks the format)."""
    name = safe_base_name(raw)
    if not name.lower().endswith(_ACCEPTED):
        raise web.HTTPBadRequest(text=MSG_BAD_NAME())
    return name


async def _save(request: web.Request, folder: Path) -> Path:
    """Stream the upload to ``folder`` without ever holding it whole in memory."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                raise web.HTTPBadRequest(text=MSG_NO_FILE())
            if isinstance(part, BodyPartReader) and part.name == "file":
                target = folder / _safe_name(part.filename)
                await _copy(part.read_chunk, target)
                return target
    filename = request.query.get("filename")
    if not filename:
        raise web.HTTPBadRequest(text=MSG_NO_FILE())
    target = folder / _safe_name(filename)

    async def chunk(size: int = _CHUNK) -> bytes:
        return await request.content.read(size)

    await _copy(chunk, target)
    return target


async def _copy(read_chunk: Callable[[int], Awaitable[bytes]], target: Path) -> None:
    total = 0
    with target.open("wb") as out:
        while True:
            data = await read_chunk(_CHUNK)
            if not data:
                break
            total += len(data)
            if total > MAX_UPLOAD_BYTES:
                raise web.HTTPRequestEntityTooLarge(
                    max_size=MAX_UPLOAD_BYTES,
                    actual_size=total,
                    text=MSG_TOO_BIG(limit=MAX_UPLOAD_BYTES),
                )
            out.write(data)
    if total == 0:
        raise web.HTTPBadRequest(text=MSG_NO_FILE())


async def upload(request: web.Request) -> web.Response:
    tenant = request_tenant(request)
    with tempfile.TemporaryDirectory(prefix="preuve-scorm-") as tmp:
        path = await _save(request, Path(tmp))
        try:
            source = scorm_source(
                tenant,
                request.match_info["source"],
                [str(path)],
                action_ref=request.query.get("action") or None,
            )
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        outcome = await sync_source(request.app[STORE_KEY], tenant, source, trigger="upload")
    refused = outcome.status is RunStatus.FAILED or (
        outcome.status is RunStatus.PARTIAL
        and outcome.totals.inserted + outcome.totals.unchanged == 0
        and outcome.totals.updated == 0
    )
    return web.json_response(
        {"file": path.name, **outcome.as_json()}, status=422 if refused else 200
    )


def setup(app: web.Application) -> None:
    app.router.add_post("/api/tenants/{tenant}/sources/{source}/scorm", upload)
