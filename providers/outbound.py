"""Where PCM may connect to: the address policy of every outbound HTTP connection.

A cloud's endpoint, an Inventory's URL (and any later webhook) are checked against a
`Policy` twice: when the configuration is saved (`url_refusal`, after resolving the host as
the C library does, so `http://2852039166/` is 169.254.169.254), and on every connection,
against the address the socket is actually connected to (`CheckedAdapter`), so that a name
that resolves elsewhere later (DNS rebinding) or a changed policy is caught too. Redirects
are never followed: a 3xx is an error that says so.

`install()` puts the check under every HTTP session libcloud opens; a plugin call runs
`within(policy)` so that its connections follow its cloud's policy.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import os
import re
import socket
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import poolmanager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# What an administrator may allow besides public addresses.
PRIVATE, LOOPBACK, LINK_LOCAL = "private", "loopback", "link-local"
WORDS = (PRIVATE, LOOPBACK, LINK_LOCAL)
DEFAULT_ALLOW = (PRIVATE,)  # a lab cloud on 10.x is normal

# Where clouds answer for their own machines' metadata (and credentials): never reached,
# whatever the policy.
METADATA_HOSTS = {"metadata.google.internal", "metadata", "metadata.azure.internal"}
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
}
NAT64 = ipaddress.ip_network("64:ff9b::/96")

# The longest remote text (an error body) that reaches an API client.
SHORT = 200


class OutboundRefused(Exception):
    """A connection PCM will not make (the address) or a redirect it will not follow."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Policy:
    """The non-public address ranges a cloud's (or an Inventory's) URLs may be at."""

    allow: frozenset[str] = frozenset(DEFAULT_ALLOW)

    @classmethod
    def of(cls, *allowances: Iterable[str]) -> Policy:
        """The policy allowing every word of every given list (unknown words: ValueError)."""
        words = frozenset(word for allowance in allowances for word in allowance)
        unknown = sorted(words - set(WORDS))
        if unknown:
            raise ValueError(f"unknown {', '.join(unknown)}; accepted: {', '.join(WORDS)}")
        return cls(words)


_default: Callable[[], Policy] = Policy
_current: contextvars.ContextVar[Policy | None] = contextvars.ContextVar(
    "outbound_policy", default=None
)


def set_default(source: Callable[[], Policy]) -> None:
    """Where the policy of connections made outside `within()` comes from (the site's
    settings, read on each connection: providers/apps.py)."""
    global _default
    _default = source


def default() -> Policy:
    return _default()


def current() -> Policy:
    return _current.get() or _default()


@contextlib.contextmanager
def within(policy: Policy | None) -> Iterator[None]:
    """Connections opened in this block follow `policy` (None: the current one)."""
    token = _current.set(policy or current())
    try:
        yield
    finally:
        _current.reset(token)


# -- the check of one address ------------------------------------------------------------


def _normalised(address: ipaddress.IPv4Address | ipaddress.IPv6Address):
    """An IPv4 address written as IPv6 (::ffff:a.b.c.d, NAT64) is that IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def address_refusal(ip: str, policy: Policy) -> str | None:
    """Why PCM may not connect to the address `ip` under `policy` (None: it may)."""
    address = _normalised(ipaddress.ip_address(ip.split("%", 1)[0]))
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address, which PCM never connects to"
    nowhere = f"{address} is not an address of a host PCM can connect to"
    if address.is_unspecified or address.is_multicast:
        return nowhere
    if address.is_loopback:
        kind = LOOPBACK
    elif address.is_link_local:
        kind = LINK_LOCAL
    elif address.is_reserved:  # after loopback: ::1 is in IPv6's reserved ::/8
        return nowhere
    elif not address.is_global:
        kind = PRIVATE
    else:
        return None
    if kind in policy.allow:
        return None
    return (
        f"{address} is a {kind} address, which PCM connects to only where the cloud's "
        f"outbound_allow lists {kind}"
    )


def check_address(ip: str, policy: Policy) -> None:
    """OutboundRefused when PCM may not connect to `ip` under `policy`."""
    refusal = address_refusal(ip, policy)
    if refusal:
        raise OutboundRefused(refusal)


def url_refusal(url: str, policy: Policy) -> str | None:
    """Why `url`'s host may not be connected to (None: it may, or it does not resolve now;
    every connection is checked again). The host is resolved as the C library resolves
    it, so the integer, octal and hexadecimal forms of an IPv4 address are what they mean."""
    host = urlsplit(url).hostname or ""
    if host.lower().rstrip(".") in METADATA_HOSTS:
        return f"{host} is a cloud metadata service, which PCM never connects to"
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    for *_, sockaddr in found:
        refusal = address_refusal(sockaddr[0], policy)
        if refusal:
            return f"{host} is at {sockaddr[0]}: {refusal}" if host != sockaddr[0] else refusal
    return None


# -- the check on every connection --------------------------------------------------------


def _checked(sock: socket.socket, host: str) -> socket.socket:
    peer = sock.getpeername()[0]
    refusal = address_refusal(peer, current())
    if refusal:
        sock.close()
        raise OutboundRefused(f"Refused to connect to {host}: {refusal}")
    return sock


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(super()._new_conn(), self.host)


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:  # before the TLS handshake
        return _checked(super()._new_conn(), self.host)


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


POOLS = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


class CheckedAdapter(HTTPAdapter):
    """A requests transport whose every connection is checked against a policy (its own,
    or the current one), and which refuses to hand back a redirect."""

    def __init__(self, policy: Policy | None = None):
        self.policy = policy
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOLS

    def proxy_manager_for(self, *args, **kwargs):
        # Through a proxy the peer checked is the proxy (a SOCKS proxy keeps its own pools).
        manager = super().proxy_manager_for(*args, **kwargs)
        if manager.pool_classes_by_scheme is poolmanager.pool_classes_by_scheme:
            manager.pool_classes_by_scheme = POOLS
        return manager

    def send(self, request, *args, **kwargs):
        with within(self.policy):
            response = super().send(request, *args, **kwargs)
        if response.is_redirect:
            response.close()
            raise OutboundRefused(
                f"{request.method} {_without_query(request.url)} answered "
                f"{response.status_code}, a redirect to "
                f"{_without_query(response.headers.get('location', ''))}, which PCM does "
                "not follow: set the URL it redirects to"
            )
        return response


def _without_query(url: str) -> str:
    """A URL as it may be shown: no credentials or query (a signature, a token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return short(f"{parts.scheme}://{host}{parts.path}" if parts.scheme else parts.path)


def mount(session: requests.Session, policy: Policy | None = None) -> requests.Session:
    """`session` with checked connections and no redirects followed."""
    adapter = CheckedAdapter(policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.max_redirects = 0
    return session


def session(policy: Policy | None = None) -> requests.Session:
    """A requests session for an outbound URL (an Inventory, a webhook)."""
    return mount(requests.Session(), policy)


def install() -> None:
    """Check every connection of every HTTP session libcloud opens (each driver's, and
    the sessions its identity and token connections open), against the current policy."""
    from libcloud.http import LibcloudBaseConnection

    original = LibcloudBaseConnection.__init__
    if getattr(original, "checked", False):
        return

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        mount(self.session)
        environment_once(self)

    __init__.checked = True
    LibcloudBaseConnection.__init__ = __init__


def environment_once(connection) -> None:
    """What requests takes from the environment (HTTP(S)_PROXY and NO_PROXY, a
    REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, ~/.netrc), read once for a libcloud connection,
    which talks to one host, instead of on every request: requests walks the whole
    environment twice per request for it, a CPU cost in every provider call
    (docs/performance.md). An explicit proxy_url set afterwards still wins. ~/.netrc is
    not read: libcloud authenticates its own requests."""
    session, host = connection.session, getattr(connection, "host", None)
    if not host or not session.trust_env:
        return
    session.proxies.update(requests.utils.get_environ_proxies(host))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and getattr(connection, "ca_cert", None) is None and connection.verify is True:
        connection.ca_cert = bundle
    session.trust_env = False


# -- remote text shown to clients -----------------------------------------------------------

_SPACES = re.compile(r"\s+")


def short(text: str, limit: int = SHORT) -> str:
    """A remote text (an error body) as an API client may see it: control and format
    characters removed, whitespace folded, at most `limit` characters (the full text goes
    to the log)."""
    kept = "".join(
        " " if unicodedata.category(char)[0] in "CZ" else char for char in str(text or "")
    )
    kept = _SPACES.sub(" ", kept).strip()
    return kept if len(kept) <= limit else kept[: limit - 1].rstrip() + "…"
