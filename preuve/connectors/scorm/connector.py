"""The ``scorm`` source: a folder of packages and tracking exports (or files given by hand).

Streams: ``packages`` (zip files and unzipped folders) then ``tracking``
(Moodle report downloads, SCORM Cloud JSON/XML). Each unreadable file is
reported as a skipped item naming the file and the place in it; the other files
of the run are still imported. The cursor remembers, per file, its size and
modification time once it was read without any problem, so an unchanged file is
not read again; a file with problems is read again at the next sync.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from preuve import __version__
from preuve.config.settings import describe_validation_error
from preuve.connectors.base import (
    Batch,
    CheckReport,
    CheckStatus,
    Connector,
    Stream,
    validate_options,
)
from preuve.connectors.errors import PermanentError, SkippedItem
from preuve.connectors.scorm.constants import (
    CONNECTOR_KIND,
    DEFAULT_TIMEZONE,
    JSON_EXPORT_SUFFIXES,
    MANIFEST_NAME,
    PACKAGE_SUFFIXES,
    STREAM_PACKAGES,
    STREAM_TRACKING,
    TEXT_EXPORT_SUFFIXES,
    XML_EXPORT_SUFFIXES,
)
from preuve.connectors.scorm.errors import ScormError
from preuve.connectors.scorm.evidence import (
    Draft,
    attempt_evidence,
    package_evidence,
    package_key,
    package_ref,
)
from preuve.connectors.scorm.moodle_report import read_moodle_report
from preuve.connectors.scorm.package import read_folder_package, read_package
from preuve.connectors.scorm.scorm_cloud import check_json_size, read_cloud_json, read_cloud_xml
from preuve.connectors.scorm.tracking import TrackedAttempt, TrackingProblem
from preuve.constants import DEFAULT_BATCH_SIZE
from preuve.evidence.model import AssessmentKind
from preuve.i18n import Text

MSG_NO_PATH = Text(
    fr="la source {source} n'a pas de dossier (clé path) ni de fichiers",
    en="source {source} has no folder (key path) and no files",
)
MSG_NOT_FOUND = Text(fr="introuvable : {path}", en="not found: {path}")
MSG_FILES = Text(
    fr="{packages} {packages:paquet|paquets} SCORM et {exports} {exports:export|exports} de "
    "suivi à lire",
    en="{packages} SCORM {packages:package|packages} and {exports} tracking "
    "{exports:export|exports} to read",
)
MSG_NONE = Text(
    fr="aucun paquet SCORM (.zip, dossier avec imsmanifest.xml) ni export de suivi (.txt, "
    ".tsv, .csv, .json, .xml) dans {path}",
    en="no SCORM package (.zip, folder with imsmanifest.xml) or tracking export (.txt, .tsv, "
    ".csv, .json, .xml) in {path}",
)
MSG_UNKNOWN_XML = Text(
    fr="XML non reconnu : rapport SCORM Cloud attendu (un manifeste doit s'appeler "
    "imsmanifest.xml, dans son paquet)",
    en="unrecognised XML: expected a SCORM Cloud report (a manifest must be named "
    "imsmanifest.xml, inside its package)",
)
MSG_UNREADABLE = Text(fr="fichier illisible : {error}", en="unreadable file: {error}")
MSG_INVALID = Text(fr="valeur refusée : {error}", en="value refused: {error}")
MSG_WARNING = Text(fr="avertissement : {message}", en="warning: {message}")

log = logging.getLogger(__name__)

_KEY_CHARS = re.compile(r"[^A-Za-z0-9_.:-]+")


class ScormOptions(BaseModel):
    """``[tenants.sources.options]`` of a ``scorm`` source (docs/scorm.md)."""

    model_config = ConfigDict(extra="forbid")

    action_ref: str | None = Field(default=None, min_length=1)
    actions: dict[str, str] = Field(default_factory=dict, description="file glob -> action_ref")
    course_key: str | None = Field(default=None, min_length=1)
    timezone: str = DEFAULT_TIMEZONE
    strict: bool = False
    assessment_kind: AssessmentKind = AssessmentKind.FORMATIVE
    files: list[str] = Field(default_factory=list, description="explicit files (CLI, upload)")
    remember_files: bool = True
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=100_000)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


FileProgress = dict[str, list[int]]  # file name -> [size, mtime_ns]


def _load_cursor(cursor: str | None) -> FileProgress:
    if not cursor:
        return {}
    try:
        value = orjson.loads(cursor)
    except orjson.JSONDecodeError:
        return {}  # an unreadable cursor means: read everything again (upsert makes it harmless)
    return value if isinstance(value, dict) else {}


def _fingerprint(path: Path) -> list[int]:
    if path.is_dir():
        manifest = path / MANIFEST_NAME
        stat = manifest.stat() if manifest.is_file() else path.stat()
    else:
        stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def is_package(path: Path) -> bool:
    if path.is_dir():
        return True
    name = path.name.lower()
    return name.endswith(PACKAGE_SUFFIXES) or name == MANIFEST_NAME


def is_export(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(
        TEXT_EXPORT_SUFFIXES + JSON_EXPORT_SUFFIXES + XML_EXPORT_SUFFIXES
    )


def _sniff_xml(path: Path) -> str:
    with path.open("rb") as stream:
        head = stream.read(4096).lower()
    if b"<manifest" in head:
        return "manifest"
    if b"<rsp" in head or b"registrationreport" in head or b"<registration" in head:
        return "cloud"
    return "unknown"


def read_tracking_export(
    path: Path, *, zone: tzinfo, strict: bool = False, name: str | None = None
) -> Iterator[TrackedAttempt | TrackingProblem]:
    """Attempts of a tracking export, by format (from the extension, then the content)."""
    file = name or path.name
    lowered = path.name.lower()
    if lowered.endswith(TEXT_EXPORT_SUFFIXES):
        with path.open("rb") as stream:
            yield from read_moodle_report(stream, file=file, zone=zone, strict=strict)
    elif lowered.endswith(JSON_EXPORT_SUFFIXES):
        check_json_size(path.stat().st_size, file)  # before the file is loaded
        yield from read_cloud_json(path.read_bytes(), file=file, zone=zone)
    elif _sniff_xml(path) == "cloud":
        with path.open("rb") as stream:
            yield from read_cloud_xml(stream, file=file, zone=zone)
    else:
        raise ScormError(file, MSG_UNKNOWN_XML(), code="unknown_format")


class _FileStream(Stream):
    def __init__(self, connector: ScormConnector) -> None:
        self.connector = connector

    def skipped(self, item: str, reason: str, code: str) -> SkippedItem:
        return SkippedItem(stream=self.name, item=item, reason=reason, code=code)

    def files(self) -> list[Path]:
        raise NotImplementedError

    def drafts(self, path: Path, batch: Batch) -> Iterator[Draft]:
        raise NotImplementedError

    async def read(self, cursor: str | None) -> AsyncIterator[Batch]:
        options = self.connector.options
        progress = _load_cursor(cursor) if options.remember_files else {}
        for path in self.files():
            fingerprint = _fingerprint(path)
            if progress.get(path.name) == fingerprint:
                continue  # read before without any problem, unchanged since
            batch = Batch()
            problems = 0
            try:
                for draft in self.drafts(path, batch):
                    try:
                        batch.records.append(
                            self.connector.record(
                                draft.data,
                                source_id=draft.source_id,
                                effective_at=draft.effective_at,
                            )
                        )
                    except ValidationError as exc:
                        batch.skipped.append(
                            self.skipped(
                                f"{path.name}, {draft.where}" if draft.where else path.name,
                                MSG_INVALID(error="; ".join(describe_validation_error(exc))),
                                "invalid_value",
                            )
                        )
                    if len(batch.records) >= options.batch_size:
                        problems += len(batch.skipped)
                        yield batch
                        batch = Batch()
            except ScormError as exc:
                batch.skipped.append(self.skipped(exc.item, str(exc), exc.code))
            except OSError as exc:
                # Unreadable on disk (permissions, removed meanwhile): this file only.
                reason = MSG_UNREADABLE(error=exc.strerror or type(exc).__name__)
                batch.skipped.append(self.skipped(path.name, reason, "unreadable"))
            problems += len(batch.skipped)
            if not problems and options.remember_files:
                # An explicit import (remember_files off) leaves the folder's cursor alone.
                progress[path.name] = fingerprint
                batch.cursor = orjson.dumps(progress).decode()
            yield batch


class PackagesStream(_FileStream):
    name = STREAM_PACKAGES

    def files(self) -> list[Path]:
        return [p for p in self.connector.files() if is_package(p)]

    def drafts(self, path: Path, batch: Batch) -> Iterator[Draft]:
        options = self.connector.options
        if path.name.lower() == MANIFEST_NAME:
            package = read_folder_package(path.parent, strict=options.strict, name=path.name)
        else:
            package = read_package(path, strict=options.strict)
        course = package.course
        for warning in course.warnings:
            # Repaired and imported: logged for the admin, the run is not partial for it.
            log.warning("%s: %s", path.name, MSG_WARNING(message=warning))
        configured = self.connector.action_for(path.name)
        key = package_key(course, path.name)
        action_ref = configured or package_ref(key)
        yield from package_evidence(course, action_ref, own_action=configured is None, key=key)


class TrackingStream(_FileStream):
    name = STREAM_TRACKING

    def files(self) -> list[Path]:
        return [p for p in self.connector.files() if not is_package(p) and is_export(p)]

    def drafts(self, path: Path, batch: Batch) -> Iterator[Draft]:
        connector = self.connector
        options = connector.options
        configured = connector.action_for(path.name)
        pseudonymiser = connector.context.pseudonymiser
        source = connector.context.source.id
        for item in read_tracking_export(path, zone=connector.zone, strict=options.strict):
            if isinstance(item, TrackingProblem):
                batch.skipped.append(
                    self.skipped(f"{path.name}, {item.location}", item.message, item.code)
                )
                continue
            for problem in item.result.problems:
                batch.skipped.append(
                    self.skipped(f"{path.name}, {item.location}", problem, "invalid_value")
                )
            course_key = (
                item.course_key
                or options.course_key
                or configured
                or _KEY_CHARS.sub("_", Path(path.name).stem)
            )
            action_ref = configured or f"scorm:{course_key}"
            person_ref = pseudonymiser.person_key(
                source=source, email=item.email, user_id=item.user_id
            )
            yield from attempt_evidence(
                item,
                action_ref=action_ref,
                course_key=course_key,
                person_ref=person_ref,
                assessment_kind=options.assessment_kind,
            )


class ScormConnector(Connector):
    kind: ClassVar[str] = CONNECTOR_KIND
    version: ClassVar[str] = __version__

    @property
    def options(self) -> ScormOptions:
        return validate_options(self.context.source, ScormOptions)

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.options.timezone)

    def action_for(self, file_name: str) -> str | None:
        options = self.options
        for pattern, action_ref in options.actions.items():
            if fnmatch.fnmatch(file_name, pattern):
                return action_ref
        return options.action_ref

    def files(self) -> list[Path]:
        """Packages and exports of the source, in name order (hidden files left out)."""
        options = self.options
        if options.files:
            missing = [f for f in options.files if not Path(f).exists()]
            if missing:
                raise PermanentError(MSG_NOT_FOUND(path=missing[0]), code="not_found")
            return [Path(f) for f in options.files]
        if not self.context.source.path:
            raise PermanentError(MSG_NO_PATH(source=self.context.source.id), code="no_path")
        root = Path(self.context.source.path)
        if root.is_file():
            return [root]
        if not root.is_dir():
            raise PermanentError(MSG_NOT_FOUND(path=root), code="not_found")
        if (root / MANIFEST_NAME).is_file():
            return [root]  # the folder is itself one unzipped package
        return sorted(
            p
            for p in root.iterdir()
            if not p.name.startswith(".") and (is_package(p) or is_export(p))
        )

    def streams(self) -> Sequence[Stream]:
        return [PackagesStream(self), TrackingStream(self)]

    async def check(self) -> CheckReport:
        report = CheckReport(source=self.context.source.id, kind=self.kind)
        try:
            files = self.files()
        except PermanentError as exc:
            report.add(CheckStatus.ERROR, exc.code, exc.message)
            return report
        packages = sum(1 for f in files if is_package(f))
        exports = len(files) - packages
        report.details = {"packages": packages, "exports": exports}
        if not files:
            where = self.context.source.path or "-"
            report.add(CheckStatus.WARNING, "no_files", MSG_NONE(path=where))
        else:
            report.add(CheckStatus.OK, "files", MSG_FILES(packages=packages, exports=exports))
        return report
