"""The Alembic migrations build exactly the tables the code declares."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, select
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table

from preuve.evidence.model import (
    FACETED_KINDS,
    ActivityTrace,
    Assessment,
    AssessmentKind,
    Attendance,
    AttendanceStatus,
    Completion,
    CompletionState,
    Enrolment,
    HalfDay,
    SupportChannel,
    SupportInteraction,
    SupportTopic,
    _Payload,
)
from preuve.store import Store, open_store
from preuve.store.engine import create_engine
from preuve.store.migrate import needs_upgrade, upgrade
from preuve.store.schema import evidence
from preuve.store.tables import all_metadata


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, all_metadata()))


async def test_migrated_schema_matches_the_declared_tables(store: Store) -> None:
    async with store.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []
    assert not await needs_upgrade(store.engine)


async def test_an_empty_database_gets_the_schema_on_open(tmp_path: object) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/fresh.db")
    try:
        assert not await needs_upgrade(store.engine)
        assert await store.evidence.count_by_kind("x") == {}
    finally:
        await store.close()


def _facet_cases() -> list[_Payload]:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    return [
        Attendance(
            action_ref="A",
            person_ref="p1",
            day=at.date(),
            half=HalfDay.MORNING,
            status=AttendanceStatus.PRESENT,
        ),
        Attendance(
            action_ref="A",
            person_ref="p1",
            day=at.date(),
            half=HalfDay.AFTERNOON,
            status=AttendanceStatus.ABSENT,
        ),
        Assessment(
            action_ref="A", person_ref="p1", assessment_kind=AssessmentKind.FINAL, passed=True
        ),
        Assessment(
            action_ref="A", person_ref="p2", assessment_kind=AssessmentKind.FINAL, passed=False
        ),
        Assessment(
            action_ref="A", person_ref="p3", assessment_kind=AssessmentKind.ENTRY_POSITIONING
        ),
        Completion(action_ref="A", person_ref="p1", state=CompletionState.COMPLETED),
        Completion(
            action_ref="A", person_ref="p1", activity_ref="quiz-1", state=CompletionState.INCOMPLETE
        ),
        SupportInteraction(
            action_ref="A",
            person_ref="p2",
            channel=SupportChannel.CALL,
            topic=SupportTopic.DROPOUT_FOLLOWUP,
            at=at,
        ),
        SupportInteraction(action_ref="A", person_ref="p2", channel=SupportChannel.FORUM, at=at),
        ActivityTrace(action_ref="A", person_ref="p1", activity_ref="page-1", verb="viewed", at=at),
        Enrolment(action_ref="A", person_ref="p1"),
    ]


async def test_the_facet_migration_fills_the_facet_of_stored_rows_like_the_model(
    empty_db_url: str,
) -> None:
    """Rows stored before ``evidence.facet`` existed get the facet the model gives."""
    engine = create_engine(empty_db_url)
    try:
        await upgrade(engine, "mapping_0001")  # the schema before the facet
        old_evidence = sa_table(
            "evidence", *(sa_column(c.name, c.type) for c in evidence.c if c.name != "facet")
        )
        now = datetime(2026, 11, 30, tzinfo=UTC)
        cases = _facet_cases()
        rows = [
            {
                "tenant": "t",
                "source": "s",
                "kind": data.kind,
                "source_id": str(index),
                "action_ref": "A",
                "person_ref": getattr(data, "person_ref", None),
                "effective_at": None,
                "fetched_at": now,
                "content_hash": "h",
                "connector": "c",
                "connector_version": "1",
                "source_url": None,
                "payload": data.model_dump(mode="json", exclude_none=True),
                "revision": 1,
                "withdrawn": False,
                "withdrawn_reason": None,
                "updated_at": now,
            }
            for index, data in enumerate(cases)
        ]
        async with engine.begin() as conn:
            await conn.execute(old_evidence.insert(), rows)
        await upgrade(engine)
        async with engine.connect() as conn:
            stored = dict(
                (await conn.execute(select(evidence.c.source_id, evidence.c.facet))).all()
            )
            diff = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == []
    assert {int(k): v for k, v in stored.items()} == {
        index: data.facet for index, data in enumerate(cases)
    }
    assert stored["1"] == "absent:2026-03-02pm"
    assert stored["2"] == "final:passed"
    assert stored["6"] == "activity:incomplete"


def test_the_faceted_kinds_are_the_payload_classes_that_give_a_facet() -> None:
    classes = {c.model_fields["kind"].default: c for c in _Payload.__subclasses__()}
    overriding = {kind for kind, c in classes.items() if c.facet is not _Payload.facet}
    assert overriding == FACETED_KINDS
