"""Trainer documents: parse rate per format, then a folder sync and a re-sync.

Builds a folder of N trainer documents (a quarter each: Europass XML, JSON
Resume, Open Badges 2.0 with a salted-hash recipient, text PDF), then measures:

- ``parse <format>``: ``parse_document`` alone, documents per second;
- ``first sync``: the cv connector into a SQLite store (parse, identity, upsert);
- ``re-sync``: the same folder again (every file unchanged: hash and skip).

Usage::

    python -m bench.cv [--quick] [--documents 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import orjson
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from bench.common import measure, print_table
from preuve.config.settings import SourceConfig, TenantConfig
from preuve.connectors.cv import parse_document
from preuve.connectors.registry import build_connector
from preuve.store import open_store
from preuve.sync.runner import sync_connector

TENANT = TenantConfig(id="bench", name="Bench")


def _email(n: int) -> str:
    return f"formateur{n}@exemple.fr"


def europass(n: int) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<SkillsPassport xmlns="http://europass.cedefop.europa.eu/Europass" locale="fr">
<DocumentInfo><LastUpdateDate>2025-0{1 + n % 9}-15T10:00:00Z</LastUpdateDate>
<XSDVersion>V3.4</XSDVersion></DocumentInfo>
<LearnerInfo><Identification><PersonName><FirstName>F{n}</FirstName><Surname>T</Surname>
</PersonName><ContactInfo><Email><Contact>{_email(n)}</Contact></Email></ContactInfo>
</Identification>
<WorkExperienceList><WorkExperience><Period><From year="{2000 + n % 20}"/>
<Current>true</Current></Period><Position><Label>Formateur bureautique</Label></Position>
<Employer><Name>OF {n}</Name></Employer></WorkExperience></WorkExperienceList>
<EducationList><Education><Period><From year="1998"/><To year="2000" month="--06"/></Period>
<Title>Master formation {n}</Title><Organisation><Name>Université</Name></Organisation>
<Level><Code>7</Code></Level></Education></EducationList>
<AchievementList><Achievement><Title><Code>courses</Code></Title>
<Description>Classe virtuelle, 03/2025, 14 h</Description></Achievement></AchievementList>
</LearnerInfo></SkillsPassport>""".encode()


def resume(n: int) -> bytes:
    return orjson.dumps(
        {
            "basics": {"name": f"R{n}", "email": _email(n)},
            "work": [{"name": "OF", "position": "Formatrice web", "startDate": "2018-02"}],
            "education": [{"institution": "U", "area": "Informatique", "endDate": "2016"}],
            "certificates": [{"name": "Cloud", "date": "2025-03-10", "issuer": "AWS"}],
        }
    )


def badge(n: int) -> bytes:
    salt = f"s{n}"
    digest = hashlib.sha256((_email(n) + salt).encode()).hexdigest()
    return orjson.dumps(
        {
            "@context": "https://w3id.org/openbadges/v2",
            "type": "Assertion",
            "recipient": {
                "type": "email",
                "hashed": True,
                "salt": salt,
                "identity": f"sha256${digest}",
            },
            "issuedOn": "2025-04-02T09:00:00Z",
            "badge": {"type": "BadgeClass", "name": "Accessibilité", "issuer": {"name": "X"}},
        }
    )


def pdf(n: int) -> bytes:
    lines = [
        f"Formateur {n}",
        _email(n),
        "Diplômes",
        "2008 Master Ingénierie de la formation, Université Lyon 2",
        "Expérience professionnelle",
        "2016 - aujourd'hui Formateur bureautique, OF",
        "Formation continue",
        "03/2025 Classe virtuelle, Cnam (14 h)",
    ]
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
    )
    ops = [b"BT", b"/F1 10 Tf", b"14 TL", b"40 800 Td"]
    ops.extend(b"(" + line.encode("cp1252") + b") Tj T*" for line in lines)
    ops.append(b"ET")
    content = DecodedStreamObject()
    content.set_data(b"\n".join(ops))
    page.replace_contents(content)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


FORMATS: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "europass-xml": (".xml", europass),
    "jsonresume": (".json", resume),
    "openbadges-2.0": (".json", badge),
    "pdf": (".pdf", pdf),
}


def build_folder(root: Path, count: int) -> dict[str, str]:
    trainers: dict[str, str] = {}
    names = list(FORMATS)
    for n in range(count):
        name = names[n % len(names)]
        suffix, make = FORMATS[name]
        trainer = n // len(names)  # one folder per trainer, one document of each format
        folder = root / f"t{trainer:05d}"
        folder.mkdir(exist_ok=True)
        (folder / f"{name}{suffix}").write_bytes(make(trainer))
        trainers[f"t{trainer:05d}/"] = _email(trainer)
    return trainers


def bench_parse(count: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for name, (suffix, make) in FORMATS.items():
        docs = [make(n) for n in range(count)]
        start = time.perf_counter()
        for data in docs:
            parse_document(data, name="doc" + suffix)
        elapsed = time.perf_counter() - start
        rows.append([f"parse {name}", count, f"{elapsed:.3f}", f"{count / elapsed:,.0f}", "-", "-"])
    return rows


async def bench_sync(count: int) -> list[list[object]]:
    rows: list[list[object]] = []
    with TemporaryDirectory() as tmp:
        root = Path(tmp) / "cv"
        root.mkdir()
        trainers = build_folder(root, count)
        store = await open_store(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        try:
            source = SourceConfig(
                id="cv", kind="cv", path=str(root), options={"trainers": trainers}
            )
            for label in ("first sync", "re-sync"):
                with measure(trace_memory=False) as m:  # tracing would double the time
                    async with build_connector(TENANT, source) as connector:
                        outcome = await sync_connector(store, connector)
                totals = outcome.totals
                rows.append(
                    [
                        label,
                        count,
                        f"{m.seconds:.3f}",
                        f"{count / m.seconds:,.0f}",
                        totals.inserted + totals.updated,
                        f"{m.max_rss_mb:.0f}",
                    ]
                )
                assert outcome.status.value == "succeeded", outcome.errors
        finally:
            await store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 documents")
    parser.add_argument("--documents", type=int, default=2000)
    args = parser.parse_args()
    count = 200 if args.quick else args.documents
    rows = bench_parse(max(count // 4, 50))
    rows.extend(asyncio.run(bench_sync(count)))
    print_table(
        f"cv connector ({count} documents in the folder)",
        ["phase", "documents", "seconds", "docs/s", "records written", "max RSS MB"],
        rows,
    )


if __name__ == "__main__":
    main()
