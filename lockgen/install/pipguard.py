"""A minimum transfer rate for ``install``'s pip step: a loopback proxy that measures every connection.

uv and pip bound a download only by a *read* timeout (the longest wait for one read:
``UV_HTTP_TIMEOUT``, ``PIP_TIMEOUT``): an index that sends one byte every few hundred milliseconds
never trips it. Neither installer has a minimum rate, so lockgen puts itself on the path: the
installer is given ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` naming a proxy on 127.0.0.1 that
relays each connection to the host it asks for (``CONNECT host:port`` for https, TLS untouched end
to end; one request per connection for plain http) and counts the bytes each host sends.

The rule is the conda downloads' (``LOCKGEN_DOWNLOAD_MIN_RATE`` bytes per second over
``LOCKGEN_DOWNLOAD_MIN_RATE_WINDOW`` seconds), judged while a host is answering: each time bytes
arrive, once the answer has lasted a whole window, the bytes of the last window must reach the
minimum. An answer is timed from the installer's last bytes on that connection, or from the
first bytes after the connection was quiet for 5 s (or half the window): a connection left idle
in the installer's pool, then closed by the host with a few bytes, is not judged, nor is an
installer slow to ask. A host that sends nothing at all is ended by the installer's read timeout;
one that pauses more than 5 s between its bytes escapes this count, and ``LOCKGEN_PIP_DEADLINE``
bounds it. When a host falls below the rule, :attr:`PipGuard.slow` names it (``host:port``, never
a login) and the caller stops the installer.

Not used when the environment already names a proxy (the installer keeps the user's proxy; the
pip step is then bounded by ``LOCKGEN_PIP_DEADLINE`` and the read timeout only).

The proxy relays only for the installer it was made for: its URL carries a secret of this run
(``http://lockgen:SECRET@127.0.0.1:PORT``; uv and pip send it as ``Proxy-Authorization``), and a
connection without it is answered 407 and closed, so another local user or process cannot use it
as a relay while the step runs. The caller registers :attr:`PipGuard.secret` so no message shows
it. A request for the proxy itself is refused (no loop).
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import os
import select
import socket
import socketserver
import threading
import time
from collections import deque
from collections.abc import Mapping
from urllib.parse import urlsplit

from lockgen.records import dataclass

__all__ = ["PROXY_VARIABLES", "PipGuard", "SlowHost", "proxy_configured"]

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
_NO_PROXY = ("NO_PROXY", "no_proxy")
_HEAD_LIMIT = 64 * 1024
_USER = "lockgen"
_HEAD_TIMEOUT_S = 30.0
"""The longest wait for a request's line and headers."""
_QUIET_S = 5.0
"""A connection quiet this long (or half the window) is not answering: what arrives next starts a new count."""


def proxy_configured(environ: Mapping[str, str]) -> bool:
    """Whether the installer would use a proxy of the user's (then lockgen does not put its own in)."""
    return any(environ.get(name) for name in PROXY_VARIABLES)


@dataclass(frozen=True, slots=True)
class SlowHost:
    host: str
    """``host:port`` as the installer asked for it."""
    rate: float
    """Bytes per second over ``seconds``."""
    seconds: float


class PipGuard:
    """The loopback proxy of one pip step; use as a context manager around the installer's run."""

    def __init__(self, min_rate: int, window_s: float, head_timeout_s: float = _HEAD_TIMEOUT_S) -> None:
        self.min_rate = min_rate
        self.window_s = window_s
        self.head_timeout_s = head_timeout_s
        self.slow: SlowHost | None = None
        self.secret = os.urandom(24).hex()
        """The password of this run's proxy URL: a connection that does not send it is refused."""
        self._authorization = "Basic " + base64.b64encode(f"{_USER}:{self.secret}".encode()).decode()
        self.tripped = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        guard = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                guard._serve(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler, bind_and_activate=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="lockgen-pip-guard", daemon=True
        )

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, where the proxy listens."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The proxy URL the installer is given, with this run's secret (never shown: see :attr:`secret`)."""
        return f"http://{_USER}:{self.secret}@{self.address}"

    @property
    def authorization(self) -> str:
        """The ``Proxy-Authorization`` value a client of :attr:`url` sends."""
        return self._authorization

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """``env`` with every proxy variable naming this proxy, and no host excluded from it."""
        changed = {k: v for k, v in env.items() if k not in _NO_PROXY}
        changed.update(dict.fromkeys(PROXY_VARIABLES, self.url))
        return changed

    def __enter__(self) -> PipGuard:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for sock in self._sockets:
                _close(sock)
            self._sockets.clear()
        self._thread.join(timeout=5)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _serve(self, client: socket.socket) -> None:
        self._track(client)
        upstream = None
        try:
            client.settimeout(self.head_timeout_s)  # a connection that never asks does not hold a thread
            head, rest = _read_head(client)
            client.settimeout(None)
            if head is None:
                return
            if not self._authorized(head):
                client.sendall(_answer(b"407 Proxy Authentication Required", b"Proxy-Authenticate: Basic"))
                return
            target, first = _route(head)
            if target is None:
                client.sendall(_answer(b"400 Bad Request"))
                return
            try:
                upstream = socket.create_connection(target, timeout=30)
            except OSError:
                client.sendall(_answer(b"502 Bad Gateway"))
                return
            if upstream.getpeername()[:2] == self._server.server_address[:2]:  # the proxy itself: no loop
                client.sendall(_answer(b"400 Bad Request"))
                return
            upstream.settimeout(None)
            self._track(upstream)
            if first is None:  # CONNECT: the installer speaks TLS to the host through the tunnel
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if rest:
                    upstream.sendall(rest)
            else:
                upstream.sendall(first + rest)
            self._relay(client, upstream, f"{target[0]}:{target[1]}")
        except OSError:
            return
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    _close(sock)

    def _authorized(self, head: bytes) -> bool:
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"proxy-authorization":
                given = value.strip().decode("latin-1")
                scheme, _, credentials = given.partition(" ")
                expected_scheme, _, expected = self._authorization.partition(" ")
                return scheme.lower() == expected_scheme.lower() and hmac.compare_digest(
                    credentials.strip().encode("latin-1"), expected.encode("latin-1")
                )
        return False

    def _relay(self, client: socket.socket, upstream: socket.socket, host: str) -> None:
        arrivals: deque[tuple[float, int]] = deque()
        quiet = min(_QUIET_S, self.window_s / 2)
        started = last = time.monotonic()  # the answer is timed from the installer's last bytes
        while not self.tripped.is_set():
            readable, _, _ = select.select([client, upstream], [], [], 0.25)
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                now = time.monotonic()
                if sock is client or now - last >= quiet:  # a new request, or bytes after a pause: a new count
                    started, arrivals = now, deque()
                last = now
                if sock is client:
                    upstream.sendall(data)
                    continue
                client.sendall(data)
                arrivals.append((now, len(data)))
                while arrivals and arrivals[0][0] <= now - self.window_s:
                    arrivals.popleft()
                received = sum(n for _, n in arrivals)
                if self.min_rate > 0 and now - started >= self.window_s and received < self.min_rate * self.window_s:
                    self.slow = SlowHost(host, received / self.window_s, self.window_s)
                    self.tripped.set()
                    return


def _answer(status: bytes, *headers: bytes) -> bytes:
    return b"\r\n".join([b"HTTP/1.1 " + status, *headers, b"Connection: close", b"Content-Length: 0", b"", b""])


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _read_head(client: socket.socket) -> tuple[bytes | None, bytes]:
    """The request's line and headers, and whatever bytes came after them."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk or len(data) > _HEAD_LIMIT:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _route(head: bytes) -> tuple[tuple[str, int] | None, bytes | None]:
    """Where to connect, and the request to send there first (None for a CONNECT tunnel)."""
    lines = head.decode("latin-1").split("\r\n")
    method, _, rest = lines[0].partition(" ")
    target, _, version = rest.partition(" ")
    if method == "CONNECT":
        name, _, number = target.rpartition(":")
        return ((name.strip("[]"), int(number)) if name and number.isdigit() else None), None
    try:
        parts = urlsplit(target)
        host, port = parts.hostname, parts.port or 80
    except ValueError:
        return None, None
    if parts.scheme != "http" or not host:
        return None, None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    keep = [
        line
        for line in lines[1:]
        if line.partition(":")[0].strip().lower() not in ("connection", "proxy-connection", "proxy-authorization")
    ]
    request = "\r\n".join([f"{method} {path} {version}", *keep, "Connection: close"]) + "\r\n\r\n"
    return (host, port), request.encode("latin-1")
