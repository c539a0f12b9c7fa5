"""A channel server on 127.0.0.1 whose misbehaviour the tests choose, path by path.

``FaultServer`` serves a directory (a channel built with :class:`~tests.support.channel.ChannelBuilder`)
like ``python -m http.server``, except where a rule says otherwise: a status code, a stall, a
truncated body, corrupt bytes, an HTML login page, a redirect loop, or a credential check. Every
request is recorded (method, path, status) so tests can count retries. Stalls wait on an event
that :meth:`FaultServer.close` sets, so no thread outlives the test.
"""

from __future__ import annotations

import base64
import fnmatch
import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Fault", "FaultServer", "Hit", "serve_faults"]

LOGIN_PAGE = b"""<!DOCTYPE html>
<html><head><title>Sign in - Corporate Proxy</title></head>
<body><form action="/login" method="post"><input name="user"><input name="password" type="password">
<button>Sign in</button></form></body></html>
"""


@dataclass(frozen=True, slots=True)
class Hit:
    method: str
    path: str
    status: int
    agent: str = ""
    """The User-Agent: ``lockgen`` for lockgen's own repodata size check, rattler's otherwise."""


@dataclass(slots=True)
class Fault:
    """What to do for paths matching ``pattern`` (fnmatch, against the path without the query).

    ``kind`` is one of: ``status`` (send ``status``), ``stall`` (accept, then say nothing for up to
    ``seconds``), ``truncate`` (promise the full length, send half, close), ``garbage`` (send
    ``body`` with status 200), ``html`` (a 200 login page), ``redirect`` (302 to the same path, forever),
    ``basic`` (require ``user``/``password``), ``token`` (require the path to start with ``/t/<token>/``,
    which is stripped before serving). ``times`` limits how often the fault fires (None: always).
    """

    pattern: str
    kind: str
    status: int = 500
    seconds: float = 30.0
    body: bytes = b""
    user: str = ""
    password: str = ""
    token: str = ""
    times: int | None = None
    fired: int = field(default=0)


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return None

    def send_response(self, code: int, message: str | None = None) -> None:
        self.server.record(Hit(self.command, self.path, code, self.headers.get("User-Agent", "")))
        super().send_response(code, message)

    def do_HEAD(self) -> None:
        if not self._fault():
            super().do_HEAD()

    def do_GET(self) -> None:
        if not self._fault():
            super().do_GET()

    def _fault(self) -> bool:
        """Apply matching rules in order until one sends a response (credential checks that pass,
        and token prefixes that are stripped, let later rules apply); True when a response was sent."""
        for fault in self.server.rules():
            path = self.path.split("?", 1)[0]
            if not fnmatch.fnmatchcase(path, fault.pattern):
                continue
            if fault.times is not None and fault.fired >= fault.times:
                continue
            fault.fired += 1
            if self._apply(fault, path):
                return True
        return False

    def _apply(self, fault: Fault, path: str) -> bool:
        actions: dict[str, Callable[[Fault, str], bool]] = {
            "status": self._status,
            "stall": self._stall,
            "truncate": self._truncate,
            "garbage": self._garbage,
            "html": self._html,
            "redirect": self._redirect,
            "basic": self._basic,
            "token": self._token,
        }
        return actions[fault.kind](fault, path)

    def _status(self, fault: Fault, path: str) -> bool:
        self.send_response(fault.status)
        body = f"error {fault.status}\n".encode()
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return True

    def _stall(self, fault: Fault, path: str) -> bool:
        self.server.record(Hit(self.command, self.path, 0))
        self.server.closing.wait(fault.seconds)
        self.close_connection = True
        return True

    def _truncate(self, fault: Fault, path: str) -> bool:
        local = Path(self.translate_path(path))
        if local.is_dir():
            local = local / "index.html"
        if not local.is_file():
            return False
        data = local.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
        self.close_connection = True
        return True

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _garbage(self, fault: Fault, path: str) -> bool:
        self._send(200, fault.body, "application/octet-stream")
        return True

    def _html(self, fault: Fault, path: str) -> bool:
        self._send(200, LOGIN_PAGE, "text/html; charset=utf-8")
        return True

    def _redirect(self, fault: Fault, path: str) -> bool:
        self.send_response(302)
        self.send_header("Location", self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def _basic(self, fault: Fault, path: str) -> bool:
        expected = base64.b64encode(f"{fault.user}:{fault.password}".encode()).decode()
        if self.headers.get("Authorization", "") == f"Basic {expected}":
            return False
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="channel"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def _token(self, fault: Fault, path: str) -> bool:
        prefix = f"/t/{fault.token}/"
        if self.path.startswith(prefix):
            self.path = self.path[len(prefix) - 1 :]
            return False
        self._send(403, b"token required\n", "text/plain")
        return True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        self.root = root
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self.hits: list[Hit] = []
        super().__init__(("127.0.0.1", 0), self._make_handler)

    def _make_handler(self, *args: object) -> _Handler:
        return _Handler(*args, directory=str(self.root))  # type: ignore[arg-type]

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def rules(self) -> list[Fault]:
        with self._lock:
            return list(self._rules)

    def set_rules(self, rules: list[Fault]) -> None:
        with self._lock:
            self._rules = list(rules)


@dataclass
class FaultServer:
    """Handle on a running server: its base URL, its rules and the requests it saw."""

    url: str
    _server: _Server

    def fault(self, pattern: str, kind: str, **kwargs: object) -> Fault:
        fault = Fault(pattern, kind, **kwargs)  # type: ignore[arg-type]
        self._server.set_rules([*self._server.rules(), fault])
        return fault

    def clear(self) -> None:
        self._server.set_rules([])
        with self._server._lock:
            self._server.hits.clear()

    @property
    def hits(self) -> list[Hit]:
        with self._server._lock:
            return list(self._server.hits)

    def count(self, pattern: str, status: int | None = None) -> int:
        """Requests whose path matches ``pattern`` (and whose status is ``status``, if given)."""
        return sum(
            1
            for h in self.hits
            if fnmatch.fnmatchcase(h.path.split("?", 1)[0], pattern) and (status is None or h.status == status)
        )


@contextmanager
def serve_faults(root: Path) -> Iterator[FaultServer]:
    """Serve ``root`` on 127.0.0.1 (a free port) with injectable faults, for the block's duration."""
    server = _Server(root)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield FaultServer(f"http://127.0.0.1:{server.server_address[1]}", server)
    finally:
        server.closing.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
