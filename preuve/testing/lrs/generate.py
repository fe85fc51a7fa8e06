"""Deterministic statement sets for the LRS stand-in: realistic shapes (cmi5
sessions, Moodle attendance, quiz attempts, surveys, unknown verbs), any size."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

ADL = "http://adlnet.gov/expapi/verbs/"
HOME = "https://lms.of-demo.example"
COURSE_TYPE = "https://w3id.org/xapi/cmi5/activitytype/course"
SURVEY_TYPE = "http://id.tincanapi.com/activitytype/survey"
CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
SESSION_EXT = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"

# (verb IRI, weight): what a mixed LRS looks like.
VERBS: tuple[tuple[str, int], ...] = (
    (ADL + "launched", 10),
    (ADL + "initialized", 10),
    (ADL + "terminated", 10),
    (ADL + "progressed", 8),
    (ADL + "attended", 15),
    (ADL + "passed", 6),
    (ADL + "failed", 3),
    (ADL + "completed", 10),
    (ADL + "answered", 10),
    ("https://w3id.org/xapi/adl/verbs/satisfied", 3),
    ("http://activitystrea.ms/schema/1.0/submit", 4),
    ("http://example.org/verbs/doodled", 2),  # unknown to Preuve: kept as raw activity
)
_VERB_IDS = [verb for verb, _ in VERBS]
_VERB_WEIGHTS = [weight for _, weight in VERBS]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _actor(rng: random.Random, learners: int) -> dict[str, Any]:
    n = rng.randrange(learners)
    if n % 3 == 0:
        return {"objectType": "Agent", "mbox": f"mailto:apprenant{n}@of-demo.example"}
    return {"objectType": "Agent", "account": {"homePage": HOME, "name": str(1000 + n)}}


def statement(rng: random.Random, *, learners: int, courses: int, when: datetime) -> dict[str, Any]:
    """One statement with a verb drawn from :data:`VERBS`."""
    verb = rng.choices(_VERB_IDS, _VERB_WEIGHTS)[0]
    course = rng.randrange(courses)
    course_iri = f"{HOME}/course/view.php?id={course}"
    module_iri = f"{HOME}/mod/scorm/view.php?id={course * 10 + rng.randrange(5)}"
    target: dict[str, Any] = {
        "objectType": "Activity",
        "id": module_iri,
        "definition": {"type": "http://adlnet.gov/expapi/activities/lesson"},
    }
    context: dict[str, Any] = {
        "registration": _uuid(rng),
        "contextActivities": {
            "parent": [
                {
                    "objectType": "Activity",
                    "id": course_iri,
                    "definition": {"type": COURSE_TYPE},
                }
            ],
            "category": [{"objectType": "Activity", "id": CMI5_CATEGORY}],
        },
        "extensions": {SESSION_EXT: _uuid(rng)},
    }
    result: dict[str, Any] | None = None
    if verb.endswith("/attended"):
        target = {
            "objectType": "Activity",
            "id": f"{HOME}/mod/facetoface/view.php?id={course}&session={rng.randrange(40)}",
            "definition": {
                "type": "https://w3id.org/xapi/acrossx/activities/face-to-face-discussion"
            },
        }
        result = {"completion": True, "duration": f"PT{rng.randrange(1, 4)}H"}
        context["instructor"] = {"objectType": "Agent", "mbox": "mailto:formatrice@of-demo.example"}
    elif verb.endswith(("/passed", "/failed")):
        raw = rng.randrange(0, 21)
        result = {
            "score": {"raw": raw, "min": 0, "max": 20, "scaled": round(raw / 20, 2)},
            "success": verb.endswith("/passed"),
            "duration": f"PT{rng.randrange(5, 60)}M",
        }
    elif verb.endswith("/terminated"):
        result = {"duration": f"PT{rng.randrange(1, 90)}M{rng.randrange(60)}S"}
    elif verb.endswith("/progressed"):
        result = {
            "extensions": {
                "https://w3id.org/xapi/cmi5/result/extensions/progress": rng.randrange(101)
            }
        }
    elif verb.endswith("/completed"):
        result = {"completion": True, "duration": f"PT{rng.randrange(5, 90)}M"}
    elif verb.endswith("/answered"):
        result = {"response": rng.choice(["true", "false", "b", "42"]), "success": True}
    elif verb.endswith("/satisfied"):
        target = {"objectType": "Activity", "id": course_iri, "definition": {"type": COURSE_TYPE}}
    elif verb.endswith("/submit"):
        target = {
            "objectType": "Activity",
            "id": f"{HOME}/mod/feedback/view.php?id={course}",
            "definition": {"type": SURVEY_TYPE},
        }
    data: dict[str, Any] = {
        "id": _uuid(rng),
        "actor": _actor(rng, learners),
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": target,
        "context": context,
        "timestamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if result is not None:
        data["result"] = result
    return data


def generate_statements(
    count: int,
    *,
    seed: int = 7,
    learners: int = 500,
    courses: int = 20,
    start: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """``count`` statements, timestamps one minute apart from ``start``."""
    rng = random.Random(seed)
    begin = start or datetime(2026, 9, 1, 7, 0, tzinfo=UTC)
    for n in range(count):
        yield statement(rng, learners=learners, courses=courses, when=begin + timedelta(minutes=n))


def voiding_statement(target_id: str, *, seed: int, when: datetime) -> dict[str, Any]:
    """The trainer voids a statement (e.g. an attendance recorded by mistake)."""
    rng = random.Random(seed)
    return {
        "id": _uuid(rng),
        "actor": {"objectType": "Agent", "mbox": "mailto:formatrice@of-demo.example"},
        "verb": {"id": ADL + "voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target_id},
        "timestamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
