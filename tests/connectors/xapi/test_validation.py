"""Statement validation rules that the HTTP tests do not already cover (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from preuve.connectors.xapi.validation import StatementError, parse_duration, validate_statement
from tests.connectors.xapi.statements import ADL, agent, attended, voiding

REF = "1b9e5c7e-4f0a-4c3e-8d2b-5a6f7e8d9c0a"


def _error(statement: Any, **kwargs: Any) -> StatementError:
    with pytest.raises(StatementError) as caught:
        validate_statement(statement, **kwargs)
    return caught.value


def test_valid_statements_pass() -> None:
    validate_statement(attended(1))
    validate_statement(voiding(REF))
    group = attended(1)
    group["actor"] = {"objectType": "Group", "name": "Groupe A", "member": [agent(1), agent(2)]}
    validate_statement(group)
    sub = attended(1)
    sub["object"] = {
        "objectType": "SubStatement",
        "actor": agent(2),
        "verb": {"id": ADL + "attended"},
        "object": {"id": "https://lms.example/session/1"},
    }
    validate_statement(sub)


def test_groups() -> None:
    anonymous = attended(1)
    anonymous["actor"] = {"objectType": "Group", "name": "nobody"}
    assert _error(anonymous).path == "actor"
    member = attended(1)
    member["actor"] = {
        "objectType": "Group",
        "member": [{"objectType": "Group", "mbox": "mailto:g@x.example"}],
    }
    assert _error(member).path == "actor.member[0].objectType"


def test_substatements_do_not_nest_and_voiding_needs_a_ref() -> None:
    inner = {
        "objectType": "SubStatement",
        "actor": agent(2),
        "verb": {"id": ADL + "x"},
        "object": {"id": "urn:a"},
    }
    outer = attended(1)
    outer["object"] = {**inner, "object": dict(inner)}
    assert _error(outer).path == "object.object"
    bad_void = attended(1)
    bad_void["verb"] = {"id": ADL + "voided"}
    assert _error(bad_void).path == "object"
    sub_with_id = attended(1)
    sub_with_id["object"] = {**inner, "id": REF}
    assert _error(sub_with_id).path == "object.id"


def test_version_and_2_0_properties() -> None:
    statement = attended(1)
    statement["version"] = "1.0.3"
    validate_statement(statement)
    statement["version"] = "2.0.0"
    assert _error(statement).path == "version"
    validate_statement(statement, version_2=True)
    statement["context"]["contextAgents"] = []
    validate_statement(statement, version_2=True)


def test_definitions_and_extensions() -> None:
    statement = attended(1)
    statement["object"]["definition"]["interactionType"] = "essay"
    assert _error(statement).path == "object.definition.interactionType"
    statement = attended(1)
    statement["result"]["extensions"] = {"progress": 3}
    assert _error(statement).path == "result.extensions['progress']"
    statement = attended(1)
    statement["object"]["definition"]["choices"] = [{"description": {"fr": "a"}}]
    assert _error(statement).path == "object.definition.choices[0].id"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT31M56S", 1916.0),
        ("PT1H0.5S", 3600.5),
        ("P1DT2H", 93600.0),
        ("P2W", 1209600.0),
        ("PT0S", 0.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["P", "PT", "1H", "PT1H30", "P1H", "PT-5S", "3 hours"])
def test_bad_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_checks_stay_whole_once_iris_are_remembered() -> None:
    # Valid IRIs are remembered to skip the pattern next time: a statement seen
    # valid before must not let an invalid IRI, a non-string or an unknown key pass.
    for _ in range(3):
        validate_statement(attended(1))
    statement = attended(1)
    statement["verb"]["id"] = "not an iri"
    assert _error(statement).path == "verb.id"
    statement = attended(1)
    statement["object"]["id"] = ["https://lms.example/session/1"]
    assert _error(statement).path == "object.id"
    statement = attended(1)
    statement["result"]["extensions"] = {"https://lms.example/ext": 1, "progress": 3}
    assert _error(statement).path == "result.extensions['progress']"
    statement = attended(1)
    statement["object"]["colour"] = "blue"
    assert _error(statement).path == "object.colour"
