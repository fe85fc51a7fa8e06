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
