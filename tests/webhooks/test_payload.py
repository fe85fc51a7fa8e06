"""Thin payloads: the allowed keys pass, anything else (personal data) is dropped."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from preuve.events import DUE_SOON, SYNC_COMPLETED, SYNC_FAILED, Event
from preuve.webhooks.payload import MAX_TEXT_CHARS, build_body

WHEN = datetime(2026, 11, 29, 2, 41, tzinfo=UTC)


def test_a_coverage_event_keeps_its_thin_fields() -> None:
    event = Event(
        DUE_SOON,
        "of-a",
        {
            "snapshot_id": 12,
            "referential_version": "2024-01",
            "indicator": "4",
            "action_ref": None,
            "status": "due_soon",
            "previous_status": "ok",
            "nonconformity": "minor",
            "due_by": "2026-12-15",
            "reason": "entretien de positionnement manquant",
            "learners": ["Jeanne Martin"],  # never sent
            "person_ref": "p_1234",  # not needed by a receiver either
        },
        occurred_at=WHEN,
    )
    body = orjson.loads(build_body(event))
    assert body["type"] == DUE_SOON
    assert body["timestamp"] == "2026-11-29T02:41:00+00:00"
    assert body["data"] == {
        "tenant": "of-a",
        "snapshot_id": 12,
        "referential_version": "2024-01",
        "indicator": "4",
        "action_ref": None,
        "status": "due_soon",
        "previous_status": "ok",
        "nonconformity": "minor",
        "due_by": "2026-12-15",
        "reason": "entretien de positionnement manquant",
    }


def test_a_sync_event_links_to_the_runs_and_drops_nested_objects() -> None:
    event = Event(
        SYNC_COMPLETED,
        "of a/b",
        {
            "source": "moodle",
            "run_id": "r1",
            "totals": {"inserted": 3, "updated": 0},
            "counts": {"users": {"names": ["x"]}},  # nested deeper than thin: dropped
        },
        occurred_at=WHEN,
    )
    data = orjson.loads(build_body(event, "https://preuve.example.org/"))["data"]
    assert data["totals"] == {"inserted": 3, "updated": 0}
    assert "counts" not in data
    assert data["links"] == {
        "dashboard": "https://preuve.example.org/tenants/of%20a%2Fb",
        "runs": "https://preuve.example.org/tenants/of%20a%2Fb/runs",
    }


def test_long_free_text_is_cut() -> None:
    event = Event(SYNC_FAILED, "of-a", {"reason": "x" * 5000, "code": "http"}, occurred_at=WHEN)
    data = orjson.loads(build_body(event))["data"]
    assert len(data["reason"]) == MAX_TEXT_CHARS
    assert data["reason"].endswith("…")
    assert data["code"] == "http"
