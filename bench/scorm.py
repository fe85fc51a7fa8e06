"""SCORM readers: tracking-export throughput and memory, large-manifest parsing.

- ``export parse``: a Moodle SCORM report (tab-separated, French, 3 SCO columns)
  read into normalised attempts (``read_tracking_export``), rows per second;
- ``export -> evidence``: the same plus pseudonymous person keys and the
  evidence records the connector commits (Completion, Assessment, ActivityTrace),
  on a tenth of the rows (record validation dominates; the store's upsert more so);
- peak Python heap of each, at N and 10 x N rows (flat = streaming);
- ``manifest``: an ``imsmanifest.xml`` with 10,000 ``<file>`` entries.

Timings (wall and CPU: on a shared machine wall time also counts other
processes) are taken without tracemalloc; memory in a second, traced pass. Usage::

    python -m bench.scorm [--quick] [--rows 20000,200000] [--files 10000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

from bench.common import measure, print_table
from preuve.config.settings import SourceConfig
from preuve.connectors.base import ConnectorContext
from preuve.connectors.scorm import ScormConnector, parse_manifest, read_tracking_export
from preuve.connectors.scorm.evidence import attempt_evidence
from preuve.connectors.scorm.tracking import TrackedAttempt
from preuve.evidence.identity import Pseudonymiser

ZONE = ZoneInfo("Europe/Paris")
HEADER = (
    '"Nom"\t"Adresse de courriel"\t"Tentative"\t"Commencé le"\t"Dernier accès le"\t"Note"\t'
    '"Module 1"\t"Module 2"\t"Quiz final"\n'
)
STATUSES = ("Terminé", "Incomplet", "Réussi", "Échoué", "Non tenté")


def write_export(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(rows):
            # Dates vary per row (day, hour, minute) as in a real report: no cache hides parsing.
            day, hour, minute = 1 + n % 28, 8 + (n // 28) % 10, (n // 7) % 60
            out.write(
                f'"Apprenant {n}"\tlearner{n}@example.org\t{1 + n % 3}\t'
                f'"lundi {day} novembre 2026, {hour:02d}:{minute:02d}"\t'
                f'"lundi {day} novembre 2026, {hour + 1:02d}:{minute:02d}"\t{n % 100}\t'
                f"{STATUSES[n % 5]}\t{STATUSES[(n + 1) % 5]}\t{n % 100}/100\n"
            )


def write_manifest(path: Path, files: int) -> None:
    entries = "\n".join(f'      <file href="assets/f{n:05d}.png"/>' for n in range(files))
    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="bench" version="1" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>Bench</title>
    <item identifier="i" identifierref="r"><title>SCO</title></item>
  </organization></organizations>
  <resources>
    <resource identifier="r" type="webcontent" adlcp:scormType="sco" href="index.html">
{entries}
    </resource>
  </resources>
</manifest>
""",
        encoding="utf-8",
    )


def parse_only(path: Path) -> int:
    return sum(1 for _ in read_tracking_export(path, zone=ZONE))


def to_evidence(path: Path) -> int:
    connector = ScormConnector(
        ConnectorContext(
            tenant="bench",
            source=SourceConfig(id="bench", kind="scorm"),
            pseudonymiser=Pseudonymiser(b"bench"),
            clock=lambda: datetime(2026, 11, 30, tzinfo=UTC),
        )
    )
    pseudo = connector.context.pseudonymiser
    records = 0
    for item in read_tracking_export(path, zone=ZONE):
        if not isinstance(item, TrackedAttempt):
            continue
        person = pseudo.person_key(source="bench", email=item.email, user_id=item.user_id)
        for draft in attempt_evidence(
            item, action_ref="moodle:1", course_key="bench", person_ref=person
        ):
            connector.record(draft.data, source_id=draft.source_id, effective_at=draft.effective_at)
            records += 1
    return records


def run(label: str, call: Callable[[Path], int], path: Path, rows: int) -> list[object]:
    # CPU time too: on a shared machine wall time also counts other processes' turns.
    start, cpu_start = time.perf_counter(), time.process_time()
    produced = call(path)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    with measure() as traced:
        call(path)
    return [
        label,
        rows,
        produced,
        seconds,
        rows / seconds,
        cpu,
        rows / cpu,
        traced.peak_heap_mb,
        traced.max_rss_mb,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2k and 20k rows, 1,000 files")
    parser.add_argument("--rows", default="20000,200000")
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    sizes = [2_000, 20_000] if args.quick else [int(s) for s in args.rows.split(",")]
    files = 1_000 if args.quick else args.files
    with TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table: list[list[object]] = []
        for rows in sizes:
            path = folder / f"rapport-{rows}.txt"
            write_export(path, rows)
            table.append(run("export parse", parse_only, path, rows))
        # Building validated evidence records (pydantic) costs ~10x parsing: a tenth of the rows.
        for rows in sizes:
            small = max(rows // 10, 1)
            path = folder / f"rapport-{small}.txt"
            if not path.exists():
                write_export(path, small)
            table.append(run("export -> evidence", to_evidence, path, small))
        print_table(
            "SCORM tracking export (Moodle report, 3 SCOs per row)",
            [
                "phase",
                "rows",
                "items",
                "wall s",
                "rows/s wall",
                "CPU s",
                "rows/s CPU",
                "peak heap MB",
                "max RSS MB",
            ],
            table,
        )
        manifest = folder / "imsmanifest.xml"
        write_manifest(manifest, files)
        data = manifest.read_bytes()
        start, cpu_start = time.perf_counter(), time.process_time()
        course = parse_manifest(data)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        with measure() as traced:
            parse_manifest(data)
        assert course.file_count == files
        print_table(
            "SCORM manifest",
            ["file entries", "bytes", "wall s", "CPU s", "entries/s CPU", "peak heap MB"],
            [[files, len(data), seconds, cpu, files / cpu, traced.peak_heap_mb]],
        )


if __name__ == "__main__":
    main()
