"""Every published CV and badge sample is read or refused with a clear reason.

The samples live outside the repository (``../shared/samples`` relative to it);
the test is skipped when they are not there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from preuve.connectors.cv import CvFormatError, ParsedDocument, parse_file

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples"
FOLDERS = (SAMPLES / "cv", SAMPLES / "badges")


def _corpus() -> list[Path]:
    return sorted(
        p for folder in FOLDERS if folder.is_dir() for p in folder.rglob("*") if p.is_file()
    )


def test_every_sample_is_read_or_refused_with_a_reason() -> None:
    files = _corpus()
    if not files:
        pytest.skip(f"no samples under {SAMPLES} (shared reference corpus not present)")
    read: dict[str, ParsedDocument] = {}
    refused: dict[str, CvFormatError] = {}
    for path in files:
        try:
            read[path.name] = parse_file(path)
        except CvFormatError as exc:
            refused[path.name] = exc
    assert len(read) + len(refused) == len(files)
    for name, error in refused.items():
        assert error.reason.strip(), f"{name}: refused without a reason"
        assert error.code, name
    # Published examples that are not valid JSON are refused as such, with a position.
    invalid_json = {n: e for n, e in refused.items() if e.code == "invalid_json"}
    assert invalid_json, "the corpus holds invalid JSON examples"
    assert all("line" in e.reason for e in invalid_json.values())
    # Each readable CV yields something an auditor can use.
    for name, doc in read.items():
        if doc.is_cv:
            assert doc.qualifications or doc.experiences or doc.display_name, name
        else:
            assert doc.recipient is not None, name
            assert doc.developments, name


def test_known_samples_give_the_expected_entries() -> None:
    europass = SAMPLES / "cv" / "europass" / "europass-v3.4.0_CV_Example.xml"
    resume = SAMPLES / "cv" / "jsonresume" / "jsonresume_sample.resume.json"
    assertion = SAMPLES / "badges" / "ob2.0_spec-example_Assertion.json"
    if not (europass.is_file() and resume.is_file() and assertion.is_file()):
        pytest.skip(f"reference samples not present under {SAMPLES}")
    cv = parse_file(europass)
    assert cv.format == "europass-xml"
    assert cv.experiences[0].title == "Martial Arts Instructor"
    assert cv.experiences[0].start is not None
    assert str(cv.experiences[0].start) == "2001"  # year only, as written
    assert any(q.level == "EQF 6" for q in cv.qualifications)
    jr = parse_file(resume)
    assert jr.format == "jsonresume"
    assert jr.experiences
    badge = parse_file(assertion)
    assert badge.recipient is not None
    assert badge.recipient.hashed
    assert badge.recipient.identity.startswith("sha256$")
