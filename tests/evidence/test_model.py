"""The evidence model: validation, partial dates, content hash, pseudonymous keys."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pydantic import ValidationError

from preuve.evidence.identity import Pseudonymiser
from preuve.evidence.model import EvidenceRecord, ManualProof, PartialDate
from tests.factories import FETCHED, enrolment, record


@pytest.mark.parametrize(
    ("text", "precision", "earliest", "latest"),
    [
        ("2019", "year", date(2019, 1, 1), date(2019, 12, 31)),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29)),
        ("2023-12", "month", date(2023, 12, 1), date(2023, 12, 31)),
        ("2021-03-15", "day", date(2021, 3, 15), date(2021, 3, 15)),
    ],
)
def test_partial_dates_stay_partial(
    text: str, precision: str, earliest: date, latest: date
) -> None:
    value = PartialDate.model_validate(text)
    assert value.precision == precision
    assert (value.earliest(), value.latest()) == (earliest, latest)
    assert str(value) == text


@pytest.mark.parametrize("text", ["19", "2023-13", "2023-02-30", "03/2021", ""])
def test_unreadable_partial_dates_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        PartialDate.model_validate(text)


def test_content_hash_ignores_fetch_time_and_version() -> None:
    first = enrolment(1)
    later = enrolment(1, fetched_at=FETCHED + timedelta(hours=5), version="9")
    changed = enrolment(1, status="completed")
    assert first.content_hash == later.content_hash
    assert first.content_hash != changed.content_hash


def test_effective_date_is_part_of_the_content() -> None:
    a = enrolment(1, effective_at=FETCHED)
    b = enrolment(1, effective_at=FETCHED + timedelta(days=1))
    assert a.content_hash != b.content_hash


def test_naive_datetimes_are_refused_with_the_field_named() -> None:
    with pytest.raises(ValidationError, match="effective_at"):
        enrolment(1, effective_at=datetime(2026, 1, 1, 9, 0))


def test_unknown_kind_and_extra_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="kind"):
        record({"kind": "gossip", "action_ref": "A"}, source_id="x")
    with pytest.raises(ValidationError, match="email"):
        record(
            {"kind": "person", "person_ref": "p_1", "email": "a@b.fr"},
            source_id="x",
        )


def test_score_above_maximum_is_refused() -> None:
    with pytest.raises(ValidationError, match="above max_score"):
        record(
            {
                "kind": "assessment",
                "action_ref": "A",
                "person_ref": "p",
                "assessment_kind": "final",
                "score": 21,
                "max_score": 20,
            },
            source_id="x",
        )


def test_training_action_dates_must_be_in_order() -> None:
    with pytest.raises(ValidationError, match="end_date"):
        record(
            {
                "kind": "training_action",
                "action_ref": "A",
                "title": "T",
                "start_date": "2026-05-02",
                "end_date": "2026-05-01",
            },
            source_id="x",
        )


def test_records_round_trip_through_json() -> None:
    original = record(
        {
            "kind": "trainer_qualification",
            "person_ref": "p_1",
            "title": "Master ingénierie de formation",
            "obtained": "2015-06",
            "document": {"uri": "cv/p_1.pdf", "sha256": "a" * 64},
        },
        source_id="q1",
    )
    again = EvidenceRecord.model_validate_json(original.model_dump_json())
    assert again == original
    assert again.content_hash == original.content_hash


def test_pseudonymous_keys_match_across_sources_by_email() -> None:
    keys = Pseudonymiser(b"secret")
    moodle = keys.person_key(source="moodle", user_id=42, email="Jeanne.Martin@Example.org")
    xapi = keys.person_key(source="lrs", email="mailto:jeanne.martin@example.org ")
    assert moodle == xapi
    assert moodle.startswith("p_")
    assert "jeanne" not in moodle
    assert keys.person_key(source="moodle", user_id=42) != moodle
    assert Pseudonymiser(b"other").from_email("jeanne.martin@example.org") != moodle
    with pytest.raises(ValueError, match="e-mail"):
        keys.person_key(source="moodle")


def _proof(**fields: object) -> EvidenceRecord:
    data = {
        "kind": "manual_proof",
        "indicator": 32,
        "title": "Analyse des risques qualité",
        "document": {"uri": "https://intranet.example.org/qualite/32"},
        "dated": "2026-09-01",
        **fields,
    }
    return record(data, source_id="proof-32")


def test_a_manual_proof_may_name_its_component() -> None:
    plain = _proof()
    assert isinstance(plain.data, ManualProof)
    assert plain.data.component is None
    # A proof without a component hashes as it did before the field existed.
    assert "component" not in plain.payload
    tagged = _proof(component="risk_analysis")
    assert isinstance(tagged.data, ManualProof)
    assert tagged.data.component == "risk_analysis"
    assert tagged.payload["component"] == "risk_analysis"
    assert tagged.content_hash != plain.content_hash
    for bad in ("Risk analysis", "", "risk-analysis", "1risk"):
        with pytest.raises(ValidationError, match="component"):
            _proof(component=bad)


def test_the_client_of_a_subcontracted_action_is_a_stakeholder() -> None:
    survey = record(
        {
            "kind": "satisfaction_survey",
            "action_ref": "A1",
            "survey_ref": "A1-hot-client",
            "timing": "hot",
            "stakeholder": "client",
            "response_count": 1,
        },
        source_id="survey/A1/hot-client",
    )
    assert survey.payload["stakeholder"] == "client"
