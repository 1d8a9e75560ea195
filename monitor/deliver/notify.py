"""apprise behind one module: send one message to each target of a channel and report
each target's own result. Secrets in target URLs never leave this module unmasked.

A target is shown as apprise prints it in privacy mode, with every path segment masked
too (apprise prints a webhook's path, an ntfy topic, a form's ``-apikey=`` in clear) and
only recipient options kept in the query. Free text about a target (apprise's and
urllib3's log lines, the stored error) has that URL's secret parts replaced: the parts of
its user, host, path and option values that the masked form does not show.

One workaround, for speed: apprise's SMTP plugin (2.x) calls ``ssl.create_default_context()``
for every message, which loads the system's CA store (30 ms on a calm machine, 300 ms on a
busy one), also for plain SMTP that never uses it: mail went out at 6 messages a second.
``_share_smtp_tls`` hands that module a view of ``ssl`` whose contexts are made when a
connection is secured, once per kind of certificate check, and shared from then on.

Another, for start-up: ``apprise.plugins.url_to_dict`` and ``Apprise.instantiate`` look the
scheme up in apprise's plugin registry, which imports every plugin module on first use
(about 130, with cryptography, MQTT and XMPP clients: a quarter of a second of CPU and
tens of MB, in each ``poll --once`` that sends). For the schemes in ``_DIRECT`` (mail and
JSON webhooks) ``_server`` imports that one plugin and does what those two functions do
with its class: ``parse_url``, then the class with the parsed arguments, a default
asset and no tags, ``None`` when it fails or is disabled. Any other scheme, or a plugin
not where ``_DIRECT`` says (another apprise layout), goes through the registry.

A third, for a batch of mail: apprise's SMTP plugin opens a connection for every message
(connect, greeting, EHLO, STARTTLS and login, then QUIT), a third of the time that 250
messages to one server take. Within ``kept_connections()`` (a drain pass), apprise's SMTP
module gets a view of ``smtplib`` whose ``SMTP``/``SMTP_SSL`` hand out a connection kept
from an earlier message to the same target URL when there is one, and whose ``quit``
keeps it for the next message. A kept connection is secured and logged in already, so
its STARTTLS and login are skipped; before reuse it must answer NOOP (else it is closed
and a fresh one made), and it goes after ``KEEP_MESSAGES`` messages, after any error
(the connection is closed as before), and when the pass ends. Outside
``kept_connections()``, and for any other caller, every message has its own connection.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import re
import smtplib
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import apprise

from monitor.deliver.render import Message
from monitor.log import hidden

__all__ = [
    "DEFAULT_TIMEOUT",
    "KEEP_MESSAGES",
    "TargetResult",
    "fingerprint",
    "kept_connections",
    "mask",
    "prepare",
    "redact",
    "secrets_of",
    "send",
    "send_each",
]

DEFAULT_TIMEOUT = 30.0  # seconds to connect to and hear back from a target
KEEP_MESSAGES = 100  # messages over one kept SMTP connection before a fresh one
# newsmon's severities, as apprise notification types
_TYPES = {
    "info": apprise.NotifyType.INFO,
    "warning": apprise.NotifyType.WARNING,
    "critical": apprise.NotifyType.FAILURE,
}
_SHOWN_OPTIONS = {"to", "cc", "bcc", "from", "mode"}
# an apprise URL in pieces; "#" belongs to the path (Matrix rooms, Slack channels)
_PIECES = re.compile(
    r"(?P<scheme>[^:/?]*)://(?:(?P<userinfo>[^@/?#]*)@)?(?P<host>[^/?#]*)"
    r"(?P<path>[^?]*)(?:\?(?P<query>.*))?",
    re.DOTALL,
)
# the shown form's parts, cut finely (``desk``) and coarsely (``desk@example.org``, ``#osint``)
_COMPONENTS = (re.compile(r"[/:@?&=#]+"), re.compile(r"[/:?&=]+"))
_PLAIN_ARG_TYPES = ("bool", "choice", "int", "float")  # option values that hold no secret
# schemes whose apprise plugin is imported alone (see the module): module, class
_DIRECT = {
    "mailto": ("apprise.plugins.email", "NotifyEmail"),
    "mailtos": ("apprise.plugins.email", "NotifyEmail"),
    "json": ("apprise.plugins.custom_json", "NotifyJSON"),
    "jsons": ("apprise.plugins.custom_json", "NotifyJSON"),
}


@dataclass(frozen=True)
class TargetResult:
    key: str  # fingerprint(url): stable, reveals nothing
    target: str  # the URL with secrets masked
    is_ok: bool
    error: str | None = None


class _SharedContext:
    """What ``create_default_context()`` gives apprise's SMTP module: it takes
    ``check_hostname`` and ``verify_mode`` as set, and secures a socket with the one
    real context made for that pair (an SSLContext may be shared between threads)."""

    _made: dict[tuple[bool, int], ssl.SSLContext] = {}  # noqa: RUF012  (shared on purpose)
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.check_hostname = True
        self.verify_mode = ssl.CERT_REQUIRED

    def real(self) -> ssl.SSLContext:
        key = (bool(self.check_hostname), int(self.verify_mode))
        with self._lock:
            context = self._made.get(key)
            if context is None:
                context = ssl.create_default_context()
                context.check_hostname = key[0]
                context.verify_mode = ssl.VerifyMode(key[1])
                self._made[key] = context
        return context

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        return self.real().wrap_socket(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


class _SslForSmtp:
    """The ``ssl`` module, but for ``create_default_context()`` without arguments."""

    def __getattr__(self, name: str) -> Any:
        return getattr(ssl, name)

    @staticmethod
    def create_default_context(*args: Any, **kwargs: Any) -> Any:
        return (
            _SharedContext()
            if not (args or kwargs)
            else ssl.create_default_context(*args, **kwargs)
        )


_SMTP_ERRORS = (OSError, smtplib.SMTPException)
_target = threading.local()  # .url: the target this thread is sending to now


class _Kept:
    """A connection as apprise's SMTP module uses it, from ``_Connections``: on a kept
    one STARTTLS and login are skipped (done when it was made); ``quit`` hands it back."""

    def __init__(self, real: smtplib.SMTP, url: str, sent: int, is_reused: bool) -> None:
        self.real, self.url, self.sent, self.is_reused = real, url, sent, is_reused
        self.is_broken = False

    def _guard(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except BaseException:
            self.is_broken = True  # closed at quit, never kept
            raise

    def starttls(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_reused:
            return (220, b"kept")
        return self._guard(self.real.starttls, *args, **kwargs)

    def login(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_reused:
            return (235, b"kept")
        return self._guard(self.real.login, *args, **kwargs)

    def sendmail(self, *args: Any, **kwargs: Any) -> Any:
        self.sent += 1
        return self._guard(self.real.sendmail, *args, **kwargs)

    def quit(self) -> Any:
        _CONNECTIONS.give_back(self)
        return (221, b"kept")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _Connections:
    """SMTP connections kept between messages, by target URL, while a pass keeps them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0  # kept_connections() entered and not left
        self.idle: dict[tuple[str, str], list[tuple[smtplib.SMTP, int]]] = {}

    def open(self, make: Callable[..., smtplib.SMTP], args: Any, kwargs: Any) -> Any:
        url = getattr(_target, "url", None)
        with self.lock:
            is_kept = url is not None and self.users > 0
            idle = self.idle.setdefault((url, make.__name__), []) if url and is_kept else []
        if url is None or not is_kept:
            return make(*args, **kwargs)
        while True:
            with self.lock:
                if not idle:
                    break
                real, sent = idle.pop()
            try:
                if real.noop()[0] == 250:
                    return _Kept(real, url, sent, is_reused=True)
            except _SMTP_ERRORS:
                pass
            _close(real)
        return _Kept(make(*args, **kwargs), url, 0, is_reused=False)

    def give_back(self, kept: _Kept) -> None:
        with self.lock:
            if self.users and not kept.is_broken and kept.sent < KEEP_MESSAGES:
                key = (kept.url, type(kept.real).__name__)
                self.idle.setdefault(key, []).append((kept.real, kept.sent))
                return
        _close(kept.real)

    def enter(self) -> None:
        with self.lock:
            self.users += 1

    def leave(self) -> None:
        with self.lock:
            self.users -= 1
            closing = [] if self.users else [c for kept in self.idle.values() for c, _ in kept]
            if not self.users:
                self.idle.clear()
        for real in closing:
            _close(real)


def _close(real: smtplib.SMTP) -> None:
    with suppress(*_SMTP_ERRORS):
        real.quit()
    with suppress(*_SMTP_ERRORS):
        real.close()


_CONNECTIONS = _Connections()


class _SmtplibForSmtp:
    """The ``smtplib`` module, but whose connections come from ``_CONNECTIONS``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(smtplib, name)

    @staticmethod
    def SMTP(*args: Any, **kwargs: Any) -> Any:  # noqa: N802
        return _CONNECTIONS.open(smtplib.SMTP, args, kwargs)

    @staticmethod
    def SMTP_SSL(*args: Any, **kwargs: Any) -> Any:  # noqa: N802
        return _CONNECTIONS.open(smtplib.SMTP_SSL, args, kwargs)


@contextmanager
def kept_connections() -> Iterator[None]:
    """Mail to one target reuses its SMTP connection from one message to the next (see
    the module); leaving closes the connections kept."""
    _CONNECTIONS.enter()
    try:
        yield
    finally:
        _CONNECTIONS.leave()


def _share_smtp_tls() -> None:
    """Give apprise's SMTP module the shared contexts and the kept connections; nothing
    if its layout differs."""
    try:
        from apprise.plugins.email import smtp
    except ImportError:
        return
    if getattr(smtp, "ssl", None) is ssl:
        smtp.ssl = _SslForSmtp()  # type: ignore[attr-defined,assignment]
    if getattr(smtp, "smtplib", None) is smtplib:
        smtp.smtplib = _SmtplibForSmtp()  # type: ignore[attr-defined,assignment]


_share_smtp_tls()


def fingerprint(url: str) -> str:
    """A short stable name for a target, for remembering which targets accepted."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _server(url: str, timeout: float | None = None) -> Any:
    """A fresh apprise plugin object: a kept one may hold a connection the server closed.
    ``timeout`` sets apprise's connect and read timeouts (its ``cto`` and ``rto`` URL
    options, which win when the URL has them)."""
    with hidden(*_pieces(url)):
        plugin = _direct_plugin(url)
        if plugin is None:
            found = apprise.plugins.url_to_dict(url)
        else:  # as url_to_dict does, with the one plugin
            found = plugin.parse_url(url.replace("/#", "/%23"))
        if not found:
            return None
        if timeout is not None:
            found.setdefault("cto", timeout)
            found.setdefault("rto", timeout)
        if plugin is None:
            return apprise.Apprise.instantiate(found, suppress_exceptions=True)
        return _instantiate(plugin, found)


def _direct_plugin(url: str) -> Any:
    """The plugin class of ``url``'s scheme when it is in ``_DIRECT``, imported alone;
    None for any other scheme, or when apprise no longer has it there."""
    scheme = url.split("://", 1)[0].strip().lower() if "://" in url else ""
    if scheme not in _DIRECT:
        return None
    module, name = _DIRECT[scheme]
    try:
        plugin = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    names: set[str] = set()
    for protocols in (getattr(plugin, "protocol", None), getattr(plugin, "secure_protocol", None)):
        names.update([protocols] if isinstance(protocols, str) else protocols or ())
    return plugin if scheme in {n.lower() for n in names} else None


def _instantiate(plugin: Any, found: dict[str, Any]) -> Any:
    """What ``Apprise.instantiate(found, suppress_exceptions=True)`` does, for ``plugin``."""
    if not plugin.enabled:
        return None
    found["tag"] = set()
    found["asset"] = apprise.AppriseAsset()
    try:
        server = plugin(**found)
    except Exception:  # invalid arguments: as apprise, no plugin object
        return None
    return server if server.enabled else None


@lru_cache(maxsize=256)
def _private(url: str) -> tuple[str, frozenset[str]]:
    """apprise's privacy-mode URL, query and all, and the names of the plugin's options
    whose values are plain (yes/no, a choice, a number)."""
    server = _server(url)
    if server is None:
        return url.split("://", 1)[0] + "://****", frozenset()
    args: dict[str, Any] = getattr(server, "template_args", {})
    plain = {k for k, v in args.items() if str(v.get("type", "")).startswith(_PLAIN_ARG_TYPES)}
    return str(server.url(privacy=True)), frozenset(plain)


def _segment(part: str) -> str:
    """A path segment as shown: a room or channel alias and a mail address stay."""
    return part if not part or unquote(part).startswith("#") or "@" in unquote(part) else "****"


@lru_cache(maxsize=256)
def mask(url: str) -> str:
    """The URL as apprise prints it in privacy mode, every path segment masked, and
    without apprise's own query options (recipients stay); just its scheme when apprise
    does not know it."""
    shown = urlsplit(_private(url)[0])
    path = "/".join(_segment(p) for p in shown.path.split("/"))
    kept = [(k, v) for k, v in parse_qsl(shown.query) if k in _SHOWN_OPTIONS]
    return urlunsplit(shown._replace(path=path, query=urlencode(kept, safe="@,*"), fragment=""))


def _pieces(url: str, plain: frozenset[str] = frozenset()) -> list[str]:
    """Every part of ``url`` that may hold a secret: user, password, host and port parts,
    path segments, and the values of query options not named in ``plain``."""
    m = _PIECES.match(url.strip())
    if m is None:
        return [url]
    found = (m["userinfo"] or "").split(":") + m["host"].split(":") + m["path"].split("/")
    for pair in (m["query"] or "").split("&"):
        key, _, value = pair.partition("=")
        if unquote(key) not in plain:
            found.append(value)
    return [p for p in found if len(p) >= 3]


@lru_cache(maxsize=256)
def secrets_of(url: str) -> tuple[str, ...]:
    """The parts of ``url`` its masked form does not show, longest first, as written,
    decoded and encoded (as they may appear in a request line)."""
    plain = _private(url)[1]
    shown = mask(url)
    public = {p for c in _COMPONENTS for form in (shown, unquote(shown)) for p in c.split(form)}
    found = {p for part in _pieces(url, plain) for p in (part, unquote(part))} - public
    found |= {quote(p, safe="") for p in found}
    return tuple(sorted((p for p in found if len(p) >= 3), key=len, reverse=True))


def prepare(urls: Iterable[str]) -> None:
    """Work out each target's shown form and secrets now, in this thread: the first time,
    apprise loads its plugin modules (seconds on a busy machine), and threads that send
    their first messages at once would each load them again."""
    for url in urls:
        secrets_of(url)


def redact(text: str, urls: Iterable[str]) -> str:
    """``text`` (about these targets) with every secret part of ``urls`` masked."""
    for url in urls:
        for part in secrets_of(url):
            text = text.replace(part, "****")
    return text


def send(
    urls: list[str], message: Message, severity: str = "info", timeout: float = DEFAULT_TIMEOUT
) -> list[TargetResult]:
    """Send to every target in turn; each result stands alone."""
    return list(send_each(urls, message, severity, timeout))


def send_each(
    urls: Iterable[str],
    message: Message,
    severity: str = "info",
    timeout: float = DEFAULT_TIMEOUT,
) -> Iterator[TargetResult]:
    """Like ``send``, one result at a time, so the caller can record each before the next.
    ``timeout``: seconds to connect to a target and to wait for its answer."""
    for url in urls:
        with hidden(*secrets_of(url)):  # what apprise, requests and urllib3 log meanwhile
            result = _send_one(url, message, severity, timeout)
        yield result


def _send_one(url: str, message: Message, severity: str, timeout: float) -> TargetResult:
    shown, key = mask(url), fingerprint(url)
    server = _server(url, timeout)
    if server is None:
        error = "apprise does not understand this URL; check its scheme"
        return TargetResult(key, shown, False, error)
    with apprise.LogCapture(level=logging.WARNING) as captured:
        _target.url = url  # which kept connection may carry it
        try:
            is_ok = bool(
                server.notify(
                    body=message.body,
                    title=message.title,
                    notify_type=_TYPES.get(severity, apprise.NotifyType.INFO),
                    body_format=message.format,
                )
            )
        except Exception as exc:  # a plugin bug must not take the daemon down
            is_ok, extra = False, f"{type(exc).__name__}: {exc}"
        else:
            extra = ""
        finally:
            _target.url = None
        log = captured.getvalue() if hasattr(captured, "getvalue") else ""
    if is_ok:
        return TargetResult(key, shown, True)
    lines = [ln.split(" - ", 2)[-1] for ln in str(log).splitlines()] + [extra]
    detail = redact(" ".join(" ".join(lines).split()), [url])  # masked, then cut
    return TargetResult(key, shown, False, detail[-500:] or "the service refused the message")
