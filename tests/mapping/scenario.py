"""A fictitious organisation with planted gaps, written through the real store.

"Atelier Test" runs four actions in autumn 2026, evaluated on 2026-11-30:

- A1 Excel (certifying, 3 days): p_a1_1 and p_a1_2 have no entry positioning
  (p_a1_1 had one, but it was withdrawn); p_a1_5 dropped out and was followed up;
  the cold survey is not due yet.
- A2 Management (blended, 2 days): no satisfaction survey at all (neither the
  learners' nor the teaching team's). Its two distance modules are tracked by
  completion and every learner completed both.
- A3 First aid (3 days): hot survey answered by 1 learner out of 4 (25 % < 50 %,
  deadline passed).
- A4 Sales (3 days with a period in a company, ended 2026-11-18): p_a4_3 has no
  final assessment yet, due 15 days after the end; the learners' hot survey has 1
  answer out of 4 and the company survey 2 answers but no invited count (response
  rate unknown): both can still be completed until 2026-12-03 (due); the cold
  survey is not due yet.
- Trainer p_t2 has no continuing development in the last 24 months.
- Manual proofs: every manual-only indicator has one, except 23 (none) and 24
  (expired); so do the manual parts of 2, 12, 19, 30 and 32 (funders' views; the
  2026 calculation method, violence prevention, pedagogical referent and quality
  risk analysis), each with its component, but not the 2026 part of 1 (type of
  recognition and funding arrangements): under rnq-2026 every action's 1 needs
  that proof.

Each action's teaching team answered a hot survey, except A2's. The expected
statuses of both referential versions are at the end of this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from preuve.config.settings import Settings, TenantConfig
from preuve.evidence.model import EvidenceRecord, Withdrawal
from preuve.store import Store
from tests.factories import record

TENANT = "of-test"
SOURCE = "lms"
AS_OF = date(2026, 11, 30)

ACTIONS: dict[str, dict[str, Any]] = {
    "A1": {
        "title": "Excel avancé",
        "start": date(2026, 10, 5),
        "days": 3,
        "learners": 6,
        "certification_register": "RS",
        "certification_code": "RS5252",
        "modality": "face_to_face",
        "domains": ["excel"],
        "trainer": "p_t1",
    },
    "A2": {
        "title": "Manager à distance",
        "start": date(2026, 10, 12),
        "days": 2,
        "learners": 5,
        "modality": "blended",
        "domains": ["management"],
        "trainer": "p_t1",
    },
    "A3": {
        "title": "Sauveteur secouriste du travail",
        "start": date(2026, 11, 2),
        "days": 3,
        "learners": 4,
        "modality": "face_to_face",
        "domains": ["secourisme"],
        "trainer": "p_t2",
    },
    "A4": {
        "title": "Techniques de vente",
        "start": date(2026, 11, 16),
        "days": 3,
        "learners": 4,
        "modality": "face_to_face",
        "domains": ["vente"],
        "trainer": "p_t2",
        "work_based_periods": True,
    },
}
# Hot survey per action: (stakeholder, invited, responses); A2 has none. The
# teaching team's (one trainer each) are answered; A4's company survey has no
# invited count.
HOT_SURVEYS: dict[str, list[tuple[str, int | None, int]]] = {
    "A1": [("learner", 6, 5), ("trainer", 1, 1)],
    "A3": [("learner", 4, 1), ("trainer", 1, 1)],
    "A4": [("learner", 4, 1), ("trainer", 1, 1), ("employer", None, 2)],
}
# A2's distance modules, tracked by completion (as Moodle reports them).
DISTANCE_MODULES = {"A2": ("A2-module-1", "A2-module-2")}
MISSING_POSITIONING = {"p_a1_1", "p_a1_2"}
DROPPED = {"p_a1_5"}
NO_FINAL = {"p_a4_3"}
MANUAL_ACTION = (3, 4, 7, 9, 13, 16, 28)
MANUAL_ORG = (14, 15, 17, 18, 20, 25, 26, 27, 29, 31, 32, 33)
# The manual parts of indicators, (component, title): 30 (funders' views, both
# versions), and under rnq-2026 2, 12, 19 and 32 (the risk analysis, next to 32's
# main manual part). Not 1: its 2026 part is a planted gap.
COMPONENT_PROOFS: dict[int, tuple[str, str]] = {
    2: ("calculation_method", "Modalités de calcul des indicateurs de résultats"),
    12: ("violence_prevention", "Procédure de prévention des violences et du harcèlement"),
    19: ("pedagogical_referent", "Référents pédagogiques par formation"),
    30: ("funder_feedback", "Sollicitation annuelle des financeurs"),
    32: ("risk_analysis", "Analyse des risques qualité 2026"),
}


def _at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def tenant_config(**changes: Any) -> TenantConfig:
    values: dict[str, Any] = {"id": TENANT, "name": "Atelier Test", "categories": ["training"]}
    values.update(changes)
    return TenantConfig.model_validate(values)


def _r(data: dict[str, Any], source_id: str, when: datetime | None = None) -> EvidenceRecord:
    return record(data, source_id=source_id, tenant=TENANT, source=SOURCE, effective_at=when)


def _action_records(ref: str, spec: dict[str, Any]) -> Iterator[EvidenceRecord]:
    start: date = spec["start"]
    end = start + timedelta(days=spec["days"] - 1)
    action: dict[str, Any] = {
        "kind": "training_action",
        "action_ref": ref,
        "title": spec["title"],
        "duration_hours": 7 * spec["days"],
        "modality": spec["modality"],
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "domains": spec["domains"],
    }
    for key in ("certification_register", "certification_code", "work_based_periods"):
        if key in spec:
            action[key] = spec[key]
    yield _r(action, f"action/{ref}", _at(start))
    yield _r(
        {
            "kind": "course_description",
            "action_ref": ref,
            "objectives": ["Objectif 1", "Objectif 2"],
            "prerequisites": "Aucun",
            "duration_hours": 7 * spec["days"],
            "modalities": spec["modality"],
            "price": "900 € HT",
            "access_lead_time": "10 jours",
            "assessment_methods": "QCM et mise en situation",
            "accessibility": "Accessible, référent handicap joignable",
        },
        f"description/{ref}",
        _at(start - timedelta(days=60)),
    )
    yield _r(
        {
            "kind": "learning_resource",
            "action_ref": ref,
            "resource_ref": f"{ref}-support",
            "title": "Support de cours",
        },
        f"resource/{ref}",
        _at(start - timedelta(days=10)),
    )
    for module in DISTANCE_MODULES.get(ref, ()):
        yield _r(
            {
                "kind": "learning_resource",
                "action_ref": ref,
                "resource_ref": module,
                "title": f"Module à distance {module}",
                "resource_type": "scorm",
                "distance": True,
            },
            f"resource/{ref}/{module}",
            _at(start - timedelta(days=10)),
        )
    trainer = spec["trainer"]
    yield _r(
        {"kind": "enrolment", "action_ref": ref, "person_ref": trainer, "role": "trainer"},
        f"enrolment/{ref}/{trainer}",
        _at(start),
    )
    for number in range(spec["learners"]):
        yield from _learner_records(ref, start, end, spec, f"p_{ref.lower()}_{number}")
    for stakeholder, invited, responses in HOT_SURVEYS.get(ref, []):
        suffix = "" if stakeholder == "learner" else f"-{stakeholder}"
        survey: dict[str, Any] = {
            "kind": "satisfaction_survey",
            "action_ref": ref,
            "survey_ref": f"{ref}-hot{suffix}",
            "timing": "hot",
            "stakeholder": stakeholder,
            "response_count": responses,
        }
        if invited is not None:
            survey["invited_count"] = invited
        yield _r(survey, f"survey/{ref}/hot{suffix}", _at(end, 17))


def _learner_records(
    ref: str, start: date, end: date, spec: dict[str, Any], key: str
) -> Iterator[EvidenceRecord]:
    dropped = key in DROPPED
    yield _r(
        {
            "kind": "enrolment",
            "action_ref": ref,
            "person_ref": key,
            "role": "learner",
            "status": "dropped_out" if dropped else ("completed" if end < AS_OF else "active"),
        },
        f"enrolment/{ref}/{key}",
        _at(start - timedelta(days=20)),
    )
    if key not in MISSING_POSITIONING:
        yield _r(
            {
                "kind": "assessment",
                "action_ref": ref,
                "person_ref": key,
                "assessment_kind": "entry_positioning",
                "score": 11,
                "max_score": 20,
            },
            f"positioning/{ref}/{key}",
            _at(start - timedelta(days=5)),
        )
    for offset in range(spec["days"]):
        day = start + timedelta(days=offset)
        for half in ("am", "pm"):
            yield _r(
                {
                    "kind": "attendance",
                    "action_ref": ref,
                    "person_ref": key,
                    "day": day.isoformat(),
                    "half": half,
                    "status": "absent" if dropped and offset > 0 else "present",
                    "method": "signature",
                },
                f"attendance/{ref}/{key}/{day}/{half}",
                _at(day, 9 if half == "am" else 14),
            )
    if spec["modality"] == "blended":
        yield _r(
            {
                "kind": "activity",
                "action_ref": ref,
                "person_ref": key,
                "activity_ref": f"{ref}-support",
                "verb": "viewed",
                "at": _at(start, 20).isoformat(),
            },
            f"activity/{ref}/{key}",
            _at(start, 20),
        )
    for module in DISTANCE_MODULES.get(ref, ()):
        yield _r(
            {
                "kind": "completion",
                "action_ref": ref,
                "person_ref": key,
                "activity_ref": module,
                "state": "completed",
                "completed_at": _at(start, 21).isoformat(),
            },
            f"completion/{ref}/{module}/{key}",
            _at(start, 21),
        )
    if dropped:
        yield _r(
            {
                "kind": "support_interaction",
                "action_ref": ref,
                "person_ref": key,
                "channel": "call",
                "topic": "dropout_followup",
                "at": _at(start + timedelta(days=2)).isoformat(),
            },
            f"followup/{ref}/{key}",
            _at(start + timedelta(days=2)),
        )
    elif key not in NO_FINAL:
        yield _r(
            {
                "kind": "assessment",
                "action_ref": ref,
                "person_ref": key,
                "assessment_kind": "final",
                "score": 15,
                "max_score": 20,
                "passed": True,
            },
            f"final/{ref}/{key}",
            _at(end, 16),
        )


def _trainer_records() -> Iterator[EvidenceRecord]:
    files: list[tuple[str, dict[str, Any]]] = [
        (
            "cv/p_t1",
            {
                "kind": "trainer_cv",
                "person_ref": "p_t1",
                "document": {"uri": "cv/t1.pdf"},
                "updated": "2025-01",
            },
        ),
        (
            "cv/p_t2",
            {
                "kind": "trainer_cv",
                "person_ref": "p_t2",
                "document": {"uri": "cv/t2.pdf"},
                "updated": "2024-06",
            },
        ),
        (
            "qual/p_t1",
            {
                "kind": "trainer_qualification",
                "person_ref": "p_t1",
                "title": "Titre professionnel formateur pour adultes",
                "domains": ["Excel", "management d'équipe"],
                "obtained": "2015",
            },
        ),
        (
            "exp/p_t2",
            {
                "kind": "trainer_experience",
                "person_ref": "p_t2",
                "title": "Formateur Sauveteur Secouriste, animateur vente",
                "domains": ["secourisme", "vente"],
                "start": "2012-09",
                "end": "2021-06",
            },
        ),
        (
            "cpd/p_t1",
            {
                "kind": "trainer_cpd",
                "person_ref": "p_t1",
                "title": "Classe virtuelle",
                "completed": "2026-03",
            },
        ),
        (
            "cpd/p_t2",
            {
                "kind": "trainer_cpd",
                "person_ref": "p_t2",
                "title": "Recyclage SST",
                "completed": "2023-05",
            },
        ),
    ]
    for source_id, data in files:
        yield _r(data, source_id)


def manual_proof(
    indicator: int,
    *,
    dated: str = "2026-09-01",
    until: str | None = "2027-09-01",
    title: str | None = None,
    component: str | None = None,
) -> EvidenceRecord:
    data: dict[str, Any] = {
        "kind": "manual_proof",
        "indicator": indicator,
        "title": title or f"Procédure indicateur {indicator}",
        "document": {"uri": f"https://intranet.example.org/qualite/{indicator}"},
        "dated": dated,
    }
    if until is not None:
        data["valid_until"] = until
    if component is not None:
        data["component"] = component
    source_id = f"proof-{indicator}-{dated}" + (f"-{title}" if title else "")
    return record(data, source_id=source_id, tenant=TENANT, source="manual")


def scenario_records() -> list[EvidenceRecord]:
    records: list[EvidenceRecord] = []
    for ref, spec in ACTIONS.items():
        records.extend(_action_records(ref, spec))
    records.extend(_trainer_records())
    # p_a1_1 had a positioning, later withdrawn (e.g. entered for the wrong learner).
    records.append(
        _r(
            {
                "kind": "assessment",
                "action_ref": "A1",
                "person_ref": "p_a1_1",
                "assessment_kind": "entry_positioning",
                "score": 9,
                "max_score": 20,
            },
            "positioning/A1/p_a1_1",
            _at(date(2026, 9, 30)),
        )
    )
    return records


async def load_scenario(store: Store) -> None:
    await store.evidence.write_batch(TENANT, SOURCE, scenario_records())
    await store.evidence.write_batch(
        TENANT,
        SOURCE,
        [],
        withdrawals=[
            Withdrawal(
                kind="assessment",
                source_id="positioning/A1/p_a1_1",
                reason="wrong learner",
                at=_at(date(2026, 10, 1)),
            )
        ],
    )
    proofs = [manual_proof(n) for n in (*MANUAL_ACTION, *MANUAL_ORG)]
    proofs.append(manual_proof(24, dated="2025-01-10", until="2026-01-10"))  # expired
    proofs.extend(
        manual_proof(n, title=title, component=component)
        for n, (component, title) in COMPONENT_PROOFS.items()
    )
    await store.evidence.write_batch(TENANT, "manual", proofs)


# What the evaluation must say: (status, a fragment of the French reason) of every
# planted gap; every other applicable indicator is "proven". Statuses under
# rnq-2019-v9 first, then what rnq-2026 changes.
Expected = dict[tuple[str, int], tuple[str, str]]
_A1_COLD = "enquête à froid auprès des apprenants attendue au plus tard le 2027-01-05"
EXPECTED_ACTIONS_V9: Expected = {
    ("A1", 8): ("partial", "2 apprenants sur 6 n'ont pas de positionnement d'entrée"),
    ("A1", 30): ("due", _A1_COLD),
    ("A2", 30): ("missing", "aucune enquête à chaud auprès des équipes pédagogiques"),
    ("A3", 30): ("partial", "1 réponse sur 4 (25\u202f%), sous le seuil de 50\u202f%"),
    ("A4", 11): ("due", "évaluation des acquis attendue au plus tard le 2026-12-03"),
    ("A4", 30): ("due", "taux de réponse inconnu : nombre d'invités absent (à compléter"),
}
_RECOGNITION = "type de reconnaissance de la formation et modalités de financement"
EXPECTED_ACTIONS_2026: Expected = EXPECTED_ACTIONS_V9 | {
    (ref, 1): ("manual", f"preuve manuelle à joindre (document ou lien daté) : {_RECOGNITION}")
    for ref in ACTIONS
}
NOT_APPLICABLE_ACTIONS: dict[str, set[int]] = {
    "A1": {13, 28},
    "A2": {3, 7, 12, 13, 16, 28},
    "A3": {3, 7, 13, 16, 28},
    "A4": {3, 7, 13, 16},
}
EXPECTED_ORGANISATION_V9: dict[int, tuple[str, str]] = {
    8: ("partial", "1 action sur 4 non prouvée : A1 (partiel)"),
    11: ("due", "1 action sur 4 à échéance (au plus tard le 2026-12-03) : A4"),
    22: (
        "partial",
        "1 formateur sur 2 sans formation continue datée au cours des 24 derniers mois : p_t2",
    ),
    23: ("manual", "preuve manuelle à joindre"),
    24: ("manual", "expirée le 2026-01-10"),
    30: ("partial", "2 actions sur 4 non prouvées : A2 (manquant), A3 (partiel)"),
}
EXPECTED_ORGANISATION_2026: dict[int, tuple[str, str]] = EXPECTED_ORGANISATION_V9 | {
    1: ("manual", "4 actions sur 4 non prouvées"),
}
NOT_APPLICABLE_ORGANISATION = {13, 14, 15, 20, 27, 29, 33}


def settings_with_endpoint(store_url: str, secret_env: str, **tenant: Any) -> Settings:
    """Settings for the scenario's tenant with one configured webhook endpoint (all
    events, on a local port nothing listens to), its secret read from ``secret_env``."""
    return Settings.model_validate(
        {
            "store": {"url": store_url},
            "webhooks": {"allow_networks": ["127.0.0.0/8"]},
            "tenants": [
                {
                    "id": TENANT,
                    "name": "Atelier Test",
                    "webhooks": [
                        {
                            "id": "qualite",
                            "url": "http://127.0.0.1:9/hook",
                            "events": [],
                            "secret_env": secret_env,
                        }
                    ],
                    **tenant,
                }
            ],
        }
    )
