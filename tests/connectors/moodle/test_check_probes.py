"""`preuve check` probes the capabilities the streams need (quiz attempts, completion)
and says the fix; the stand-in refuses like Moodle."""

from __future__ import annotations

import pytest

from preuve.connectors.base import CheckStatus
from preuve.connectors.moodle.constants import F_QUIZ_ATTEMPTS_NEW, F_QUIZ_ATTEMPTS_OLD
from preuve.connectors.registry import build_connector
from preuve.store import RunStatus, Store
from preuve.testing.moodle import Faults, MoodleStandIn, SiteSpec, start_stand_in
from tests.connectors.moodle.conftest import TENANT, TOKEN_ENV, MakeConnector, source
from tests.connectors.moodle.test_quiz_badges import ONLY_ASSESSMENTS
from tests.connectors.moodle.test_sync import rows, run

QUIZ_CAPABILITY = "mod/quiz:viewreports"


@pytest.fixture(autouse=True)
def french(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages are asserted in French (the default), whatever an earlier test set."""
    monkeypatch.setattr("preuve.i18n._language", "fr")


async def test_the_quiz_capability_is_probed_and_the_fix_is_named(
    make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.missing_capabilities.add(QUIZ_CAPABILITY)
    async with make_connector() as connector:
        report = await connector.check()
    assert report.ok  # the positioning quizzes are optional: a warning
    assert report.details["missing_capabilities"] == [QUIZ_CAPABILITY]
    item = next(i for i in report.items if i.code == f"capability:{QUIZ_CAPABILITY}")
    assert item.status is CheckStatus.WARNING
    # The probe asked a positioning test, for a learner's attempts (not the token's own).
    quiz = next(
        m for m in moodle.site.modules(2) if m.modname == "quiz" and "positionnement" in m.name
    )
    assert item.message == (
        "permission manquante pour lire les tentatives des tests de positionnement "
        f"({F_QUIZ_ATTEMPTS_OLD}) : {QUIZ_CAPABILITY} (lire les tentatives et les notes de "
        f"test des apprenants), refusée dans l'activité « {quiz.name} » (cm {quiz.cmid}) "
        "du cours 2"
    )
    assert item.hint is not None
    for part in (
        "Administration du site > Utilisateurs > Permissions > Définition des rôles",
        "au compte « qualiopi_ws » au niveau Système",
        f"réglez {QUIZ_CAPABILITY} sur « Autoriser »",
        f"dans l'activité « {quiz.name} » (cm {quiz.cmid}) du cours 2",
        "Vérifier les permissions",
    ):
        assert part in item.hint, part
    assert moodle.requests[F_QUIZ_ATTEMPTS_OLD] == 1

    # With the capability, the same probe reads.
    moodle.faults.missing_capabilities.clear()
    async with make_connector() as connector:
        report = await connector.check()
    assert "missing_capabilities" not in report.details
    ok = next(i for i in report.items if i.code == f"read:{QUIZ_CAPABILITY}")
    assert ok.status is CheckStatus.OK


async def test_the_fix_is_given_in_english_too(
    monkeypatch: pytest.MonkeyPatch, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    monkeypatch.setattr("preuve.i18n._language", "en")
    moodle.faults.missing_capabilities.add(QUIZ_CAPABILITY)
    async with make_connector() as connector:
        report = await connector.check()
    item = next(i for i in report.items if i.code == f"capability:{QUIZ_CAPABILITY}")
    assert item.message.startswith(
        f"missing permission to read the positioning quiz attempts ({F_QUIZ_ATTEMPTS_OLD}): "
        f"{QUIZ_CAPABILITY} (read the learners' quiz attempts and grades), refused in activity"
    )
    assert item.hint is not None
    assert item.hint.startswith(
        "Site administration > Users > Permissions > Define roles > the role assigned to "
        f"account 'qualiopi_ws' at system level > Edit: set {QUIZ_CAPABILITY} to 'Allow'."
    )
    for french in ("manquante", "refusée", "lire", "Administration", "rôle", "Autoriser"):
        assert french not in item.message + item.hint  # no French left but the quiz's name


async def test_moodle_5_probes_the_new_attempts_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = SiteSpec(courses=2, learners_per_course=3, release="5.0.2 (Build: 20250811)")
    stand_in = await start_stand_in(spec, Faults(missing_capabilities={QUIZ_CAPABILITY}))
    monkeypatch.setenv(TOKEN_ENV, stand_in.token)
    try:
        async with build_connector(TENANT, source(stand_in.url)) as connector:
            report = await connector.check()
    finally:
        await stand_in.close()
    item = next(i for i in report.items if i.code == f"capability:{QUIZ_CAPABILITY}")
    assert F_QUIZ_ATTEMPTS_NEW in item.message
    assert stand_in.requests[F_QUIZ_ATTEMPTS_NEW] == 1
    assert stand_in.requests[F_QUIZ_ATTEMPTS_OLD] == 0


async def test_without_the_attempts_function_nothing_is_probed(
    make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.missing_functions.add(F_QUIZ_ATTEMPTS_OLD)
    moodle.faults.missing_capabilities.add(QUIZ_CAPABILITY)
    async with make_connector() as connector:
        report = await connector.check()
    assert F_QUIZ_ATTEMPTS_OLD in report.details["missing_functions"]["optional"]
    assert not any(i.code.endswith(QUIZ_CAPABILITY) for i in report.items)
    assert moodle.requests[F_QUIZ_ATTEMPTS_OLD] == 0


async def test_the_sync_fails_on_the_same_missing_capability(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    """What the probe announces: the stand-in refuses a learner's attempts like Moodle."""
    moodle.faults.missing_capabilities.add(QUIZ_CAPABILITY)
    moodle.faults.grade_dates_missing = True  # the stream has to ask the quizzes
    outcome = await run(store, make_connector(disabled_streams=ONLY_ASSESSMENTS))
    assert outcome.status is RunStatus.FAILED
    error = outcome.errors[-1]
    assert error["code"] == "missing_capability"
    assert QUIZ_CAPABILITY in error["message"]


async def test_completion_hidden_from_the_account_is_reported_not_invented(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    """Without report/completion:view Moodle answers no error, only an empty
    completion: check names the capability, the sync invents no "not started"."""
    capability = "report/completion:view"
    moodle.faults.missing_capabilities.add(capability)
    async with make_connector() as connector:
        report = await connector.check()
    item = next(i for i in report.items if i.code == f"capability:{capability}")
    assert item.status is CheckStatus.WARNING
    assert item.message.startswith(
        f"permission manquante pour lire l'achèvement des parcours : {capability} "
        "(lire l'achèvement des apprenants), refusée dans le cours 2"
    )
    assert item.hint is not None
    assert f"réglez {capability} sur « Autoriser »" in item.hint
    only = {"disabled_streams": ["trainers", "attendance", "surveys", "scorm", "assessments"]}
    outcome = await run(store, make_connector(**only))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    completions = [r for r in await rows(store) if r["kind"] == "completion"]
    assert completions == []

    moodle.faults.missing_capabilities.clear()
    async with make_connector() as connector:
        report = await connector.check()
    assert any(i.code == f"read:{capability}" for i in report.items)
