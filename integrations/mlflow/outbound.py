"""Where mlaudit may connect for MLflow, and the HTTP session that enforces it.

One address policy (`check_destination`) decides from the host name and the addresses it resolves to.
It runs twice: when a tracking URI is saved or a client is built (`check_url`, for a clear form error),
and again inside the socket connect of every request (`GuardedHTTPConnection`), which resolves the name
once, checks every address and connects to a checked one. The HTTP library never resolves the name a
second time, so a DNS answer that changes between the check and the connect (DNS rebinding) is checked
too. The Host header and TLS server name stay those of the URL.

Retries of one request are urllib3's `Retry` on the session's adapter: connection errors, read errors
and 429/502/503/504, with exponential backoff, jitter and the server's `Retry-After` (seconds or an HTTP
date, capped at RETRY_AFTER_CAP).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, InvalidHeader, NameResolutionError, NewConnectionError
from urllib3.response import BaseHTTPResponse
from urllib3.util import connection as urllib3_connection
from urllib3.util.retry import Retry

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud instance metadata services (credentials live there). The link-local ones are refused as link-local
# anyway; the others are listed because nothing about their address gives them away.
METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "metadata.tencentyun.com"}
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle, Hetzner…
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.0.23",  # Tencent Cloud
        "100.100.100.200",  # Alibaba Cloud (in the shared 100.64.0.0/10 range, not link-local)
        "192.0.0.192",  # Oracle Cloud (classic)
        "168.63.129.16",  # Azure host platform (WireServer)
        "fd00:ec2::254",  # AWS, over IPv6
        "fd00:ec2::23",  # AWS ECS/Nitro, over IPv6
    )
)
# IPv6 prefixes that carry an IPv4 address (RFC 6052 NAT64): the IPv4 address is what is really reached.
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
LOOPBACK = {4: ipaddress.ip_address("127.0.0.1"), 6: ipaddress.ip_address("::1")}

RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_AFTER_CAP = 30.0  # seconds: a server may not park a worker for longer than this per retry
BACKOFF_MAX = 30.0


class RefusedAddress(Exception):
    """The destination is not one mlaudit may call. Deliberately not an OSError: urllib3 must not retry it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Host and address patterns ---------------------------------------------------


def _patterns(raw: list[str]) -> tuple[list[str], list[IPNetwork]]:
    """Split MLAUDIT_MLFLOW_*_HOSTS into name patterns and networks (a bare address is a one-address network)."""
    names: list[str] = []
    networks: list[IPNetwork] = []
    for entry in raw:
        pattern = entry.strip().lower()
        if not pattern:
            continue
        try:
            networks.append(ipaddress.ip_network(pattern.strip("[]"), strict=False))
        except ValueError:
            names.append(pattern.rstrip("."))
    return names, networks


def _name_matches(host: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        suffix = pattern[1:] if pattern.startswith("*.") else pattern
        if host == suffix or (suffix.startswith(".") and host.endswith(suffix)):
            return True
    return False


def _nat64_candidates(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 address inside a local-use NAT64 address, for each RFC 6052 prefix length it may use."""
    n = int(address)
    return [
        ipaddress.IPv4Address(value)
        for value in (
            n & 0xFFFFFFFF,  # /96
            (n >> 24) & 0xFFFFFFFF,  # /64
            ((n >> 64) & 0xFF) << 24 | (n >> 32) & 0xFFFFFF,  # /56
            ((n >> 64) & 0xFFFF) << 16 | (n >> 40) & 0xFFFF,  # /48
        )
    ]


def address_forms(address: IPAddress) -> list[IPAddress]:
    """The address and every address it stands for: the IPv4 address inside an IPv4-mapped, NAT64, 6to4,
    Teredo or IPv4-compatible IPv6 address, and loopback for the unspecified address (connecting to
    0.0.0.0 or :: reaches this machine on Linux)."""
    forms: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            forms.append(address.ipv4_mapped)
        if address.sixtofour:
            forms.append(address.sixtofour)
        if address.teredo:
            forms.extend(address.teredo)
        if address in NAT64_WELL_KNOWN:
            forms.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        elif address in NAT64_LOCAL_USE:
            forms.extend(_nat64_candidates(address))
        elif address in IPV4_COMPATIBLE and int(address) > 1:
            forms.append(ipaddress.IPv4Address(int(address)))
    forms.extend(LOOPBACK[form.version] for form in list(forms) if form.is_unspecified)
    return forms


def check_destination(host: str, addresses: list[IPAddress]) -> None:
    """Refuse unless every address `host` resolved to may be called (raises RefusedAddress).

    Order: MLAUDIT_MLFLOW_DENIED_HOSTS (names and networks, matched against the resolved addresses), then
    MLAUDIT_MLFLOW_ALLOWED_HOSTS when set (the name, or every address, must be listed), then link-local
    and cloud-metadata addresses, which only a listing in MLAUDIT_MLFLOW_ALLOWED_HOSTS lets through.
    Private and loopback addresses are otherwise allowed: MLflow servers usually live on the internal network.
    """
    host = host.strip("[]").rstrip(".").lower()
    denied_names, denied_networks = _patterns(settings.MLAUDIT_MLFLOW_DENIED_HOSTS)
    allowed_names, allowed_networks = _patterns(settings.MLAUDIT_MLFLOW_ALLOWED_HOSTS)
    if _name_matches(host, denied_names):
        raise RefusedAddress(_("The host {host} is on MLAUDIT_MLFLOW_DENIED_HOSTS.").format(host=host))
    named = _name_matches(host, allowed_names)
    if host in METADATA_HOSTS and not named:
        raise RefusedAddress(
            _("The host {host} is a cloud metadata service; mlaudit does not call it.").format(host=host)
        )
    for address in addresses:
        forms = address_forms(address)
        denied = [form for form in forms if any(form in network for network in denied_networks)]
        if denied:
            raise RefusedAddress(
                _("The host {host} ({address}) is on MLAUDIT_MLFLOW_DENIED_HOSTS.").format(
                    host=host, address=_shown(address, denied[0])
                )
            )
        listed = named or any(form in network for form in forms for network in allowed_networks)
        if (allowed_names or allowed_networks) and not listed:
            raise RefusedAddress(
                _("The host {host} ({address}) is not on MLAUDIT_MLFLOW_ALLOWED_HOSTS.").format(
                    host=host, address=address
                )
            )
        special = [form for form in forms if form in METADATA_ADDRESSES or form.is_link_local]
        if special and not listed:
            raise RefusedAddress(
                _(
                    "{host} resolves to the link-local or metadata address {address}; mlaudit refuses it "
                    "unless the host is listed in MLAUDIT_MLFLOW_ALLOWED_HOSTS."
                ).format(host=host, address=_shown(address, special[0]))
            )


def _shown(address: IPAddress, form: IPAddress) -> str:
    return str(address) if form == address else f"{address} = {form}"


def resolve_checked(host: str, port: int) -> list[tuple[Any, ...]]:
    """getaddrinfo() for `host`, refused as a whole unless every address passes `check_destination`.
    Raises socket.gaierror when the name does not resolve."""
    check_destination(host, [])  # a refused name is refused before any lookup
    infos = socket.getaddrinfo(host.strip("[]"), port, urllib3_connection.allowed_gai_family(), socket.SOCK_STREAM)
    if not infos:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    check_destination(host, [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos])
    return infos


# The connect-time check -------------------------------------------------------


class _GuardedConnect:
    """Replaces urllib3's _new_conn: resolve once, check every address, connect to a checked one."""

    host: str
    port: int
    timeout: Any
    source_address: tuple[str, int] | None
    socket_options: Any
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        try:
            infos = resolve_checked(self._dns_host, self.port)
        except socket.gaierror as e:
            raise NameResolutionError(self.host, self, e) from e  # type: ignore[arg-type]
        error: OSError | None = None
        for info in infos:
            address = str(info[4][0])
            try:
                # A numeric host: create_connection does not resolve anything again.
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as e:  # try the next address, as socket.create_connection does
                error = e
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        if isinstance(error, TimeoutError):
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from error
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error  # type: ignore[arg-type]


class GuardedHTTPConnection(_GuardedConnect, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnect, HTTPSConnection):
    pass


class _CountingPool:
    """Counts every attempt, retries included (MlflowClient.requests_made)."""

    on_attempt: Callable[[], None]

    def _make_request(self, *args: Any, **kwargs: Any) -> BaseHTTPResponse:
        self.on_attempt()
        return super()._make_request(*args, **kwargs)  # type: ignore[misc]


class MlflowRetry(Retry):
    RETRY_AFTER_STATUS_CODES = RETRY_STATUSES

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        """The server's Retry-After, capped; a header that is neither seconds nor a date is ignored."""
        try:
            seconds = super().get_retry_after(response)
        except InvalidHeader:
            return None
        return None if seconds is None else min(seconds, RETRY_AFTER_CAP)


def retry_policy(retries: int, backoff: float) -> MlflowRetry:
    return MlflowRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        # The client only reads; MLflow's search endpoints are POSTs.
        allowed_methods=frozenset({"GET", "POST"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff,
        backoff_jitter=backoff,
        backoff_max=BACKOFF_MAX,
        respect_retry_after_header=True,
        # The last 5xx comes back as a response, so its MLflow message can be reported.
        raise_on_status=False,
    )


class GuardedAdapter(HTTPAdapter):
    """An adapter whose pools connect only through the address check, and never through a proxy."""

    def __init__(self, *, retry: Retry, on_attempt: Callable[[], None]):
        self._on_attempt = on_attempt
        super().__init__(max_retries=retry)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        count = staticmethod(self._on_attempt)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type(
                "GuardedHTTPPool",
                (_CountingPool, HTTPConnectionPool),
                {"ConnectionCls": GuardedHTTPConnection, "on_attempt": count},
            ),
            "https": type(
                "GuardedHTTPSPool",
                (_CountingPool, HTTPSConnectionPool),
                {"ConnectionCls": GuardedHTTPSConnection, "on_attempt": count},
            ),
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # A proxy would connect on our behalf, past the address check.
        raise RefusedAddress(_("mlaudit does not send MLflow requests through a proxy."))


def guarded_session(*, retries: int, backoff: float, verify: bool, on_attempt: Callable[[], None]) -> requests.Session:
    session = requests.Session()
    session.verify = verify
    session.trust_env = False  # no proxies or .netrc credentials picked up from the worker's environment
    adapter = GuardedAdapter(retry=retry_policy(retries, backoff), on_attempt=on_attempt)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
