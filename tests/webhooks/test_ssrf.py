"""The SSRF guard: at save time and at send time, after DNS resolution."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest

from preuve.events import SYNC_FAILED, Event
from preuve.store import Store
from preuve.testing.webhook_receiver import WebhookReceiver
from preuve.webhooks import deliver_due, enqueue, open_session
from preuve.webhooks.endpoints import add_endpoint, list_endpoints
from preuve.webhooks.history import delivery_log
from preuve.webhooks.ssrf import (
    AllowList,
    BlockedAddressError,
    GuardedResolver,
    UnsafeUrlError,
    address_kind,
    literal_address,
    precheck_url,
    validate_url,
)
from tests.webhooks.conftest import LOOPBACK, TENANT, fast_policy, sqlite_only


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00:ec2::254", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "private"),
        ("240.0.0.1", "private"),
        ("100.100.100.200", "non-public"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
        # IPv6 forms a gateway turns into an internal IPv4 address.
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2002:5db8:d70e::1", None),  # 6to4 of a public address
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://localhost/hook",
        "http://metadata.google.internal/computeMetadata/v1/",
        "ftp://example.org/hook",
        "https://user:pw@example.org/hook",
        "https:///nohost",
        # The same internal addresses written so a naive check misses them.
        "http://2130706433/hook",  # decimal
        "http://0177.0.0.1/hook",  # octal
        "http://0x7f.1/hook",  # hex, short form
        "http://127.1/hook",
        "http://127.0.0.1./hook",
        "http://0xA9FEA9FE/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[::ffff:7f00:1]/hook",
        "http://[2002:7f00:1::]/hook",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
        "http://[fe80::1%25eth0]/hook",
    ],
)
def test_urls_refused_without_an_allow_list(url: str) -> None:
    with pytest.raises(UnsafeUrlError):
        precheck_url(url, AllowList())


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("1572395042", "93.184.216.34"),
        ("[::ffff:7f00:1]", "::ffff:7f00:1"),
        ("deadbeef.cafe", None),  # hex letters, but a name
        ("example.org", None),
    ],
)
def test_numeric_host_forms_are_read_as_addresses(host: str, address: str | None) -> None:
    found = literal_address(host)
    assert (str(found) if found else None) == address


def test_a_public_numeric_host_passes() -> None:
    assert precheck_url("http://1572395042/hook", AllowList()).raw_host == "1572395042"


def test_the_allow_list_lets_networks_and_names_through() -> None:
    allow = AllowList.parse(["127.0.0.0/8", "10.0.0.0/8", "LocalHost"])
    precheck_url("http://127.0.0.1:8080/hook", allow)
    precheck_url("http://10.2.3.4/hook", allow)
    precheck_url("http://localhost/hook", allow)
    with pytest.raises(UnsafeUrlError):
        precheck_url("http://192.168.0.1/hook", allow)


async def test_save_time_check_resolves_the_name() -> None:
    # The machine's own name resolves to a loopback or private address here.
    host = socket.gethostname()
    addresses = {info[4][0] for info in socket.getaddrinfo(host, 80)}
    if all(address_kind(ipaddress.ip_address(a)) is None for a in addresses):
        pytest.skip(f"{host} resolves to public addresses only")
    with pytest.raises(UnsafeUrlError, match=r"loopback|private"):
        await validate_url(f"http://{host}:9/hook", AllowList())
    allow = AllowList.parse(sorted(addresses))
    assert await validate_url(f"http://{host}:9/hook", allow) == f"http://{host}:9/hook"
    with pytest.raises(UnsafeUrlError, match=r"no-such-host\.invalid"):
        await validate_url("http://no-such-host.invalid/hook", AllowList())
    with pytest.raises(UnsafeUrlError, match=r"loopback"):
        await validate_url("http://2130706433:9/hook", AllowList())


async def test_resolver_refuses_internal_answers() -> None:
    resolver = GuardedResolver(AllowList())
    with pytest.raises(BlockedAddressError):
        await resolver.resolve("localhost", 80)
    allowed = GuardedResolver(LOOPBACK)
    assert {r["host"] for r in await allowed.resolve("localhost", 80)} <= {"127.0.0.1", "::1"}
    await resolver.close()
    await allowed.close()


@sqlite_only
async def test_loopback_endpoint_is_refused_without_the_allow_list(
    store: Store, receiver: WebhookReceiver
) -> None:
    with pytest.raises(UnsafeUrlError, match="loopback"):
        await add_endpoint(store, TENANT, receiver.url, allow=AllowList())
    assert await list_endpoints(store, TENANT) == []


@sqlite_only
async def test_send_time_check_after_dns(store: Store, receiver: WebhookReceiver) -> None:
    """Saved while allowed; the guard at send time still refuses what DNS answers."""
    host = socket.gethostname()
    addresses = {info[4][0] for info in socket.getaddrinfo(host, 80)}
    if not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        pytest.skip(f"{host} does not resolve to loopback here")
    url = receiver.url.replace("127.0.0.1", host)
    endpoint, _ = await add_endpoint(store, TENANT, url, allow=LOOPBACK)
    await enqueue(store, [Event(SYNC_FAILED, TENANT, {"source": "moodle"})])
    policy = fast_policy()
    async with open_session(AllowList(), policy) as session:
        report = await deliver_due(store, session, policy=policy)
    assert report.retrying == 1
    assert receiver.received == []
    [attempt] = await delivery_log(store, endpoint.id)
    assert attempt["error"].startswith("blocked")
    assert "loopback" in attempt["error"]
    # With the allow-list the same message goes through (retry due after 0.05 s).
    async with open_session(LOOPBACK, policy) as session:
        for _ in range(50):
            report = await deliver_due(store, session, policy=policy)
            if report.delivered:
                break
            await asyncio.sleep(0.02)
    assert len(receiver.delivered()) == 1
