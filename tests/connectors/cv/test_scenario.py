"""Indicators 21 and 22 evaluated on what the cv connector stored.

Three trainers enrolled (as Moodle would report them) on active actions:

- Claire (Europass CV, badge and courses in 2025) teaches fire safety, outside
  her qualifications and experience (training engineering, office software):
  she appears under 21, named with the domain she lacks.
- Paul (PDF CV, last continuing development in 02/2019) teaches risk prevention,
  which his experience covers: he appears under 22 only.
- Nadia (JSON Resume, certificate 03/2025) teaches web development: she is fine.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from preuve.config.settings import SourceConfig
from preuve.connectors.registry import build_connector
from preuve.evidence.model import EvidenceRecord
from preuve.mapping import Status, evaluate
from preuve.mapping.result import IndicatorCoverage
from preuve.store import RunStatus, Store
from preuve.sync.runner import sync_connector
from tests.connectors.cv.conftest import CLAIRE, NADIA, PAUL, TENANT, person_key
from tests.factories import record

AS_OF = date(2026, 6, 1)


def _lms_records() -> list[EvidenceRecord]:
    actions = {
        "moodle:10": ("Sécurité incendie : manipulation des extincteurs", ("sécurité incendie",)),
        "moodle:11": ("Prévention des risques professionnels", ("sécurité",)),
        "moodle:12": ("Développement web avec JavaScript", ("informatique",)),
    }
    teaching = {"moodle:10": CLAIRE, "moodle:11": PAUL, "moodle:12": NADIA}
    out = [
        record(
            {
                "kind": "training_action",
                "action_ref": ref,
                "title": title,
                "domains": list(domains),
                "start_date": "2026-01-05",
                "end_date": "2026-12-18",
            },
            source_id=ref,
            source="lms",
        )
        for ref, (title, domains) in actions.items()
    ]
    out.extend(
        record(
            {
                "kind": "enrolment",
                "action_ref": ref,
                "person_ref": person_key(email),
                "role": "trainer",
            },
            source_id=f"{ref}/{email}",
            source="lms",
        )
        for ref, email in teaching.items()
    )
    return out


def _org(result_items: list[IndicatorCoverage], number: int) -> IndicatorCoverage:
    return next(item for item in result_items if item.indicator == number)


async def test_trainer_outside_qualifications_and_trainer_without_recent_cpd(
    store: Store, trainer_folder: Path
) -> None:
    await store.evidence.write_batch(TENANT.id, "lms", _lms_records())
    source = SourceConfig(
        id="cv", kind="cv", path=str(trainer_folder), options={"trainers": {"claire/": CLAIRE}}
    )
    async with build_connector(TENANT, source) as connector:
        outcome = await sync_connector(store, connector)
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors

    result = await evaluate(store, TENANT, as_of=AS_OF)
    claire, paul = person_key(CLAIRE), person_key(PAUL)

    competence = _org(result.organisation, 21)
    assert competence.status is Status.PARTIAL
    assert competence.at_fault == [claire]
    assert claire in competence.reason.fr
    assert "sécurité incendie" in competence.reason.fr
    assert "sécurité incendie" in competence.reason.en
    assert paul not in competence.reason.fr  # his experience covers "sécurité"

    cpd = _org(result.organisation, 22)
    assert cpd.status is Status.PARTIAL
    assert cpd.at_fault == [paul]
    assert paul in cpd.reason.fr
    assert "au cours des 24 derniers mois" in cpd.reason.fr
    assert claire not in cpd.reason.fr  # her badge of 2025-04-02 is within the window
