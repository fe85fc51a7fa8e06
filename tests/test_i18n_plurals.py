"""Plural choices in ``Text`` templates: ``{n:singular|plural}``, French and English rules."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from preuve.i18n import Text, format_plural, is_singular
from preuve.mapping import messages as m

LEARNERS = Text(
    fr="{n} {n:apprenant|apprenants} sur {total} {n:n'a|n'ont} pas de positionnement",
    en="{n} {n:learner|learners} out of {total} {n:has|have} no positioning",
)


@pytest.mark.parametrize(
    ("n", "fr", "en"),
    [
        (
            0,
            "0 apprenant sur 28 n'a pas de positionnement",
            "0 learners out of 28 have no positioning",
        ),
        (
            1,
            "1 apprenant sur 28 n'a pas de positionnement",
            "1 learner out of 28 has no positioning",
        ),
        (
            2,
            "2 apprenants sur 28 n'ont pas de positionnement",
            "2 learners out of 28 have no positioning",
        ),
        (
            3,
            "3 apprenants sur 28 n'ont pas de positionnement",
            "3 learners out of 28 have no positioning",
        ),
    ],
)
def test_the_count_picks_the_form_in_each_language(n: int, fr: str, en: str) -> None:
    assert LEARNERS.render("fr", n=n, total=28) == fr
    assert LEARNERS.render("en", n=n, total=28) == en


@pytest.mark.parametrize(
    ("value", "fr", "en"),
    [
        (0, True, False),
        (1, True, True),
        (-1, True, True),
        (1.5, True, False),  # French: "1,5 kilomètre"
        (1.0, True, True),
        (2, False, False),
        (Decimal("1"), True, True),
        (Decimal("0.5"), True, False),
        (True, True, True),
        ("?", False, False),  # an unknown count reads as a plural
        ("1", False, False),  # only numbers decide
        (None, False, False),
    ],
)
def test_singular_rules(value: object, fr: bool, en: bool) -> None:
    assert is_singular(value, "fr") is fr
    assert is_singular(value, "en") is en


def test_the_language_is_the_current_one_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("preuve.i18n._language", None)
    monkeypatch.setenv("PREUVE_LANG", "en")
    assert LEARNERS(n=0, total=2) == "0 learners out of 2 have no positioning"
    monkeypatch.setenv("PREUVE_LANG", "fr")
    assert LEARNERS(n=0, total=2) == "0 apprenant sur 2 n'a pas de positionnement"


def test_forms_may_be_empty_or_hold_plain_fields() -> None:
    text = Text(
        fr="{n:l'action|les {n} actions} de {who}",
        en="{n} action{n:|s} of {who}",
    )
    assert text.render("fr", n=1, who="Ana") == "l'action de Ana"
    assert text.render("fr", n=4, who="Ana") == "les 4 actions de Ana"
    assert text.render("en", n=1, who="Ana") == "1 action of Ana"
    assert text.render("en", n=4, who="Ana") == "4 actions of Ana"


def test_other_fields_keep_their_str_format_meaning() -> None:
    text = Text(
        fr="{{littéral}} {value!r} {ratio:.1f} {n:g} {n:fois|fois} {item.real}",
        en="{{literal}} {value!r} {ratio:.1f} {n:g} {n:time|times} {item.real}",
    )
    values = {"value": "x", "ratio": 2.25, "n": 3.0, "item": 5}
    assert text.render("fr", **values) == "{littéral} 'x' 2.2 3 fois 5"
    assert text.render("en", **values) == "{literal} 'x' 2.2 3 times 5"
    assert text.render("en", **values | {"n": 1}) == "{literal} 'x' 2.2 1 time 5"


def test_a_template_without_choice_is_plain_str_format() -> None:
    template = "{a} et {b:>3} {{c}}"
    assert format_plural(template, "fr", a=1, b=2) == template.format(a=1, b=2)
    assert Text(fr="", en="").render("fr") == ""


def test_a_missing_value_fails_as_str_format_does() -> None:
    with pytest.raises(KeyError):
        LEARNERS.render("fr", total=3)


@pytest.mark.parametrize(
    "template",
    [
        "{n:un|deux|trois}",  # more than two forms
        "{n!r:un|des}",  # a conversion on a choice
        "{n:un {m:a|b}|des}",  # a nested choice
        "{n:{m:a|b}}",
        "{n:un|des",  # broken braces
    ],
)
def test_a_malformed_choice_fails_at_creation(template: str) -> None:
    with pytest.raises(ValueError, match=r"plural choice|expected|unmatched"):
        Text(fr=template, en="ok")
    with pytest.raises(ValueError, match=r"plural choice|expected|unmatched"):
        Text(fr="ok", en=template)


# ---------------------------------------------------------------------------
# Real messages of the coverage
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "fr", "en"),
    [
        (
            0,
            "0 apprenant sur 28 n'a pas de positionnement d'entrée : -",
            "0 learners out of 28 have no entry positioning: -",
        ),
        (
            1,
            "1 apprenant sur 28 n'a pas de positionnement d'entrée : -",
            "1 learner out of 28 has no entry positioning: -",
        ),
        (
            3,
            "3 apprenants sur 28 n'ont pas de positionnement d'entrée : -",
            "3 learners out of 28 have no entry positioning: -",
        ),
    ],
)
def test_positioning_missing(n: int, fr: str, en: str) -> None:
    assert m.POSITIONING_MISSING.render("fr", n=n, total=28, refs="-") == fr
    assert m.POSITIONING_MISSING.render("en", n=n, total=28, refs="-") == en


@pytest.mark.parametrize(
    ("n", "fr", "en"),
    [
        (0, "0 abandon suivi (relance tracée)", "0 drop-outs followed up (traced contact)"),
        (1, "1 abandon suivi (relance tracée)", "1 drop-out followed up (traced contact)"),
        (3, "3 abandons suivis (relance tracée)", "3 drop-outs followed up (traced contact)"),
    ],
)
def test_dropout_ok(n: int, fr: str, en: str) -> None:
    assert m.DROPOUT_OK.render("fr", n=n) == fr
    assert m.DROPOUT_OK.render("en", n=n) == en


@pytest.mark.parametrize(
    ("total", "fr", "en"),
    [
        (
            0,
            "0 formateur actif : CV récent et qualification en rapport",
            "0 active trainers: recent CV and matching qualification",
        ),
        (
            1,
            "1 formateur actif : CV récent et qualification en rapport",
            "1 active trainer: recent CV and matching qualification",
        ),
        (
            3,
            "3 formateurs actifs : CV récent et qualification en rapport",
            "3 active trainers: recent CV and matching qualification",
        ),
    ],
)
def test_trainers_ok(total: int, fr: str, en: str) -> None:
    assert m.TRAINERS_OK.render("fr", total=total) == fr
    assert m.TRAINERS_OK.render("en", total=total) == en


@pytest.mark.parametrize(
    ("n", "months", "fr", "en"),
    [
        (
            0,
            1,
            "0 formateur sur 3 sans formation continue datée au cours du dernier mois : -",
            "0 trainers out of 3 without dated continuing development within the last month: -",
        ),
        (
            1,
            24,
            "1 formateur sur 3 sans formation continue datée au cours des 24 derniers mois : -",
            "1 trainer out of 3 without dated continuing development within the last 24 months: -",
        ),
        (
            3,
            24,
            "3 formateurs sur 3 sans formation continue datée au cours des 24 derniers mois : -",
            "3 trainers out of 3 without dated continuing development within the last 24 months: -",
        ),
    ],
)
def test_cpd_fault(n: int, months: int, fr: str, en: str) -> None:
    values = {"n": n, "total": 3, "months": months, "refs": "-"}
    assert m.CPD_FAULT.render("fr", **values) == fr
    assert m.CPD_FAULT.render("en", **values) == en


@pytest.mark.parametrize(
    ("n", "fr", "en"),
    [
        (
            0,
            "0 ressource pédagogique (au moins 1 attendue)",
            "0 learning resources (at least 1 expected)",
        ),
        (
            1,
            "1 ressource pédagogique (au moins 1 attendue)",
            "1 learning resource (at least 1 expected)",
        ),
        (
            3,
            "3 ressources pédagogiques (au moins 1 attendue)",
            "3 learning resources (at least 1 expected)",
        ),
    ],
)
def test_resources_missing(n: int, fr: str, en: str) -> None:
    assert m.RESOURCES_MISSING.render("fr", n=n, min=1) == fr
    assert m.RESOURCES_MISSING.render("en", n=n, min=1) == en
    assert m.RESOURCES_MISSING.render("fr", n=n, min=3).endswith("(au moins 3 attendues)")


@pytest.mark.parametrize(
    ("n", "fr", "en"),
    [
        (0, "0 action sur 5 non prouvée : -", "0 actions out of 5 not proven: -"),
        (1, "1 action sur 5 non prouvée : -", "1 action out of 5 not proven: -"),
        (3, "3 actions sur 5 non prouvées : -", "3 actions out of 5 not proven: -"),
    ],
)
def test_derived_gaps(n: int, fr: str, en: str) -> None:
    assert m.DERIVED_GAPS.render("fr", n=n, total=5, refs="-") == fr
    assert m.DERIVED_GAPS.render("en", n=n, total=5, refs="-") == en


@pytest.mark.parametrize(
    ("n", "fr", "en"),
    [
        (
            0,
            "0 apprenant sur 4 ayant terminé n'a pas d'évaluation des acquis : -",
            "0 learners out of 4 who finished have no assessment of the objectives: -",
        ),
        (
            1,
            "1 apprenant sur 4 ayant terminé n'a pas d'évaluation des acquis : -",
            "1 learner out of 4 who finished has no assessment of the objectives: -",
        ),
        (
            3,
            "3 apprenants sur 4 ayant terminé n'ont pas d'évaluation des acquis : -",
            "3 learners out of 4 who finished have no assessment of the objectives: -",
        ),
    ],
)
def test_final_missing(n: int, fr: str, en: str) -> None:
    assert m.FINAL_MISSING.render("fr", n=n, total=4, refs="-") == fr
    assert m.FINAL_MISSING.render("en", n=n, total=4, refs="-") == en


def test_attendance_missing_names_a_single_slot() -> None:
    values = {"n": 1, "total": 4, "refs": "p1"}
    assert (
        m.ATTENDANCE_MISSING.render("fr", slots=1, **values)
        == "1 apprenant sur 4 n'a pas émargé à l'unique créneau : p1"
    )
    assert (
        m.ATTENDANCE_MISSING.render("en", slots=1, **values)
        == "1 learner out of 4 did not sign in for the only slot: p1"
    )
    assert (
        m.ATTENDANCE_MISSING.render("fr", slots=6, **values | {"n": 2})
        == "2 apprenants sur 4 n'ont pas émargé à au moins un des 6 créneaux : p1"
    )
    assert (
        m.ATTENDANCE_MISSING.render("en", slots=6, **values | {"n": 2})
        == "2 learners out of 4 did not sign in for at least one of the 6 slots: p1"
    )


def test_distance_ok_and_survey_answers() -> None:
    assert m.DISTANCE_OK.render("fr", total=1) == "modules à distance suivis par l'apprenant"
    assert m.DISTANCE_OK.render("fr", total=3) == "modules à distance suivis par les 3 apprenants"
    assert m.DISTANCE_OK.render("en", total=1) == "distance modules followed by the learner"
    assert m.DISTANCE_OK.render("en", total=3) == "distance modules followed by all 3 learners"
    survey = {"timing": "à chaud", "stakeholder": "apprenants", "invited": "?", "rate": 0}
    assert "0 réponse sur ?" in m.SURVEY_OK.render("fr", responses=0, **survey)
    assert "1 réponse sur ?" in m.SURVEY_OK.render("fr", responses=1, **survey)
    assert "3 réponses sur ?" in m.SURVEY_OK.render("fr", responses=3, **survey)
    assert "0 answers out of ?" in m.SURVEY_OK.render("en", responses=0, **survey)
    assert "1 answer out of ?" in m.SURVEY_OK.render("en", responses=1, **survey)


# ---------------------------------------------------------------------------
# Every message of the code base
# ---------------------------------------------------------------------------

# "(s)" stays only where no count is passed to the message (a list of names).
ALLOWED_PARENTHESISED_PLURALS: set[str] = set()


def _texts() -> list[tuple[str, str, str, str]]:
    """(file, constant, fr, en) of every ``Text`` built from literals under ``preuve/``."""
    root = Path(__file__).resolve().parents[1] / "preuve"
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            id(node.value): ast.unparse(node.targets[0])
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
        }
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            if not isinstance(call.func, ast.Name) or call.func.id != "Text":
                continue
            values = {kw.arg: kw.value for kw in call.keywords}
            values.update(zip(("fr", "en"), call.args, strict=False))
            fr, en = values.get("fr"), values.get("en")
            if not isinstance(fr, ast.Constant) or not isinstance(en, ast.Constant):
                continue
            name = names.get(id(call), f"line {call.lineno}")
            found.append((str(path.relative_to(root.parent)), name, fr.value, en.value))
    return found


def test_the_scan_finds_the_messages() -> None:
    names = {name for _, name, _, _ in _texts()}
    assert {"POSITIONING_MISSING", "MSG_IMPORT_DONE", "MSG_SUMMARY"} <= names


@pytest.mark.parametrize(("file", "name", "fr", "en"), _texts())
def test_no_message_writes_a_plural_in_parentheses(file: str, name: str, fr: str, en: str) -> None:
    Text(fr=fr, en=en)  # every template is well formed
    if name in ALLOWED_PARENTHESISED_PLURALS:
        return
    for template in (fr, en):
        assert "(s)" not in template, f"{file} {name}: use {{n:singular|plural}}"
        assert "(ies)" not in template, f"{file} {name}: use {{n:singular|plural}}"
