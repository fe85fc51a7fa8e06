"""The xAPI version of a pull: detected from the LRS's /about ("auto") or configured.

Every test talks HTTP to the LRS stand-in, which lists its versions at /about
(or answers 404) and refuses a version header it does not implement, as an LRS
must (400).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from preuve.connectors.base import CheckReport, CheckStatus, Connector
from preuve.connectors.xapi.options import XapiOptions
from preuve.connectors.xapi.versions import choose_version, offered_versions, offers
from preuve.store import RunStatus, Store
from preuve.sync.runner import SyncOutcome, sync_connector
from preuve.testing.lrs import LrsStandIn
from tests.connectors.xapi.conftest import TENANT, XapiFactory, backlog
from tests.connectors.xapi.statements import attended

T = TENANT.id
ONE_ZERO_ONLY = [("1.0.3",), ("1.0.0", "1.0.1", "1.0.2", "1.0.3"), ("1.0.1",)]


@pytest.fixture(autouse=True)
def french(monkeypatch: pytest.MonkeyPatch) -> None:
    # The process-wide language may have been left set by an earlier test (CLI runs).
    monkeypatch.setattr("preuve.i18n._language", "fr")


async def _sync(store: Store, connector: Connector) -> SyncOutcome:
    async with connector:
        return await sync_connector(store, connector)


async def _check(connector: Connector) -> CheckReport:
    async with connector:
        return await connector.check()


def _items(report: CheckReport) -> dict[str, tuple[CheckStatus, str]]:
    return {item.code: (item.status, item.message) for item in report.items}


# -- the pull ----------------------------------------------------------------


async def test_auto_speaks_2_0_when_the_lrs_offers_it(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    backlog(lrs, 35)
    outcome = await _sync(store, xapi_factory())  # page_size 10: four pages
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    assert outcome.totals.inserted == 35
    assert lrs.stats.about_requests == 1, "/about is read once per sync"
    assert lrs.stats.statement_pages == 4
    assert lrs.stats.versions == ["2.0.0"] * 4


@pytest.mark.parametrize("versions", ONE_ZERO_ONLY)
async def test_auto_speaks_1_0_3_to_a_1_0_x_lrs(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory, versions: tuple[str, ...]
) -> None:
    lrs.versions = versions
    backlog(lrs, 15)
    outcome = await _sync(store, xapi_factory())
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    assert outcome.totals.inserted == 15
    assert lrs.stats.about_requests == 1
    assert set(lrs.stats.versions) == {"1.0.3"}


async def test_auto_speaks_2_0_to_a_2_0_only_lrs(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    lrs.versions = ("2.0.0",)
    backlog(lrs, 5)
    outcome = await _sync(store, xapi_factory())
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    assert set(lrs.stats.versions) == {"2.0.0"}


async def test_a_2_0_statement_is_pulled_with_2_0(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    statement = attended(1, ident="3f6d3f0e-6a63-4a39-9d8e-7b0d9e1c5a21")
    statement["version"] = "2.0.0"
    statement["context"]["contextAgents"] = [
        {
            "objectType": "contextAgent",
            "agent": {"objectType": "Agent", "mbox": "mailto:trainer@of-test.example"},
            "relevantTypes": ["https://w3id.org/xapi/lab/types/trainer"],
        }
    ]
    lrs.add(statement)
    outcome = await _sync(store, xapi_factory())
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    assert await store.evidence.count_by_kind(T, source="lrs") == {"attendance": 1}
    assert lrs.stats.versions == ["2.0.0"]


async def test_no_about_falls_back_to_1_0_3_with_a_warning(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    lrs.serves_about = False
    backlog(lrs, 12)
    with caplog.at_level(logging.WARNING, logger="preuve.connectors.xapi"):
        outcome = await _sync(store, xapi_factory())
    # Not a failure, not even partial: the warning goes to the log.
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    assert outcome.errors == []
    assert outcome.totals.inserted == 12
    assert lrs.stats.about_requests == 1
    assert set(lrs.stats.versions) == {"1.0.3"}
    warnings = [r for r in caplog.records if r.name.startswith("preuve.connectors.xapi")]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    message = warnings[0].getMessage()
    assert "/about" in message
    assert "1.0.3" in message
    assert "ne sert pas" in message, "French first"


@pytest.mark.parametrize(
    ("versions", "named"),
    [(("0.95",), "0.95"), (("1.1.0", "3.0.0"), "1.1.0, 3.0.0"), ((), "aucune")],
)
async def test_no_version_in_common_fails_clearly(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory, versions: tuple[str, ...], named: str
) -> None:
    lrs.versions = versions
    backlog(lrs, 5)
    outcome = await _sync(store, xapi_factory())
    assert outcome.status is RunStatus.FAILED
    error = outcome.errors[-1]
    assert error["code"] == "version_unsupported"
    assert error["action"] == "fail"
    assert f"il annonce {named} ;" in error["message"]
    assert "1.0.3, 2.0.0" in error["message"], "names what Preuve speaks"
    assert "options.version" in error["hint"]
    assert lrs.stats.versions == [], "no statement request was made"
    assert await store.evidence.cursors(T, "lrs") == {}


async def test_no_version_in_common_in_english(
    store: Store,
    lrs: LrsStandIn,
    xapi_factory: XapiFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("preuve.i18n._language", "en")
    lrs.versions = ("0.95",)
    outcome = await _sync(store, xapi_factory())
    assert outcome.errors[-1]["message"] == (
        "the LRS of source lrs offers no xAPI version Preuve supports: it offers 0.95; "
        "Preuve speaks 1.0.3, 2.0.0"
    )


@pytest.mark.parametrize("document", [{"extensions": {}}, {"version": None}, ["1.0.3"]])
async def test_a_malformed_about_lists_nothing(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory, document: Any
) -> None:
    lrs.about_document = document  # "version", an array of strings, is required
    outcome = await _sync(store, xapi_factory())
    assert outcome.status is RunStatus.FAILED
    assert outcome.errors[-1]["code"] == "version_unsupported"
    assert "il annonce aucune ;" in outcome.errors[-1]["message"]


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
async def test_an_explicit_version_sends_no_about(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory, version: str
) -> None:
    backlog(lrs, 25)
    outcome = await _sync(store, xapi_factory(version=version))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    assert lrs.stats.about_requests == 0
    assert lrs.stats.versions == [version] * 3


async def test_an_explicit_version_the_lrs_lacks_is_refused_by_the_lrs(
    store: Store, lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    lrs.versions = ("1.0.3",)
    backlog(lrs, 5)
    outcome = await _sync(store, xapi_factory(version="2.0.0"))
    assert outcome.status is RunStatus.FAILED
    error = outcome.errors[-1]
    assert error["code"] == "bad_request"
    assert "X-Experience-API-Version is not supported" in error["message"]
    assert '"auto"' in error["hint"]
    assert lrs.stats.about_requests == 0
    assert lrs.stats.versions == ["2.0.0"], "a 400 is not retried"


def test_version_option() -> None:
    assert XapiOptions().version == "auto"
    assert XapiOptions.model_validate({"version": "2.0.0"}).version == "2.0.0"
    with pytest.raises(ValueError, match="version"):
        XapiOptions.model_validate({"version": "1.0.2"})


# -- the check ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("versions", "used"),
    [(("1.0.3", "2.0.0"), "2.0.0"), (("2.0.0",), "2.0.0"), *[(v, "1.0.3") for v in ONE_ZERO_ONLY]],
)
async def test_check_reports_the_version_auto_will_use(
    lrs: LrsStandIn, xapi_factory: XapiFactory, versions: tuple[str, ...], used: str
) -> None:
    lrs.versions = versions
    backlog(lrs, 3)
    report = await _check(xapi_factory())
    assert report.ok, [i.as_json() for i in report.items]
    assert report.details["version"] == used
    assert report.details["versions"] == list(versions)
    status, message = _items(report)["version"]
    assert status is CheckStatus.OK
    assert f"version xAPI utilisée : {used}" in message
    assert _items(report)["read"][0] is CheckStatus.OK
    assert set(lrs.stats.versions) == {used}, "the read uses the version reported"


async def test_check_without_about_warns_and_reads_with_1_0_3(
    lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    lrs.serves_about = False
    lrs.versions = ("1.0.3",)
    report = await _check(xapi_factory())
    assert report.ok, [i.as_json() for i in report.items]
    assert report.details["version"] == "1.0.3"
    status, message = _items(report)["no_about"]
    assert status is CheckStatus.WARNING
    assert "1.0.3" in message
    assert _items(report)["read"][0] is CheckStatus.OK


async def test_check_with_no_version_in_common_is_an_error(
    lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    lrs.versions = ("3.0.0",)
    report = await _check(xapi_factory())
    assert not report.ok
    status, message = _items(report)["version_unsupported"]
    assert status is CheckStatus.ERROR
    assert "3.0.0" in message
    assert "read" not in _items(report)


async def test_check_warns_on_an_explicit_version_the_lrs_does_not_list(
    lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    lrs.versions = ("1.0.3",)
    report = await _check(xapi_factory(version="2.0.0"))
    assert report.details["version"] == "2.0.0"
    status, message = _items(report)["version"]
    assert status is CheckStatus.WARNING
    assert "2.0.0" in message
    assert "1.0.3" in message
    # The read, with the configured version, is refused like the sync would be.
    assert _items(report)["bad_request"][0] is CheckStatus.ERROR


async def test_check_accepts_an_explicit_version_the_lrs_lists(
    lrs: LrsStandIn, xapi_factory: XapiFactory
) -> None:
    report = await _check(xapi_factory(version="1.0.3"))
    assert report.ok, [i.as_json() for i in report.items]
    assert _items(report)["version"] == (
        CheckStatus.OK,
        "version xAPI utilisée : 1.0.3 (options.version)",
    )
    assert lrs.stats.versions == ["1.0.3"]


# -- choosing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0"], "2.0.0"),  # ADL's LRS
        (["2.0.1"], "2.0.0"),
        (["2.0"], "2.0.0"),
        (["1.0"], "1.0.3"),
        (["1.0.9"], "1.0.3"),
        ([" 1.0.3 "], "1.0.3"),
        (["0.95", "0.9"], None),
        (["1.1.0", "3.0.0"], None),
        (["2.0.0-beta", "latest"], None),
        ([], None),
    ],
)
def test_choose_version(offered: list[str], chosen: str | None) -> None:
    assert choose_version(offered) == chosen


def test_offered_versions_reads_the_version_array() -> None:
    assert offered_versions({"version": ["1.0.3", 2, None, "", "2.0.0"]}) == ["1.0.3", "2.0.0"]
    assert offered_versions({"version": "1.0.3"}) == ["1.0.3"]
    assert offered_versions({"version": {"1.0.3": True}}) == []
    assert offered_versions({}) == []
    assert offers(["1.0.0", "1.0.1"], "1.0.3")
    assert not offers(["1.0.3"], "2.0.0")


# -- the stand-in, as an LRS ------------------------------------------------------


async def _get(url: str, version: str | None, **auth: str) -> tuple[int, str | None]:
    headers = {
        "Authorization": aiohttp.encode_basic_auth(
            auth.get("user", "lrs-key"), auth.get("pw", "lrs-secret")
        )
    }
    if version is not None:
        headers["X-Experience-API-Version"] = version
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, response.headers.get("X-Experience-API-Version")


@pytest.mark.parametrize(
    ("versions", "sent", "status", "answered"),
    [
        (("1.0.3",), "1.0.3", 200, "1.0.3"),
        (("1.0.3",), "1.0", 200, "1.0.3"),  # taken as 1.0.0
        (("1.0.3",), "1.0.1", 200, "1.0.3"),
        (("1.0.3",), "2.0.0", 400, None),  # a 1.0.x LRS refuses 1.1.0 and above
        (("1.0.3",), "1.1.0", 400, None),
        (("1.0.3",), "0.95", 400, None),
        (("1.0.3",), None, 400, None),
        (("1.0.3", "2.0.0"), "2.0.0", 200, "2.0.0"),
        (("1.0.3", "2.0.0"), "1.0.3", 200, "1.0.3"),
        (("2.0.0",), "1.0.3", 400, None),
        (("2.0.0",), "2.0.1", 200, "2.0.0"),
    ],
)
async def test_stand_in_checks_the_version_header(
    lrs: LrsStandIn,
    lrs_url: str,
    versions: tuple[str, ...],
    sent: str | None,
    status: int,
    answered: str | None,
) -> None:
    lrs.versions = versions
    got, header = await _get(lrs_url + "statements?limit=1", sent)
    assert got == status
    if answered is not None:
        assert header == answered


async def test_stand_in_about_ignores_the_version_header(lrs: LrsStandIn, lrs_url: str) -> None:
    lrs.versions = ("1.0.3",)
    for sent in ("2.0.0", "0.9", None):
        assert (await _get(lrs_url + "about", sent, pw="wrong"))[0] == 200
    lrs.serves_about = False
    assert (await _get(lrs_url + "about", "1.0.3"))[0] == 404
    assert lrs.stats.about_requests == 4
    assert lrs.stats.versions == []
