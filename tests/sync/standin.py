"""A JSON Lines source with LMS-like latency, for the sync tests and benchmark.

Replaces the ``jsonl`` kind through ``[sync] connector_classes`` (in worker
subprocesses: ``PREUVE_SYNC__CONNECTOR_CLASSES``). It reads one file in batches
of ``batch_size`` lines, sleeps ``batch_delay`` seconds before each batch (a slow
LMS page), and commits a line-number cursor with every batch, so an interrupted
sync resumes after the last committed line.

``transient_failures_file``: a file holding a number; while it is above zero,
each read decrements it and raises a TransientError (a flaky LMS), which works
across processes and retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import ClassVar

import orjson

from preuve.connectors.base import Batch, CheckReport, CheckStatus, Connector, Stream
from preuve.connectors.errors import PermanentError, SkippedItem, TransientError
from preuve.evidence.jsonl import JsonlProblem, read_jsonl

TARGET = "tests.sync.standin:SlowJsonlConnector"


class SlowRecords(Stream):
    name = "records"

    def __init__(self, connector: SlowJsonlConnector) -> None:
        self.connector = connector

    async def read(self, cursor: str | None) -> AsyncIterator[Batch]:
        options = self.connector.context.source.options
        size = int(options.get("batch_size", 10))
        delay = float(options.get("batch_delay", 0.0))
        self.connector.maybe_fail()
        path = self.connector.path()
        batch = Batch()
        last = int(cursor) if cursor else 0
        for number, item in read_jsonl(path, after_line=last):
            last = number
            if isinstance(item, JsonlProblem):
                batch.skipped.append(
                    SkippedItem(self.name, f"{item.file}, ligne {item.line}", item.message)
                )
            else:
                batch.records.append(
                    self.connector.record(
                        item.data, source_id=item.source_id, effective_at=item.effective_at
                    )
                )
            if len(batch.records) + len(batch.skipped) >= size:
                await asyncio.sleep(delay)
                batch.cursor = str(last)
                yield batch
                batch = Batch()
        if batch.records or batch.skipped:
            await asyncio.sleep(delay)
            batch.cursor = str(last)
            yield batch


class SlowJsonlConnector(Connector):
    kind: ClassVar[str] = "jsonl"
    version: ClassVar[str] = "standin-1"

    def path(self) -> Path:
        path = Path(self.context.source.path or "")
        if not path.is_file():
            raise PermanentError(f"introuvable : {path}", code="not_found")
        return path

    def maybe_fail(self) -> None:
        counter = self.context.source.options.get("transient_failures_file")
        if not counter:
            return
        file = Path(counter)
        left = int(file.read_text() or "0")
        if left > 0:
            file.write_text(str(left - 1))
            raise TransientError("LMS indisponible (503)", code="http_503", retry_after=0.0)

    def streams(self) -> Sequence[Stream]:
        return [SlowRecords(self)]

    async def check(self) -> CheckReport:
        report = CheckReport(source=self.context.source.id, kind=self.kind)
        report.add(CheckStatus.OK, "standin", "stand-in")
        return report


def write_records(path: Path, count: int, *, prefix: str = "enr") -> Path:
    """``count`` enrolment lines (fictitious people) in a JSON Lines file."""
    lines = [
        orjson.dumps(
            {
                "source_id": f"{prefix}-{n}",
                "data": {"kind": "enrolment", "action_ref": f"A{n % 3}", "person_ref": f"p_{n}"},
            }
        ).decode()
        for n in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
