"""Where newsmon may connect: the SSRF guard under every feed and page fetch.

Feeds name URLs, and feeds are written by strangers. A link or a redirect to
``http://127.0.0.1:5432/`` or ``http://169.254.169.254/`` must not make newsmon talk
to the operator's own network. So the check is made where the socket is opened:
the host is resolved once, every address is checked, and the connection goes to an
address that passed, never to a second lookup's answer (DNS rebinding cannot slip
in between a check and a connect). TLS still uses the host name for SNI and
certificate checks, because httpcore takes those from the request, not the socket.

Refused unless ``[http] allow_networks`` lists them: loopback, private (RFC 1918),
link-local (with cloud metadata 169.254.169.254), carrier-grade NAT, multicast,
unspecified, reserved and documentation ranges, IPv6 unique-local and link-local,
IPv4 addresses embedded in IPv6 (mapped, NAT64, 6to4) by their IPv4 rule, and a few
public addresses that cloud hosts answer on (Azure's 168.63.129.16).

A total deadline also lives here: every read and write of a fetch is given at most
what is left of it, so a server that drips one byte a second cannot hold a worker.
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

__all__ = [
    "BLOCKED_PREFIX",
    "DEADLINE_PREFIX",
    "GuardedBackend",
    "GuardedTransport",
    "Network",
    "Resolver",
    "blocked_reason",
    "deadline",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

BLOCKED_PREFIX = "blocked address"
DEADLINE_PREFIX = "deadline"

_CLOUD_HOSTS = [
    ipaddress.ip_network("168.63.129.16/32"),  # Azure wire server: a public address
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba metadata (also in CGNAT)
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6 (also ULA)
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_DNS_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="newsmon-dns")

_started: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "newsmon_fetch_deadline", default=None
)


def blocked_reason(address: Address) -> str | None:
    """Why newsmon refuses to connect to ``address`` by default; None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = blocked_reason(embedded)
            return f"{reason} (inside {address})" if reason else None
        if address in _LOCAL_NAT64:
            return "a local-use NAT64 address"
    checks: list[tuple[bool, str]] = [
        (any(address in net for net in _CLOUD_HOSTS), "a cloud metadata address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address (cloud metadata lives here)"),
        (address.is_multicast, "a multicast address"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "a CGNAT address"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local, "site-local"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    ]
    return next((reason for is_hit, reason in checks if is_hit), None)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Bound every socket operation of the enclosed fetch to ``seconds`` in total."""
    token = _started.set(None if seconds is None else (time.monotonic(), seconds))
    try:
        yield
    finally:
        _started.reset(token)


def _clamp(timeout: float | None) -> float | None:
    """The timeout for one socket operation: no longer than what is left of the deadline."""
    current = _started.get()
    if current is None:
        return timeout
    started, seconds = current
    left = started + seconds - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout(f"{DEADLINE_PREFIX} of {seconds:g}s exceeded")
    return left if timeout is None else min(timeout, left)


@contextmanager
def _deadline_named() -> Iterator[None]:
    """A timeout that the deadline cut short is reported as the deadline."""
    try:
        yield
    except (httpcore.ReadTimeout, httpcore.WriteTimeout, httpcore.ConnectTimeout):
        _clamp(None)  # raises the deadline's own error when it has passed
        raise


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _deadline_named():
            return self._stream.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with _deadline_named():
            self._stream.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        upgraded = self._stream.start_tls(ssl_context, server_hostname, _clamp(timeout))
        return _DeadlineStream(upgraded)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolve, check every address, connect only to one that passed."""

    def __init__(
        self, allowed: Sequence[Network] = (), resolver: Resolver = system_resolver
    ) -> None:
        self.allowed = list(allowed)
        self.resolver = resolver
        self._inner = httpcore.SyncBackend()

    def reason_to_refuse(self, address: str) -> str | None:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return "not an IP address"
        if any(ip.version == net.version and ip in net for net in self.allowed):
            return None
        return blocked_reason(ip)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._resolve(host, port, _clamp(timeout))
        refused = [(a, r) for a in addresses if (r := self.reason_to_refuse(a)) is not None]
        usable = [a for a in addresses if a not in dict(refused)]
        if not usable:
            address, reason = refused[0]
            named = "" if host.strip("[]") == address else f" ({host})"
            raise httpcore.ConnectError(
                f"{BLOCKED_PREFIX} {address}{named} is {reason}; [http] allow_networks can open it"
            )
        error: Exception | None = None
        for address in usable:
            try:
                with _deadline_named():
                    stream = self._inner.connect_tcp(
                        address, port, _clamp(timeout), local_address, socket_options
                    )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return _DeadlineStream(stream)
        assert error is not None
        raise error

    def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            pass
        future = _DNS_POOL.submit(self.resolver, host, port)
        try:
            found = future.result(timeout)
        except FutureTimeout:
            raise httpcore.ConnectTimeout(f"cannot resolve {host}: no answer in time") from None
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise httpcore.ConnectError(f"cannot resolve {host}: {reason}") from None
        if not found:
            raise httpcore.ConnectError(f"cannot resolve {host}: no addresses")
        return found

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched from")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport with the guarded backend under its connection pool.

    httpx offers no parameter for a network backend, so the pool it builds is
    replaced by an identical one that has it; no proxy is used (a proxy would open
    the connection itself and bypass the check)."""

    def __init__(
        self,
        *,
        allowed: Sequence[Network] = (),
        limits: httpx.Limits | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        limits = limits or httpx.Limits()
        # one context for both pools: each loads the CA store (tens of ms)
        context = httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=context, limits=limits, trust_env=False)
        self.backend = GuardedBackend(allowed, resolver)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=self.backend,
        )
