"""Content packages as zip files or folders, checked before anything is read.

Zip members are vetted from the central directory alone (names, links, count,
declared sizes, compression ratio); only ``imsmanifest.xml`` and the metadata
files it names are then read, each with a byte cap, so a zip bomb is refused
without being inflated.
"""

from __future__ import annotations

import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from preuve.connectors.scorm.constants import (
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    MAX_MEMBER_RATIO,
    MAX_METADATA_BYTES,
    MAX_TOTAL_UNCOMPRESSED,
    MAX_ZIP_MEMBERS,
    RATIO_MIN_SIZE,
)
from preuve.connectors.scorm.errors import ScormError, UnsafePackageError
from preuve.connectors.scorm.lom import LomInfo, find_lom, read_lom
from preuve.connectors.scorm.manifest import ScormCourse, parse_manifest
from preuve.connectors.scorm.xmlsafe import parse_tree
from preuve.i18n import Text

MSG_NOT_ZIP = Text(fr="archive zip illisible : {error}", en="unreadable zip archive: {error}")
MSG_MEMBERS = Text(
    fr="{count} fichiers dans l'archive (maximum {limit})",
    en="{count} files in the archive (limit {limit})",
)
MSG_TOTAL = Text(
    fr="taille décompressée déclarée {size} octets (maximum {limit}) : archive refusée",
    en="declared uncompressed size {size} bytes (limit {limit}): archive refused",
)
MSG_RATIO = Text(
    fr="taux de compression {ratio:.0f}:1 (maximum {limit}:1) : bombe zip probable",
    en="compression ratio {ratio:.0f}:1 (limit {limit}:1): likely a zip bomb",
)
MSG_TRAVERSAL = Text(
    fr="chemin hors de l'archive (« .. » ou chemin absolu)",
    en="path outside the archive ('..' or absolute path)",
)
MSG_LINK = Text(fr="lien symbolique refusé", en="symbolic link refused")
MSG_NO_MANIFEST = Text(
    fr="pas de imsmanifest.xml à la racine du paquet", en="no imsmanifest.xml at the package root"
)
MSG_NESTED = Text(
    fr="imsmanifest.xml est dans le sous-dossier « {folder} » : recompressez le contenu de ce "
    "dossier (le manifeste doit être à la racine)",
    en="imsmanifest.xml is inside folder '{folder}': re-zip that folder's contents (the "
    "manifest must be at the root)",
)
MSG_OTHER_FORMAT = Text(
    fr="paquet {kind} (pas de imsmanifest.xml) : non pris en charge comme SCORM",
    en="{kind} package (no imsmanifest.xml): not supported as SCORM",
)
MSG_MEMBER_TOO_BIG = Text(
    fr="fichier trop volumineux ({size} octets, maximum {limit})",
    en="file too large ({size} bytes, limit {limit})",
)
MSG_CASE_DUPLICATE = Text(
    fr="plusieurs fichiers imsmanifest.xml ne diffèrent que par la casse",
    en="several imsmanifest.xml files differ only by case",
)
MSG_METADATA = Text(
    fr="fichier de métadonnées « {href} » illisible : {error}",
    en="metadata file '{href}' unreadable: {error}",
)
MSG_METADATA_MISSING = Text(
    fr="fichier de métadonnées « {href} » absent du paquet",
    en="metadata file '{href}' missing from the package",
)

# What zipfile raises on a damaged archive (its directory or a member being inflated).
_MEMBER_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,  # compression method or zip version not supported
    RuntimeError,  # encrypted member
    OSError,
)

_OTHER_FORMATS = {"cmi5.xml": "cmi5", "tincan.xml": "xAPI (tincan.xml)"}


@dataclass(frozen=True, slots=True)
class ScormPackage:
    """A read package: where it came from and what its manifest says."""

    source: str  # file or folder name, as shown in messages
    course: ScormCourse
    member_count: int
    total_uncompressed: int


def _member_name(raw: str) -> str:
    # Windows tools write backslashes; the SCORM spec and every player use '/'.
    return raw.replace("\\", "/")


def _safe_path(name: str) -> bool:
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return False
    return ".." not in PurePosixPath(name).parts


_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_EOCD_SEARCH = 22 + 65535  # fixed record + longest comment


def declared_member_count(path: Path) -> int | None:
    """Entries announced by the end-of-central-directory record, read before ``ZipFile``
    loads the whole directory into memory (a forged directory could be huge)."""
    with path.open("rb") as stream:
        stream.seek(0, 2)
        size = stream.tell()
        start = max(size - _EOCD_SEARCH, 0)
        stream.seek(start)
        tail = stream.read()
        at = tail.rfind(_EOCD)
        if at < 0 or at + 22 > len(tail):
            return None  # not a zip: ZipFile will say so
        count = struct.unpack_from("<H", tail, at + 10)[0]
        locator = at - 20
        if count == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == _ZIP64_LOCATOR:
            offset = struct.unpack_from("<Q", tail, locator + 8)[0]
            stream.seek(offset)
            record = stream.read(56)
            if len(record) == 56 and record[:4] == _ZIP64_EOCD:
                count = struct.unpack_from("<Q", record, 32)[0]
        return int(count)


def vet_zip(archive: zipfile.ZipFile, file: str) -> tuple[dict[str, zipfile.ZipInfo], int]:
    """Check every member from the central directory; return members by normalised name."""
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise UnsafePackageError(
            file, MSG_MEMBERS(count=len(infos), limit=MAX_ZIP_MEMBERS), code="too_many_members"
        )
    total = 0
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = _member_name(info.filename)
        if not _safe_path(name):
            raise UnsafePackageError(file, MSG_TRAVERSAL(), where=info.filename, code="traversal")
        mode = info.external_attr >> 16
        if mode and stat.S_ISLNK(mode):
            raise UnsafePackageError(file, MSG_LINK(), where=info.filename, code="symlink")
        total += info.file_size
        if total > MAX_TOTAL_UNCOMPRESSED:
            raise UnsafePackageError(
                file, MSG_TOTAL(size=total, limit=MAX_TOTAL_UNCOMPRESSED), code="too_large"
            )
        if info.file_size > RATIO_MIN_SIZE:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_MEMBER_RATIO:
                raise UnsafePackageError(
                    file,
                    MSG_RATIO(ratio=ratio, limit=MAX_MEMBER_RATIO),
                    where=info.filename,
                    code="zip_bomb",
                )
        members[name] = info
    return members, total


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file: str, limit: int) -> bytes:
    if info.file_size > limit:
        raise ScormError(
            file,
            MSG_MEMBER_TOO_BIG(size=info.file_size, limit=limit),
            where=info.filename,
            code="too_large",
        )
    try:
        with archive.open(info) as stream:
            data = stream.read(limit + 1)  # never trust the declared size alone
    except _MEMBER_ERRORS as exc:
        # A damaged archive (truncated upload, bad CRC, unknown compression) is this
        # file's problem only: the run goes on with the others.
        reason = MSG_NOT_ZIP(error=str(exc) or type(exc).__name__)
        raise ScormError(file, reason, where=info.filename, code="bad_zip") from exc
    if len(data) > limit:
        raise UnsafePackageError(
            file,
            MSG_MEMBER_TOO_BIG(size=len(data), limit=limit),
            where=info.filename,
            code="too_large",
        )
    return data


def _no_manifest(names: list[str], file: str) -> ScormError:
    lowered = {n.lower(): n for n in names}
    nested = [n for n in names if n.lower().endswith("/" + MANIFEST_NAME)]
    if nested:
        folder = min(nested, key=len).rsplit("/", 1)[0]
        return ScormError(file, MSG_NESTED(folder=folder), code="nested_manifest")
    for marker, kind in _OTHER_FORMATS.items():
        if marker in lowered:
            return ScormError(file, MSG_OTHER_FORMAT(kind=kind), code="not_scorm")
    if any(n.lower().endswith((".crs", ".au", ".cst", ".des")) for n in names):
        return ScormError(file, MSG_OTHER_FORMAT(kind="AICC"), code="not_scorm")
    return ScormError(file, MSG_NO_MANIFEST(), code="no_manifest")


def _lom_from(data: bytes, file: str) -> LomInfo | None:
    root = parse_tree(data, file)
    lom = find_lom(root) if root is not None else None
    return read_lom(lom) if lom is not None else None


def read_zip_package(path: Path, *, strict: bool = False, name: str | None = None) -> ScormPackage:
    """Read a SCORM zip (PIF): vet it, then parse its manifest and metadata files."""
    file = name or path.name
    try:
        announced = declared_member_count(path)
    except OSError as exc:
        raise ScormError(file, MSG_NOT_ZIP(error=exc), code="bad_zip") from exc
    if announced is not None and announced > MAX_ZIP_MEMBERS:
        raise UnsafePackageError(
            file, MSG_MEMBERS(count=announced, limit=MAX_ZIP_MEMBERS), code="too_many_members"
        )
    try:
        archive = zipfile.ZipFile(path)
    except _MEMBER_ERRORS as exc:
        raise ScormError(file, MSG_NOT_ZIP(error=exc), code="bad_zip") from exc
    with archive:
        members, total = vet_zip(archive, file)
        manifest_candidates = [n for n in members if n.lower() == MANIFEST_NAME]
        if len(manifest_candidates) > 1:
            raise ScormError(file, MSG_CASE_DUPLICATE(), code="ambiguous_manifest")
        if not manifest_candidates:
            raise _no_manifest(list(members), file)
        manifest_info = members[manifest_candidates[0]]
        data = _read_member(archive, manifest_info, file, MAX_MANIFEST_BYTES)
        lowered = {n.lower(): info for n, info in members.items()}
        warnings: list[str] = []

        def load_metadata(href: str) -> LomInfo | None:
            key = _member_name(href).removeprefix("./")
            info = members.get(key) or lowered.get(key.lower())
            if info is None or not _safe_path(key):
                warnings.append(MSG_METADATA_MISSING(href=href))
                return None
            try:
                return _lom_from(_read_member(archive, info, file, MAX_METADATA_BYTES), href)
            except ScormError as exc:
                if isinstance(exc, UnsafePackageError) or strict:
                    raise
                warnings.append(MSG_METADATA(href=href, error=exc.detail))
                return None

        course = parse_manifest(
            data,
            file=f"{file}/{manifest_info.filename}",
            strict=strict,
            load_metadata=load_metadata,
        )
    return _with_warnings(file, course, len(members), total, warnings)


def _with_warnings(
    file: str, course: ScormCourse, count: int, total: int, warnings: list[str]
) -> ScormPackage:
    if warnings:
        course = replace(course, warnings=(*course.warnings, *warnings))
    return ScormPackage(source=file, course=course, member_count=count, total_uncompressed=total)


def read_folder_package(
    folder: Path, *, strict: bool = False, name: str | None = None
) -> ScormPackage:
    """Read an unzipped package; files reached through links or outside the folder are refused."""
    file = name or folder.name
    root = folder.resolve()
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        names = [
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and len(p.relative_to(folder).parts) <= 3
        ]
        raise _no_manifest(names, file)
    warnings: list[str] = []

    def _read(target: Path, limit: int, label: str) -> bytes:
        if target.is_symlink():
            raise UnsafePackageError(file, MSG_LINK(), where=label, code="symlink")
        resolved = target.resolve()
        if not resolved.is_relative_to(root):
            raise UnsafePackageError(file, MSG_TRAVERSAL(), where=label, code="traversal")
        size = resolved.stat().st_size
        if size > limit:
            raise ScormError(
                file, MSG_MEMBER_TOO_BIG(size=size, limit=limit), where=label, code="too_large"
            )
        return resolved.read_bytes()

    def load_metadata(href: str) -> LomInfo | None:
        key = _member_name(href).removeprefix("./")
        target = folder / key
        if not _safe_path(key):
            raise UnsafePackageError(file, MSG_TRAVERSAL(), where=href, code="traversal")
        if not target.is_file():
            warnings.append(MSG_METADATA_MISSING(href=href))
            return None
        try:
            return _lom_from(_read(target, MAX_METADATA_BYTES, href), href)
        except ScormError as exc:
            if isinstance(exc, UnsafePackageError) or strict:
                raise
            warnings.append(MSG_METADATA(href=href, error=exc.detail))
            return None

    data = _read(manifest, MAX_MANIFEST_BYTES, MANIFEST_NAME)
    course = parse_manifest(
        data, file=f"{file}/{MANIFEST_NAME}", strict=strict, load_metadata=load_metadata
    )
    return _with_warnings(file, course, 0, 0, warnings)


def read_package(path: Path, *, strict: bool = False, name: str | None = None) -> ScormPackage:
    """A package given as a zip file or a folder."""
    if path.is_dir():
        return read_folder_package(path, strict=strict, name=name)
    return read_zip_package(path, strict=strict, name=name)
