"""Every real manifest of the shared corpus parses to a course with a title and its version.

The corpus lives outside the repository (../shared/samples/scorm); the version
expected is read from each file name (``scorm12``, ``scorm2004``, ``SCORM20044thEdition``...).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from preuve.connectors.scorm import ScormError, parse_manifest
from preuve.connectors.scorm.evidence import package_evidence, package_key, package_ref

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "scorm"
MANIFESTS = SAMPLES / "manifests"
THIRD_PARTY = SAMPLES / "manifests_synthetic_thirdparty"


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.xml")) if folder.is_dir() else []


def _expected(name: str) -> tuple[str, int | None]:
    lowered = name.lower()
    version = "2004" if "scorm2004" in lowered or "scorm20042" in lowered else "1.2"
    edition = None
    if version == "2004":
        match = re.search(r"(2nd|3rd|4th)", lowered)
        edition = {"2nd": 2, "3rd": 3, "4th": 4}[match[1]] if match else None
    return version, edition


@pytest.fixture(scope="module")
def manifests() -> list[Path]:
    files = _files(MANIFESTS)
    if not files:
        pytest.skip(f"SCORM sample corpus not found at {MANIFESTS}")
    return files


def test_every_corpus_manifest_parses(manifests: list[Path]) -> None:
    assert len(manifests) >= 20
    for path in manifests:
        course = parse_manifest(path.read_bytes(), file=path.name)
        version, edition = _expected(path.name)
        assert course.title.strip(), path.name
        assert course.version == version, path.name
        if course.schemaversion and course.schemaversion.strip().upper() == "CAM 1.3":
            assert course.edition is None, path.name  # 2nd or 3rd: honestly unknown
        elif edition is not None:
            assert course.edition == edition, path.name
        assert course.launchable_items(), path.name
        key = package_key(course, path.name)
        drafts = package_evidence(course, package_ref(key), own_action=True, key=key)
        assert any(d.data.kind == "course_description" for d in drafts)


def test_third_party_samples() -> None:
    files = {p.name: p for p in _files(THIRD_PARTY)}
    if not files:
        pytest.skip(f"third-party SCORM samples not found at {THIRD_PARTY}")
    for name, path in files.items():
        if "Malformed" in name:
            with pytest.raises(ScormError) as caught:
                parse_manifest(path.read_bytes(), file=name)
            assert caught.value.where
            assert caught.value.where.startswith("ligne")
            continue
        course = parse_manifest(path.read_bytes(), file=name)
        assert course.version == _expected(name)[0], name
        assert course.title, name


METADATA = SAMPLES / "metadata"
OTHER_FORMATS = {"cmi5_xapi": ("cmi5.xml", "tincan.xml"), "aicc": (".crs", ".au", ".cst", ".des")}


def test_every_corpus_metadata_file_is_read_or_refused_with_a_reason() -> None:
    from preuve.connectors.scorm.errors import UnsafePackageError
    from preuve.connectors.scorm.lom import find_lom, read_lom
    from preuve.connectors.scorm.xmlsafe import parse_tree

    files = _files(METADATA)
    if not files:
        pytest.skip(f"SCORM metadata samples not found at {METADATA}")
    read: list[str] = []
    not_lom: list[str] = []
    refused: dict[str, UnsafePackageError] = {}
    for path in files:
        try:
            root = parse_tree(path.read_bytes(), path.name)
        except UnsafePackageError as exc:
            refused[path.name] = exc
            continue
        lom = find_lom(root)
        if lom is None:
            not_lom.append(path.name)  # e.g. Storyline's meta.xml: not LOM, never misread
            continue
        info = read_lom(lom)
        assert info.title or info.description, path.name
        read.append(path.name)
    assert len(read) + len(refused) + len(not_lom) == len(files)
    for name, error in refused.items():  # eXeLearning's content.xml declares a DTD
        assert (error.code, error.file) == ("dtd_refused", name)
        assert str(error).startswith(f"{name} : ") or str(error).startswith(f"{name}: ")
    assert len(read) >= len(files) // 2
    golf = next((n for n in read if n.endswith("metadata_course.xml")), None)
    if golf is not None:
        info = read_lom(find_lom(parse_tree((METADATA / golf).read_bytes(), golf)))
        assert (info.title, info.typical_learning_seconds) == ("Golf Explained", 600.0)


def test_cmi5_xapi_and_aicc_samples_are_refused_as_other_formats(tmp_path: Path) -> None:
    from preuve.connectors.scorm import read_package

    found = 0
    for folder, markers in OTHER_FORMATS.items():
        source = SAMPLES / folder
        for path in sorted(source.iterdir()) if source.is_dir() else []:
            name = next((m for m in markers if m.startswith(".") or path.name.endswith(m)), None)
            if name is None:
                continue
            package = tmp_path / path.name
            package.mkdir()
            # Packaged as the tool would: cmi5.xml / tincan.xml at the root, AICC files as named.
            target = name if not name.startswith(".") else path.name
            (package / target).write_bytes(path.read_bytes())
            with pytest.raises(ScormError) as caught:
                read_package(package)
            assert caught.value.code == "not_scorm", path.name
            assert str(caught.value).startswith(path.name), path.name
            found += 1
    if not found:
        pytest.skip(f"cmi5/xAPI/AICC samples not found under {SAMPLES}")
