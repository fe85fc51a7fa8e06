"""The intake endpoint: credentials, validation, idempotency, voiding, evidence."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from preuve.config.settings import Settings, SourceConfig, TenantConfig, WebConfig
from preuve.connectors.xapi.tables import xapi_statement
from preuve.evidence.identity import Pseudonymiser
from preuve.store import Store, open_store
from preuve.web import routes_xapi
from preuve.web.keys import SETTINGS_KEY, STORE_KEY
from tests.connectors.xapi.statements import attended, quiz, voiding

ENV = {
    "XAPI_TEST_INTAKE_USER": "moodle-of-test",
    "XAPI_TEST_INTAKE_PASSWORD": "s3cret-of-test",
    "XAPI_TEST_OTHER_USER": "moodle-of-autre",
    "XAPI_TEST_OTHER_PASSWORD": "s3cret-of-autre",
}
V103 = {"X-Experience-API-Version": "1.0.3"}
ID_A = "1b9e5c7e-4f0a-4c3e-8d2b-5a6f7e8d9c0a"
ID_B = "2c0f6d8f-5a1b-4d4f-9e3c-6b7a8f9e0d1b"


def _auth(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", **V103}


AUTH = _auth("moodle-of-test", "s3cret-of-test")
OTHER = _auth("moodle-of-autre", "s3cret-of-autre")


def _intake_source(source_id: str, user_env: str, password_env: str) -> SourceConfig:
    return SourceConfig(
        id=source_id,
        kind="xapi",
        credentials={"username": user_env, "password": password_env},
        options={"intake": True},
    )


def settings() -> Settings:
    return Settings(
        tenants=[
            TenantConfig(
                id="of-test",
                name="OF test",
                sources=[
                    _intake_source("lms", "XAPI_TEST_INTAKE_USER", "XAPI_TEST_INTAKE_PASSWORD")
                ],
            ),
            TenantConfig(
                id="of-autre",
                name="OF autre",
                sources=[_intake_source("lms", "XAPI_TEST_OTHER_USER", "XAPI_TEST_OTHER_PASSWORD")],
            ),
        ]
    )


def _app(
    store: Store, monkeypatch: pytest.MonkeyPatch, config: Settings | None = None
) -> web.Application:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    app = web.Application()
    app[SETTINGS_KEY] = config or settings()
    app[STORE_KEY] = store
    routes_xapi.setup(app)
    return app


@pytest.fixture
async def client(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(_app(store, monkeypatch))) as test_client:
        yield test_client


@pytest.fixture
async def lite_store(sqlite_url: str) -> AsyncIterator[Store]:
    """Validation does not depend on the database: one SQLite file is enough."""
    opened = await open_store(sqlite_url)
    yield opened
    await opened.close()


@pytest.fixture
async def lite_client(
    lite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(_app(lite_store, monkeypatch))) as test_client:
        yield test_client


async def _post(client: TestClient[Any, Any], body: Any, headers: dict[str, str] = AUTH) -> Any:
    response = await client.post(
        "/xapi/statements",
        data=orjson.dumps(body),
        headers={**headers, "Content-Type": "application/json"},
    )
    return response.status, await response.json()


async def _stored(store: Store, tenant: str = "of-test") -> int:
    async with store.engine.connect() as conn:
        return int(
            await conn.scalar(
                select(func.count())
                .select_from(xapi_statement)
                .where(xapi_statement.c.tenant == tenant)
            )
            or 0
        )


async def test_about_needs_no_credentials(lite_client: TestClient[Any, Any]) -> None:
    response = await lite_client.get("/xapi/about")
    assert response.status == 200
    assert "1.0.3" in (await response.json())["version"]


async def test_posted_statements_become_evidence(
    client: TestClient[Any, Any], store: Store
) -> None:
    status, ids = await _post(client, [attended(1, ident=ID_A), quiz(2)])
    assert status == 200
    assert ids[0] == ID_A
    assert len(ids) == 2
    counts = await store.evidence.count_by_kind("of-test", source="lms")
    assert counts == {"attendance": 1, "assessment": 1}
    row = await store.evidence.get("of-test", "lms", "attendance", ID_A)
    assert row is not None
    assert row.connector == "xapi"
    assert row.person_ref == Pseudonymiser(b"preuve-dev-pseudonym:of-test").from_email(
        "learner1@of-test.example"
    )
    assert row.payload["half"] == "pm"
    assessment = await store.evidence.get("of-test", "lms", "assessment", ids[1])
    assert assessment is not None
    # scaled 0.0 contradicts raw 15 / 20: the score comes from raw/min/max.
    assert (assessment.payload["score"], assessment.payload["max_score"]) == (15.0, 20.0)

    response = await client.get("/xapi/statements", params={"statementId": ID_A}, headers=AUTH)
    assert response.status == 200
    statement = await response.json()
    assert statement["id"] == ID_A
    assert statement["stored"]
    assert statement["authority"]["account"]["name"] == "lms"
    # Kept pseudonymised: the learner's key, not their e-mail address or name.
    assert statement["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": "urn:preuve:person", "name": row.person_ref},
    }
    async with store.engine.connect() as conn:
        kept = await conn.scalar(
            select(xapi_statement.c.statement).where(xapi_statement.c.statement_id == ID_A)
        )
    assert "learner1@of-test.example" not in orjson.dumps(kept).decode()
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    assert "X-Experience-API-Consistent-Through" in response.headers
    assert response.headers["Last-Modified"].endswith(" GMT")


async def test_credentials_name_the_tenant(client: TestClient[Any, Any], store: Store) -> None:
    assert (await _post(client, [attended(1)], {**V103}))[0] == 401
    bad = _auth("moodle-of-test", "s3cret-of-autre")
    response = await client.post("/xapi/statements", data=orjson.dumps(attended(1)), headers=bad)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    status, _ = await _post(client, [attended(1)], OTHER)
    assert status == 200
    assert await _stored(store, "of-autre") == 1
    assert await _stored(store, "of-test") == 0
    assert await store.evidence.count_by_kind("of-autre") == {"attendance": 1}
    # One tenant cannot read another's statements.
    status, ids = await _post(client, [attended(2)], OTHER)
    response = await client.get("/xapi/statements", params={"statementId": ids[0]}, headers=AUTH)
    assert response.status == 404


@pytest.mark.parametrize("version", ["", "0.95", "1.1.0", "3.0.0"])
async def test_version_header_is_required(lite_client: TestClient[Any, Any], version: str) -> None:
    headers = {**AUTH, "X-Experience-API-Version": version}
    status, body = await _post(lite_client, [attended(1)], headers)
    assert status == 400
    assert body["error"] == "version"


def _broken(path: str, value: Any) -> dict[str, Any]:
    statement = attended(1)
    *parents, last = path.split(".")
    target: Any = statement
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target.setdefault(key, {})
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return statement


_DELETE = object()

INVALID = [
    ("actor", _DELETE, "actor", "obligatoire"),
    ("actor.account", {"homePage": "https://x.example", "name": "1"}, "actor", "exactement un"),
    ("actor.mbox", "learner@of-test.example", "actor.mbox", "mailto:"),
    ("actor.mbox_sha1sum", "abc", "actor", "exactement un"),
    ("id", "not-a-uuid", "id", "UUID"),
    ("verb.id", "attended", "verb.id", "IRI"),
    ("verb.display", {"pas une langue!": "x"}, "verb.display", "RFC 5646"),
    ("object.id", "face to face", "object.id", "IRI"),
    ("result.score", {"scaled": 1.5}, "result.score.scaled", "-1 et 1"),
    ("result.score", {"raw": 25, "min": 0, "max": 20}, "result.score.raw", "entre min et max"),
    ("result.score", {"min": 10, "max": 5}, "result.score.min", "inférieur"),
    ("result.duration", "3 hours", "result.duration", "ISO 8601"),
    ("result.success", "yes", "result.success", "booléen"),
    ("context.registration", "12345", "context.registration", "UUID"),
    ("context.contextAgents", [], "context.contextAgents", "2.0"),
    ("timestamp", "2026-10-05 14:30", "timestamp", "fuseau"),
    ("mood", "happy", "mood", "inconnue"),
    (
        "attachments",
        [
            {
                "usageType": "http://id.tincanapi.com/attachment/certificate",
                "display": {"fr": "x"},
                "contentType": "application/pdf",
                "length": 3,
                "sha2": "ab",
            }
        ],
        "attachments[0].fileUrl",
        "multipart",
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "prop", "reason"), INVALID, ids=[c[0] + ":" + c[3] for c in INVALID]
)
async def test_invalid_statement_is_refused_naming_the_property(
    lite_client: TestClient[Any, Any],
    lite_store: Store,
    path: str,
    value: Any,
    prop: str,
    reason: str,
) -> None:
    batch = [attended(2), _broken(path, value), quiz(3)]
    status, body = await _post(lite_client, batch)
    assert status == 400, body
    assert body["statement"] == 1
    assert body["property"] == prop
    assert reason in body["reason"]
    assert prop in body["message"]
    assert await _stored(lite_store) == 0


async def test_a_batch_with_one_bad_statement_stores_nothing(
    client: TestClient[Any, Any], store: Store
) -> None:
    bad = _broken("result.score", {"scaled": -2})
    status, body = await _post(client, [attended(1), quiz(2), voiding(ID_A), bad])
    assert (status, body["statement"]) == (400, 3)
    assert await _stored(store) == 0
    assert await store.evidence.count_by_kind("of-test") == {}


async def test_platform_needs_an_activity_object(lite_client: TestClient[Any, Any]) -> None:
    statement = voiding(ID_A)
    statement["context"] = {"platform": "Moodle"}
    status, body = await _post(lite_client, statement)
    assert (status, body["property"]) == (400, "context.platform")


async def test_resent_statement_is_accepted_and_conflict_is_409(
    client: TestClient[Any, Any], store: Store
) -> None:
    assert (await _post(client, [attended(1, ident=ID_A)]))[0] == 200
    # Same content, other display and time zone: an identical resend.
    again = attended(1, ident=ID_A, when="2026-10-05T12:30:00Z")
    again["verb"]["display"] = {"en-US": "attended"}
    status, ids = await _post(client, [again, attended(2, ident=ID_B)])
    assert (status, ids) == (200, [ID_A, ID_B])
    row = await store.evidence.get("of-test", "lms", "attendance", ID_A)
    assert row is not None
    assert row.revision == 1

    changed = attended(1, ident=ID_A)
    changed["result"]["completion"] = False
    status, body = await _post(client, [changed])
    assert status == 409
    assert body["statement_id"] == ID_A
    assert await _stored(store) == 2

    status, body = await _post(client, [attended(3, ident=ID_B), attended(3, ident=ID_B)])
    assert status == 400
    assert "deux fois" in body["reason"]


async def test_put_statement(client: TestClient[Any, Any], store: Store) -> None:
    url = "/xapi/statements"
    body = orjson.dumps(attended(1))
    response = await client.put(url, params={"statementId": ID_A}, data=body, headers=AUTH)
    assert response.status == 204
    response = await client.put(url, params={"statementId": ID_A}, data=body, headers=AUTH)
    assert response.status == 204, "an identical resend is not a conflict"
    other = orjson.dumps(attended(2))
    response = await client.put(url, params={"statementId": ID_A}, data=other, headers=AUTH)
    assert response.status == 409
    mismatch = orjson.dumps(attended(1, ident=ID_B))
    response = await client.put(url, params={"statementId": ID_A}, data=mismatch, headers=AUTH)
    assert response.status == 400
    response = await client.put(url, data=body, headers=AUTH)
    assert response.status == 400
    assert await _stored(store) == 1


async def test_statements_without_id_are_deduplicated_by_content(
    client: TestClient[Any, Any], store: Store
) -> None:
    batch = [attended(1), attended(2), quiz(1)]
    status, first = await _post(client, batch)
    assert status == 200
    status, second = await _post(client, batch)  # logstore_xapi retrying after a timeout
    assert (status, second) == (200, first)
    assert await _stored(store) == 3
    assert sum((await store.evidence.count_by_kind("of-test")).values()) == 3


async def test_voiding_withdraws_in_either_order(
    client: TestClient[Any, Any], store: Store
) -> None:
    await _post(client, [attended(1, ident=ID_A)])
    status, _ = await _post(client, [voiding(ID_A)])
    assert status == 200
    row = await store.evidence.get("of-test", "lms", "attendance", ID_A)
    assert row is not None
    assert row.withdrawn
    response = await client.get("/xapi/statements", params={"statementId": ID_A}, headers=AUTH)
    assert response.status == 404
    response = await client.get(
        "/xapi/statements", params={"voidedStatementId": ID_A}, headers=AUTH
    )
    assert response.status == 200

    # The voiding statement arrives first (a tombstone), its target later.
    await _post(client, [voiding(ID_B)])
    await _post(client, [attended(2, ident=ID_B)])
    row = await store.evidence.get("of-test", "lms", "attendance", ID_B)
    assert row is not None
    assert row.withdrawn
    assert await store.evidence.count_by_kind("of-test") == {}


async def test_queries_are_refused_it_is_not_a_full_lrs(
    lite_client: TestClient[Any, Any],
) -> None:
    client = lite_client
    response = await client.get(
        "/xapi/statements", params={"verb": "http://adlnet.gov/expapi/verbs/attended"}, headers=AUTH
    )
    assert response.status == 400
    assert "LRS" in (await response.json())["message"]
    status, _ = await _post(client, "not a statement")
    assert status == 400
    response = await client.post("/xapi/statements", data=b"{oops", headers=AUTH)
    assert response.status == 400


SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "xapi"
# Public examples this intake refuses on purpose, with the property it names.
EXPECTED_REFUSALS = {
    "xapi-spec-1.0.3/communication/04-example.json": "inProgress",  # 0.95 statement
    "xapi-spec-1.0.3/data/16-object-is-statement.json": "objectType",  # a fragment
    # A signed statement: its signature travels as a multipart part.
    "xapi-spec-1.0.3/data/29-appendix-d-example-signed-statement.json": "attachments[0].fileUrl",
}


def _statements(data: Any) -> list[dict[str, Any]] | None:
    if isinstance(data, list) and data and all(isinstance(x, dict) and "verb" in x for x in data):
        return data
    if isinstance(data, dict) and "verb" in data and "actor" in data:
        return [data]
    return None


async def test_public_example_statements(
    lite_client: TestClient[Any, Any], lite_store: Store
) -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"public xAPI samples not found at {SAMPLES}")
    accepted = refused = 0
    for path in sorted(SAMPLES.rglob("*.json")):
        name = path.relative_to(SAMPLES).as_posix()
        statements = _statements(orjson.loads(path.read_bytes()))
        if statements is None:
            continue
        status, body = await _post(lite_client, statements)
        if name in EXPECTED_REFUSALS:
            assert (status, body["property"]) == (400, EXPECTED_REFUSALS[name]), name
            refused += 1
            continue
        assert status == 200, (name, body)
        assert len(body) == len(statements)
        status, again = await _post(lite_client, statements)
        assert (status, again) == (200, body), f"{name}: a resend is idempotent"
        accepted += 1
    assert accepted >= 40
    assert refused == len(EXPECTED_REFUSALS)
    counts = await lite_store.evidence.count_by_kind("of-test", include_withdrawn=True)
    # Moodle's attendance, quiz, feedback and completion events all become evidence.
    for kind in ("attendance", "assessment", "completion", "satisfaction_response", "activity"):
        assert counts.get(kind, 0) > 0, (kind, counts)


async def test_evidence_links_to_the_received_statement(
    lite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = settings().model_copy(
        update={"web": WebConfig(public_url="https://preuve.of-test.example/")}
    )
    app = _app(lite_store, monkeypatch, config)
    async with TestClient(TestServer(app)) as test_client:
        assert (await _post(test_client, [attended(1, ident=ID_A)]))[0] == 200
    row = await lite_store.evidence.get("of-test", "lms", "attendance", ID_A)
    assert row is not None
    assert row.source_url == f"https://preuve.of-test.example/xapi/statements?statementId={ID_A}"


async def test_the_web_app_serves_the_intake(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from preuve.web.app import create_app

    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    async with TestClient(TestServer(create_app(settings(), store=store))) as test_client:
        status, ids = await _post(test_client, [attended(1, ident=ID_A)])
        assert (status, ids) == (200, [ID_A])
        response = await test_client.get("/xapi/about")
        assert response.status == 200


async def test_concurrent_senders(client: TestClient[Any, Any], store: Store) -> None:
    import asyncio

    distinct = [_post(client, [attended(n), quiz(n)]) for n in range(6)]
    same = [_post(client, [attended(1, ident=ID_A)]) for _ in range(3)]
    results = await asyncio.gather(*distinct, *same)
    assert [status for status, _ in results] == [200] * 9
    assert await _stored(store) == 13
    row = await store.evidence.get("of-test", "lms", "attendance", ID_A)
    assert row is not None
    assert row.revision == 1


async def test_statement_and_its_voiding_in_one_batch(
    client: TestClient[Any, Any], store: Store
) -> None:
    status, _ = await _post(client, [attended(1, ident=ID_A), voiding(ID_A), attended(2)])
    assert status == 200
    history = await store.evidence.history("of-test", "lms", "attendance", ID_A)
    assert [r.withdrawn for r in history] == [False, True]
    assert await store.evidence.count_by_kind("of-test") == {"attendance": 1}
    response = await client.get("/xapi/statements", params={"statementId": ID_A}, headers=AUTH)
    assert response.status == 404
