"""The ``cv`` source: a folder of trainer documents per tenant (or a single file).

The one stream, ``documents``, reads every supported file under ``source.path``
(sorted, hidden files ignored) and turns each into evidence for its trainer.
Its cursor remembers, per file, the SHA-256 read and the entries produced, so an
unchanged file costs one hash, a changed file replaces its entries (entries
that disappeared are withdrawn) and a deleted file has its entries withdrawn.
A file that cannot be read is reported and left out of the cursor: the next sync
tries it again, and its earlier entries (if any) stay as they were.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson
from pydantic import ValidationError

from preuve import __version__
from preuve.config.settings import describe_validation_error
from preuve.connectors.base import (
    Batch,
    CheckReport,
    CheckStatus,
    Connector,
    ConnectorContext,
    Stream,
    validate_options,
)
from preuve.connectors.cv.constants import MAX_DOCUMENT_BYTES, STREAM_NAME, SUPPORTED_SUFFIXES
from preuve.connectors.cv.dates import partial_date
from preuve.connectors.cv.document import CvFormatError
from preuve.connectors.cv.identity import resolve_owner
from preuve.connectors.cv.options import CvOptions, mapped_email
from preuve.connectors.cv.parse import MSG_TOO_BIG, parse_document
from preuve.connectors.cv.records import Payload, document_key, document_ref, payloads
from preuve.connectors.errors import PermanentError, SkippedItem
from preuve.evidence.model import PartialDate, Withdrawal
from preuve.i18n import Text

MSG_NO_PATH = Text(
    fr="la source {source} n'a pas de dossier (clé path)",
    en="source {source} has no folder (key path)",
)
MSG_NOT_FOUND = Text(fr="dossier introuvable : {path}", en="folder not found: {path}")
MSG_FILES = Text(
    fr="{count} {count:document de formateur|documents de formateurs} à lire dans {path}",
    en="{count} trainer {count:document|documents} to read in {path}",
)
MSG_UNSUPPORTED = Text(
    fr="{count} {count:fichier|fichiers} d'un format non lu (formats lus : {known})",
    en="{count} {count:file|files} in a format that is not read (formats read: {known})",
)
MSG_NO_MAPPING = Text(
    fr="aucune correspondance fichier -> e-mail (options.trainers) : seuls les documents "
    "portant l'e-mail du formateur seront attribués",
    en="no file -> e-mail mapping (options.trainers): only documents holding the trainer's "
    "e-mail will be attributed",
)
MSG_UNREADABLE_FILE = Text(fr="fichier illisible : {error}", en="unreadable file: {error}")
MSG_INVALID = Text(fr="valeur refusée : {error}", en="value refused: {error}")
MSG_GONE = Text(fr="document supprimé du dossier", en="document removed from the folder")
MSG_REPLACED = Text(
    fr="entrée absente du document modifié", en="entry gone from the changed document"
)

CURSOR_VERSION = 1


@dataclass(slots=True)
class FileState:
    """What the cursor remembers of one file: its hash and the entries it gave."""

    sha: str
    person: str
    ids: list[tuple[str, str]]
    named: bool = False
    config: str = ""  # fingerprint of what else decided the entries (mapping, version)

    def as_json(self) -> dict[str, Any]:
        return {
            "sha": self.sha,
            "p": self.person,
            "ids": self.ids,
            "named": self.named,
            "cfg": self.config,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> FileState:
        return cls(
            sha=str(value["sha"]),
            person=str(value["p"]),
            ids=[(str(kind), str(sid)) for kind, sid in value.get("ids", [])],
            named=bool(value.get("named", False)),
            config=str(value.get("cfg", "")),
        )


@dataclass(slots=True)
class CursorState:
    files: dict[str, FileState] = field(default_factory=dict)

    @classmethod
    def load(cls, cursor: str | None) -> CursorState:
        if not cursor:
            return cls()
        try:
            value = orjson.loads(cursor)
            files = value["files"] if value.get("v") == CURSOR_VERSION else {}
            return cls({rel: FileState.from_json(item) for rel, item in files.items()})
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            return cls()  # an unreadable cursor means: read everything again (upsert is safe)

    def dump(self) -> str:
        files = {rel: state.as_json() for rel, state in sorted(self.files.items())}
        return orjson.dumps({"v": CURSOR_VERSION, "files": files}).decode()

    def named_elsewhere(self, person: str, relative: str) -> bool:
        return any(
            s.named and s.person == person for rel, s in self.files.items() if rel != relative
        )


@dataclass(frozen=True, slots=True)
class Document:
    """One document to read: its name relative to the source and how to get it."""

    relative: str
    path: Path | None = None
    content: bytes | None = None
    uri: str | None = None

    def read(self) -> bytes:
        if self.content is not None:
            return self.content
        assert self.path is not None
        size = self.path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            # Refused before it is loaded: a huge file must not fill the memory.
            raise CvFormatError(MSG_TOO_BIG(size=size, limit=MAX_DOCUMENT_BYTES), code="too_big")
        return self.path.read_bytes()

    def modified(self) -> PartialDate | None:
        """The file's modification day: the CV date when the document gives none."""
        if self.path is None:
            return None
        stamp = datetime.fromtimestamp(self.path.stat().st_mtime, UTC)
        return partial_date(stamp.year, stamp.month, stamp.day)


def _unsupported(path: Path) -> bool:
    return path.suffix.lower() not in SUPPORTED_SUFFIXES


class DocumentsStream(Stream):
    name = STREAM_NAME

    def __init__(self, connector: CvConnector) -> None:
        self.connector = connector

    def _records_for(
        self, doc: Document, data: bytes, state: CursorState | None
    ) -> tuple[list[Payload], FileState]:
        connector = self.connector
        options = connector.options
        parsed = parse_document(data, name=doc.relative)
        configured = mapped_email(options, doc.relative)
        owner = resolve_owner(
            parsed,
            configured=configured,
            options=options,
            pseudonymiser=connector.context.pseudonymiser,
            source=connector.context.source.id,
        )
        uri = connector.keep(data, doc)
        ref = document_ref(uri, data, parsed.format, doc.relative)
        named = parsed.is_cv and parsed.display_name is not None
        # The Person (role trainer) comes from CVs; a badge only adds CPD. A nameless
        # CV (a bare PDF) must not blank the name another CV of the trainer gave.
        with_person = parsed.is_cv and (
            named or state is None or not state.named_elsewhere(owner.person_ref, doc.relative)
        )
        built = payloads(
            parsed,
            person_ref=owner.person_ref,
            key=document_key(owner.person_ref, doc.relative),
            document=ref,
            fallback_updated=doc.modified() or partial_date(*connector.today()),
            with_person=with_person,
        )
        sha = hashlib.sha256(data).hexdigest()
        # The Person record is shared by every document of a trainer: never withdrawn here.
        ids: list[tuple[str, str]] = [
            (p.data.kind, p.source_id) for p in built if p.data.kind != "person"
        ]
        return built, FileState(
            sha=sha,
            person=owner.person_ref,
            ids=ids,
            named=named,
            config=connector.fingerprint(doc.relative),
        )

    async def read(self, cursor: str | None) -> AsyncIterator[Batch]:
        connector = self.connector
        batch_files = connector.options.batch_files  # a bad option fails before any read
        tracked = connector.tracks_folder()
        state = CursorState.load(cursor) if tracked else None
        documents = connector.documents()
        batch = Batch()
        if state is not None:
            present = {doc.relative for doc in documents}
            for relative in [rel for rel in state.files if rel not in present]:
                gone = state.files.pop(relative)
                batch.withdrawals.extend(
                    Withdrawal(kind=kind, source_id=sid, reason=MSG_GONE(), at=connector.now())
                    for kind, sid in gone.ids
                )
        done = 0
        for doc in documents:
            try:
                data = doc.read()
            except OSError as exc:
                batch.skipped.append(
                    SkippedItem(
                        self.name, doc.relative, MSG_UNREADABLE_FILE(error=exc), "unreadable"
                    )
                )
                continue
            except CvFormatError as exc:
                batch.skipped.append(SkippedItem(self.name, doc.relative, exc.reason, exc.code))
                continue
            previous = state.files.get(doc.relative) if state is not None else None
            if (
                previous is not None
                and previous.sha == hashlib.sha256(data).hexdigest()
                and previous.config == connector.fingerprint(doc.relative)
            ):
                continue  # same bytes, same mapping, same parser: nothing can have changed
            try:
                built, file_state = self._records_for(doc, data, state)
                records = [
                    connector.record(p.data, source_id=p.source_id, effective_at=p.effective_at)
                    for p in built
                ]
            except CvFormatError as exc:
                batch.skipped.append(SkippedItem(self.name, doc.relative, exc.reason, exc.code))
                continue
            except ValidationError as exc:
                # A value the model refuses: this document is reported, the others go on.
                reason = MSG_INVALID(error="; ".join(describe_validation_error(exc)))
                batch.skipped.append(SkippedItem(self.name, doc.relative, reason, "invalid_value"))
                continue
            batch.records.extend(records)
            if previous is not None:
                kept = set(file_state.ids)
                batch.withdrawals.extend(
                    Withdrawal(kind=kind, source_id=sid, reason=MSG_REPLACED(), at=connector.now())
                    for kind, sid in previous.ids
                    if (kind, sid) not in kept
                )
            if state is not None:
                state.files[doc.relative] = file_state
            done += 1
            if done % batch_files == 0:
                batch.cursor = state.dump() if state is not None else None
                yield batch
                batch = Batch()
        if batch.records or batch.withdrawals or batch.skipped or state is not None:
            batch.cursor = state.dump() if state is not None else None
            yield batch


class CvConnector(Connector):
    """Trainer CVs, qualifications and continuing development (indicators 21 and 22)."""

    kind: ClassVar[str] = "cv"
    version: ClassVar[str] = __version__

    def __init__(
        self, context: ConnectorContext, *, uploads: Sequence[tuple[str, bytes]] = ()
    ) -> None:
        super().__init__(context)
        self._options: CvOptions | None = None
        # Documents handed over in memory (web upload): read instead of the folder.
        self._uploads = [
            Document(relative=name, content=data, uri=f"upload:{name}") for name, data in uploads
        ]

    @property
    def options(self) -> CvOptions:
        """The source options, validated on first use (a bad one fails the run, named)."""
        if self._options is None:
            self._options = validate_options(self.context.source, CvOptions)
        return self._options

    def now(self) -> datetime:
        return self.context.clock()

    def today(self) -> tuple[int, int, int]:
        now = self.now()
        return now.year, now.month, now.day

    def _root(self) -> Path:
        if not self.context.source.path:
            raise PermanentError(MSG_NO_PATH(source=self.context.source.id), code="no_path")
        root = Path(self.context.source.path)
        if not root.exists():
            raise PermanentError(MSG_NOT_FOUND(path=root), code="not_found")
        return root

    def tracks_folder(self) -> bool:
        """Only a scanned folder has a cursor; a single file or an upload is read each time."""
        return not self._uploads and self._root().is_dir()

    def _files(self) -> list[Path]:
        root = self._root()
        if root.is_file():
            return [root]
        return sorted(
            p
            for p in root.rglob("*")
            if p.is_file()
            and not p.is_symlink()
            and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )

    def documents(self) -> list[Document]:
        if self._uploads:
            return list(self._uploads)
        root = self._root()
        if root.is_file():
            return [Document(relative=root.name, path=root)]
        return [Document(relative=p.relative_to(root).as_posix(), path=p) for p in self._files()]

    def fingerprint(self, relative: str) -> str:
        """What, besides the bytes, decides a file's entries: a change means read it again.

        The trainer mapped to the file, the e-mails a badge is checked against, the
        copy folder and the connector version (a better parser re-reads old files).
        """
        options = self.options
        basis = [
            self.version,
            mapped_email(options, relative),
            sorted(set(options.trainers.values())),
            options.person_ref,
            options.copy_documents_to,
        ]
        return hashlib.sha256(orjson.dumps(basis)).hexdigest()[:16]

    def keep(self, data: bytes, doc: Document) -> str:
        """Where the document is referenced from: in place, or a copy when configured."""
        target_dir = self.options.copy_documents_to
        if target_dir:
            digest = hashlib.sha256(data).hexdigest()
            target = Path(target_dir) / (digest + Path(doc.relative).suffix.lower())
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                if doc.path is not None:
                    shutil.copyfile(doc.path, target)
                else:
                    target.write_bytes(data)
            return str(target)
        if doc.uri is not None:
            return doc.uri
        assert doc.path is not None
        return str(doc.path.resolve())

    def streams(self) -> Sequence[Stream]:
        return [DocumentsStream(self)]

    async def check(self) -> CheckReport:
        report = CheckReport(source=self.context.source.id, kind=self.kind)
        try:
            options = self.options
            root = self._root()
            files = self._files()
        except PermanentError as exc:
            report.add(CheckStatus.ERROR, exc.code, exc.message)
            return report
        readable = [p for p in files if not _unsupported(p)]
        report.add(CheckStatus.OK, "files", MSG_FILES(count=len(readable), path=root))
        others = len(files) - len(readable)
        if others:
            report.add(
                CheckStatus.WARNING,
                "unsupported_files",
                MSG_UNSUPPORTED(count=others, known=", ".join(SUPPORTED_SUFFIXES)),
            )
        if not options.trainers and not options.email and root.is_dir():
            report.add(CheckStatus.WARNING, "no_mapping", MSG_NO_MAPPING())
        report.details = {"documents": len(readable), "mapped": len(options.trainers)}
        return report
