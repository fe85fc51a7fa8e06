"""A small fictitious training organisation, "Atelier Horizon Formation".

Three training actions, a dozen learners each, two trainers, with the kind of
gaps a real organisation has (a learner without entry positioning, a survey
with few answers...). Written for Preuve; deterministic.

The manual proofs the organisation keeps for the manual parts of indicators the
evidence otherwise proves (the funders' views for 30, and the parts the 2026
referential reportedly adds to 1, 2, 12 and 19), each naming its component, are
in :data:`MANUAL_PROOFS`;
the indicators only a document can prove (23-26, 31, 32...) have none, so the
demo shows what is left to attach.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from preuve.evidence.identity import Pseudonymiser

TENANT_ID = "atelier-horizon"
TENANT_NAME = "Atelier Horizon Formation"
TENANT_SIRET = "90000000000018"
TENANT_NDA = "11759999999"
PSEUDONYMS = Pseudonymiser(b"preuve-demo")

ACTIONS: list[dict[str, Any]] = [
    {
        "action_ref": "bureautique-2026",
        "title": "Bureautique : Excel avancé",
        "duration_hours": 21,
        "modality": "face_to_face",
        "start": date(2026, 9, 14),
        "days": 3,
        "certification": ("RS", "RS5252"),
        "domains": ["bureautique", "excel"],
    },
    {
        "action_ref": "management-2026",
        "title": "Manager une équipe à distance",
        "duration_hours": 14,
        "modality": "blended",
        "start": date(2026, 10, 5),
        "days": 2,
        "certification": None,
        "domains": ["management"],
    },
    {
        "action_ref": "secourisme-2026",
        "title": "Sauveteur secouriste du travail",
        "duration_hours": 14,
        "modality": "face_to_face",
        "start": date(2026, 10, 19),
        "days": 2,
        "certification": None,
        "domains": ["secourisme", "sécurité"],
    },
]

TRAINERS: list[dict[str, Any]] = [
    {"email": "claire.formatrice@example.org", "name": "Claire Dumas", "actions": [0, 1]},
    {"email": "karim.formateur@example.org", "name": "Karim Benali", "actions": [2]},
]

LEARNERS_PER_ACTION = 12

# (indicator, component, title): organisation-wide proofs of the manual parts of
# indicators, dated before the actions; the component names the part each proves.
MANUAL_PROOFS: list[tuple[int, str, str]] = [
    (1, "recognition_funding", "Catalogue : reconnaissance des formations et financements"),
    (2, "calculation_method", "Page « nos résultats » : modalités de calcul des indicateurs"),
    (
        12,
        "violence_prevention",
        "Procédure de prévention des violences, du harcèlement et des discriminations",
    ),
    (19, "pedagogical_referent", "Référents pédagogiques par formation"),
    (30, "funder_feedback", "Sollicitation annuelle des financeurs (OPCO, CPF)"),
]


def _at(day: date, hour: int) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00+02:00"


def _line(source_id: str, data: dict[str, Any], effective_at: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"source_id": source_id, "data": data}
    if effective_at:
        line["effective_at"] = effective_at
    return line


# The day the dataset is written for. Run on a later day, every date moves by the
# same number of days, so the demo shows the same picture whenever it runs (recent
# CVs stay recent, proofs stay valid), like the Moodle stand-in beside it, whose
# dates follow the clock too.
DATASET_DAY = date(2026, 11, 30)


def _month(day: date) -> str:
    return day.strftime("%Y-%m")


def demo_lines(today: date | None = None) -> Iterator[dict[str, Any]]:
    """The organisation's evidence, in the JSON Lines import format, as of ``today``."""
    shift = max(timedelta(0), (today or date.today()) - DATASET_DAY)
    for index, action in enumerate(ACTIONS):
        ref = action["action_ref"]
        start: date = action["start"] + shift
        end = start + timedelta(days=action["days"] - 1)
        action_data: dict[str, Any] = {
            "kind": "training_action",
            "action_ref": ref,
            "title": action["title"],
            "duration_hours": action["duration_hours"],
            "modality": action["modality"],
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "domains": action["domains"],
        }
        if action["certification"]:
            action_data["certification_register"] = action["certification"][0]
            action_data["certification_code"] = action["certification"][1]
        yield _line(f"action/{ref}", action_data, _at(start, 9))
        description: dict[str, Any] = {
            "kind": "course_description",
            "action_ref": ref,
            "title": action["title"],
            "objectives": [f"Objectif {n} de « {action['title']} »" for n in (1, 2, 3)],
            "prerequisites": "Aucun",
            "duration_hours": action["duration_hours"],
            "modalities": action["modality"],
            "price": "1 200 € HT",
            "access_lead_time": "15 jours",
            "assessment_methods": "QCM final et mise en situation",
        }
        if index != 2:  # the first-aid course forgot its accessibility statement
            description["accessibility"] = "Accessible aux personnes en situation de handicap"
        yield _line(f"description/{ref}", description, _at(start - timedelta(days=60), 9))
        for trainer in TRAINERS:
            if index in trainer["actions"]:
                key = PSEUDONYMS.from_email(trainer["email"])
                yield _line(
                    f"enrolment/{ref}/{key}",
                    {"kind": "enrolment", "action_ref": ref, "person_ref": key, "role": "trainer"},
                    _at(start, 8),
                )
        yield from _learners(index, ref, start, action["days"])
        trainers = sum(1 for trainer in TRAINERS if index in trainer["actions"])
        yield _line(
            f"survey/{ref}/hot-trainer",
            {
                "kind": "satisfaction_survey",
                "action_ref": ref,
                "survey_ref": f"{ref}-hot-trainer",
                "title": "Bilan formateur",
                "timing": "hot",
                "stakeholder": "trainer",
                "invited_count": trainers,
                "response_count": trainers,
            },
            _at(end, 18),
        )
        yield _line(
            f"survey/{ref}/hot",
            {
                "kind": "satisfaction_survey",
                "action_ref": ref,
                "survey_ref": f"{ref}-hot",
                "timing": "hot",
                "stakeholder": "learner",
                "invited_count": LEARNERS_PER_ACTION,
                "response_count": 4 if index == 1 else 10,
            },
            _at(end, 17),
        )
    for trainer in TRAINERS:
        key = PSEUDONYMS.from_email(trainer["email"])
        yield _line(
            f"person/{key}",
            {
                "kind": "person",
                "person_ref": key,
                "roles": ["trainer"],
                "display_name": trainer["name"],
            },
        )
        yield _line(
            f"cv/{key}",
            {
                "kind": "trainer_cv",
                "person_ref": key,
                "document": {"uri": f"cv/{key}.pdf"},
                "updated": _month(date(2025, 6, 15) + shift),
            },
        )
    for indicator, component, title in MANUAL_PROOFS:
        yield _line(
            f"proof/{indicator}/{component}",
            {
                "kind": "manual_proof",
                "indicator": indicator,
                "component": component,
                "title": title,
                "document": {"uri": f"https://atelier-horizon.example.org/qualite/{indicator}"},
                "dated": (date(2026, 9, 1) + shift).isoformat(),
                "valid_until": (date(2027, 8, 31) + shift).isoformat(),
            },
        )
    claire = PSEUDONYMS.from_email(TRAINERS[0]["email"])
    yield _line(
        f"cpd/{claire}/1",
        {
            "kind": "trainer_cpd",
            "person_ref": claire,
            "title": "Animer une classe virtuelle",
            "provider": "Organisme partenaire",
            "completed": _month(date(2026, 3, 15) + shift),
            "hours": 7,
        },
    )


def _learners(index: int, ref: str, start: date, days: int) -> Iterator[dict[str, Any]]:
    for number in range(LEARNERS_PER_ACTION):
        key = PSEUDONYMS.from_email(f"apprenant{index}-{number}@example.org")
        yield _line(
            f"enrolment/{ref}/{key}",
            {
                "kind": "enrolment",
                "action_ref": ref,
                "person_ref": key,
                "role": "learner",
                "status": "dropped_out" if number == 11 else "completed",
            },
            _at(start - timedelta(days=20), 10),
        )
        if number != 3:  # one learner per action never took the entry test
            yield _line(
                f"positioning/{ref}/{key}",
                {
                    "kind": "assessment",
                    "action_ref": ref,
                    "person_ref": key,
                    "assessment_kind": "entry_positioning",
                    "score": 8 + number % 10,
                    "max_score": 20,
                    "assessed_at": _at(start - timedelta(days=7), 10),
                },
                _at(start - timedelta(days=7), 10),
            )
        for day_offset in range(days):
            day = start + timedelta(days=day_offset)
            for half in ("am", "pm"):
                absent = number == 11 and day_offset > 0
                yield _line(
                    f"attendance/{ref}/{key}/{day.isoformat()}/{half}",
                    {
                        "kind": "attendance",
                        "action_ref": ref,
                        "person_ref": key,
                        "day": day.isoformat(),
                        "half": half,
                        "status": "absent" if absent else "present",
                        "method": "signature",
                    },
                    _at(day, 9 if half == "am" else 14),
                )
        if number != 11:
            end = start + timedelta(days=days - 1)
            yield _line(
                f"final/{ref}/{key}",
                {
                    "kind": "assessment",
                    "action_ref": ref,
                    "person_ref": key,
                    "assessment_kind": "final",
                    "score": 12 + number % 8,
                    "max_score": 20,
                    "passed": True,
                    "assessed_at": _at(end, 16),
                },
                _at(end, 16),
            )
