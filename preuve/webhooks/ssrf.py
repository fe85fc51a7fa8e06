"""SSRF guard: webhook URLs may not reach internal addresses unless allow-listed.

Checked twice: when an endpoint is saved (the URL and every address its name
resolves to) and at send time, where :class:`GuardedResolver` resolves the name,
checks every address and hands aiohttp only checked addresses to connect to, so
a DNS answer that changes between the two checks cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from preuve.i18n import Text

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that point inside the host or the cloud provider whatever DNS says.
BLOCKED_HOSTNAMES: Final = frozenset(
    {"localhost", "metadata", "metadata.google.internal", "instance-data", "instance-data.ec2"}
)
BLOCKED_SUFFIXES: Final = (".localhost", ".internal", ".local")
ALLOWED_SCHEMES: Final = frozenset({"http", "https"})
# IPv6 prefixes that carry an IPv4 address a gateway will connect to: NAT64
# (64:ff9b::/96) and 6to4 (2002::/16, read with ``sixtofour``).
NAT64_PREFIX: Final = ipaddress.ip_network("64:ff9b::/96")
# Hosts made only of digits, hex letters, "x" and dots may be an IPv4 address in
# the forms inet_aton accepts (2130706433, 0177.0.0.1, 0x7f.1, 127.1): resolvers
# and HTTP clients read them as addresses, so the guard must too.
_NUMERIC_HOST: Final = re.compile(r"^[0-9a-fx.]+$", re.IGNORECASE)

MSG_BAD_SCHEME = Text(
    fr="l'URL doit commencer par https:// ou http:// : {url}",
    en="the URL must start with https:// or http://: {url}",
)
MSG_NO_HOST = Text(fr="l'URL n'a pas d'hôte : {url}", en="the URL has no host: {url}")
MSG_USERINFO = Text(
    fr="l'URL ne doit pas contenir d'identifiants (utilisateur:mot de passe@)",
    en="the URL must not carry credentials (user:password@)",
)
MSG_BLOCKED_HOST = Text(
    fr="hôte interne refusé : {host} (ajoutez-le à webhooks.allow_networks si voulu)",
    en="internal host refused: {host} (add it to webhooks.allow_networks if intended)",
)
MSG_BLOCKED_ADDRESS = Text(
    fr="adresse interne refusée pour {host} : {address} ({kind}) "
    "(ajoutez le réseau à webhooks.allow_networks si voulu)",
    en="internal address refused for {host}: {address} ({kind}) "
    "(add the network to webhooks.allow_networks if intended)",
)
MSG_UNRESOLVED = Text(fr="nom d'hôte introuvable : {host}", en="host name does not resolve: {host}")


class UnsafeUrlError(ValueError):
    """A URL the guard refuses (reason in the message, in the UI language)."""


class BlockedAddressError(OSError):
    """Raised inside aiohttp's connector when a resolved address is refused."""


@dataclass(frozen=True, slots=True)
class AllowList:
    """Networks and host names the guard lets through (``webhooks.allow_networks``)."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in entries:
            text = entry.strip()
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                hosts.add(text.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a translating gateway would reach for this IPv6 address."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.teredo is not None:
        return address.teredo[1]
    return None


def address_kind(address: IPAddress) -> str | None:
    """Why an address is refused (None: a public address)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_kind(address.ipv4_mapped)
        embedded = _embedded_ipv4(address)
        if embedded is not None and (kind := address_kind(embedded)) is not None:
            return kind
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),  # includes 169.254.169.254 (metadata)
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
    )
    for kind, hit in checks:
        if hit:
            return kind
    # Shared address space (100.64.0.0/10, e.g. Alibaba's metadata), documentation
    # ranges and the like: anything not globally routable.
    if not address.is_global:
        return "non-public"
    return None


def check_address(host: str, address: IPAddress, allow: AllowList) -> None:
    kind = address_kind(address)
    if kind is not None and not allow.allows_address(address) and not allow.allows_host(host):
        raise UnsafeUrlError(MSG_BLOCKED_ADDRESS(kind=kind, host=host, address=address))


def literal_address(host: str) -> IPAddress | None:
    """The address a host stands for without DNS: IPv6, IPv4 in any inet_aton form."""
    text = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if not _NUMERIC_HOST.match(text):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def precheck_url(url: str, allow: AllowList) -> URL:
    """Checks that need no DNS: scheme, credentials, internal names, literal addresses."""
    parsed = URL(url)
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise UnsafeUrlError(MSG_BAD_SCHEME(url=url))
    host = parsed.raw_host
    if not host:
        raise UnsafeUrlError(MSG_NO_HOST(url=url))
    if parsed.user is not None or parsed.password is not None:
        raise UnsafeUrlError(MSG_USERINFO())
    literal = literal_address(host)
    if literal is not None:
        check_address(host, literal, allow)
        return parsed
    name = host.lower().rstrip(".")
    if (name in BLOCKED_HOSTNAMES or name.endswith(BLOCKED_SUFFIXES)) and not allow.allows_host(
        name
    ):
        raise UnsafeUrlError(MSG_BLOCKED_HOST(host=host))
    return parsed


def check_resolved(host: str, addresses: Sequence[str], allow: AllowList) -> None:
    """Every address a name resolves to must pass: one internal answer refuses all."""
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        check_address(host, address, allow)


async def validate_url(url: str, allow: AllowList) -> str:
    """The save-time check: the URL and every address its host resolves to."""
    parsed = precheck_url(url, allow)
    host = parsed.raw_host or ""
    if literal_address(host) is None:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, parsed.port or 443, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise UnsafeUrlError(MSG_UNRESOLVED(host=host)) from exc
        check_resolved(host, [str(info[4][0]) for info in infos], allow)
    return str(parsed)


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that refuses internal addresses: the send-time check.

    aiohttp connects to the addresses returned here (and keeps the host name for
    the Host header and TLS), so what is checked is what is connected to.
    """

    def __init__(self, allow: AllowList) -> None:
        self._allow = allow
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        try:
            check_resolved(host, [r["host"] for r in results], self._allow)
        except UnsafeUrlError as exc:
            raise BlockedAddressError(str(exc)) from exc
        return results

    async def close(self) -> None:
        await self._inner.close()
