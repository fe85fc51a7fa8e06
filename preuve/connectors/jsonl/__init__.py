"""A source made of JSON Lines files (``preuve import`` and hand-made data).

The cursor remembers, per file, its size and modification time and the last line
committed: an interrupted import resumes after the last committed batch, and an
unchanged file is not read again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import ClassVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from preuve import __version__
from preuve.connectors.base import (
    Batch,
    CheckReport,
    CheckStatus,
    Connector,
    Stream,
    validate_options,
)
from preuve.connectors.errors import PermanentError, SkippedItem
from preuve.constants import DEFAULT_BATCH_SIZE
from preuve.evidence.jsonl import JsonlProblem, read_jsonl
from preuve.i18n import Text

MSG_NO_PATH = Text(
    fr="la source {source} n'a pas de chemin (clé path)",
    en="source {source} has no path (key path)",
)
MSG_NOT_FOUND = Text(fr="introuvable : {path}", en="not found: {path}")
MSG_FILES = Text(
    fr="{count} {count:fichier|fichiers} JSON Lines à lire",
    en="{count} JSON Lines {count:file|files} to read",
)


class JsonlOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=100_000)
    # False: read every file in full each time (an explicit `preuve import`), so
    # the user sees every line counted as added, changed or unchanged.
    remember_files: bool = True


# Per file name: [size, mtime_ns, last committed line, 1 when the file is done].
FileProgress = dict[str, list[int]]


def _fingerprint(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _load_cursor(cursor: str | None) -> FileProgress:
    if not cursor:
        return {}
    try:
        value = orjson.loads(cursor)
    except orjson.JSONDecodeError:
        return {}  # an unreadable cursor means: start again (upsert makes it harmless)
    return value if isinstance(value, dict) else {}


class RecordsStream(Stream):
    name = "records"

    def __init__(self, connector: JsonlConnector) -> None:
        self.connector = connector

    async def read(self, cursor: str | None) -> AsyncIterator[Batch]:
        options = self.connector.options
        progress = _load_cursor(cursor) if options.remember_files else {}
        batch_size = options.batch_size
        for path in self.connector.files():
            fingerprint = _fingerprint(path)
            saved = progress.get(path.name) or [-1, -1, 0, 0]
            same_file = saved[:2] == fingerprint
            if same_file and saved[3]:
                continue  # read completely before, unchanged since
            done_until = saved[2] if same_file else 0
            batch = Batch()
            for line, item in read_jsonl(path, after_line=done_until):
                if isinstance(item, JsonlProblem):
                    batch.skipped.append(
                        SkippedItem(
                            stream=self.name,
                            item=f"{item.file}, ligne {item.line}",
                            reason=f"{item.field}: {item.message}",
                            code="invalid_record",
                        )
                    )
                else:
                    batch.records.append(
                        self.connector.record(
                            item.data,
                            source_id=item.source_id,
                            effective_at=item.effective_at,
                            source_url=item.source_url,
                        )
                    )
                if len(batch.records) >= batch_size:
                    progress[path.name] = [*fingerprint, line, 0]
                    batch.cursor = orjson.dumps(progress).decode()
                    yield batch
                    batch = Batch()
            progress[path.name] = [*fingerprint, 0, 1]
            batch.cursor = orjson.dumps(progress).decode()
            yield batch


class JsonlConnector(Connector):
    kind: ClassVar[str] = "jsonl"
    version: ClassVar[str] = __version__

    @property
    def options(self) -> JsonlOptions:
        return validate_options(self.context.source, JsonlOptions)

    def _root(self) -> Path:
        if not self.context.source.path:
            raise PermanentError(MSG_NO_PATH(source=self.context.source.id), code="no_path")
        return Path(self.context.source.path)

    def files(self) -> list[Path]:
        root = self._root()
        if root.is_file():
            return [root]
        if root.is_dir():
            return sorted(root.glob("*.jsonl"))
        raise PermanentError(MSG_NOT_FOUND(path=root), code="not_found")

    def streams(self) -> Sequence[Stream]:
        return [RecordsStream(self)]

    async def check(self) -> CheckReport:
        report = CheckReport(source=self.context.source.id, kind=self.kind)
        try:
            self.options  # noqa: B018 - validates the options
            files = self.files()
        except PermanentError as exc:
            report.add(CheckStatus.ERROR, exc.code, exc.message)
            return report
        report.add(CheckStatus.OK, "files", MSG_FILES(count=len(files)))
        return report
