"""A source made of JSON Lines files (``preuve import`` and hand-made data)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import ClassVar

from preuve import __version__
from preuve.connectors.base import Batch, CheckReport, CheckStatus, Connector, Stream
from preuve.connectors.errors import PermanentError, SkippedItem
from preuve.constants import DEFAULT_BATCH_SIZE
from preuve.evidence.jsonl import JsonlProblem, read_jsonl
from preuve.i18n import Text

MSG_NO_PATH = Text(
    fr="la source {source} n'a pas de chemin (clé path)",
    en="source {source} has no path (key path)",
)
MSG_NOT_FOUND = Text(fr="introuvable : {path}", en="not found: {path}")
MSG_FILES = Text(fr="{count} fichier(s) JSON Lines à lire", en="{count} JSON Lines file(s) to read")


class RecordsStream(Stream):
    name = "records"

    def __init__(self, connector: JsonlConnector) -> None:
        self.connector = connector

    async def read(self, cursor: str | None) -> AsyncIterator[Batch]:
        batch = Batch()
        for path in self.connector.files():
            for item in read_jsonl(path):
                if isinstance(item, JsonlProblem):
                    batch.skipped.append(
                        SkippedItem(
                            stream=self.name,
                            item=f"{item.file}, ligne {item.line}",
                            reason=f"{item.field}: {item.message}",
                            code="invalid_record",
                        )
                    )
                    continue
                batch.records.append(
                    self.connector.record(
                        item.data,
                        source_id=item.source_id,
                        effective_at=item.effective_at,
                        source_url=item.source_url,
                    )
                )
                if len(batch.records) >= DEFAULT_BATCH_SIZE:
                    yield batch
                    batch = Batch()
        if batch.records or batch.skipped:
            yield batch


class JsonlConnector(Connector):
    kind: ClassVar[str] = "jsonl"
    version: ClassVar[str] = __version__

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
            files = self.files()
        except PermanentError as exc:
            report.add(CheckStatus.ERROR, exc.code, exc.message)
            return report
        report.add(CheckStatus.OK, "files", MSG_FILES(count=len(files)))
        return report
