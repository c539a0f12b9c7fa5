"""``install``'s pip step has a minimum transfer rate (:mod:`lockgen.install.pipguard`): a loopback
proxy between the installer and every host cuts a host that answers slower than
``LOCKGEN_DOWNLOAD_MIN_RATE`` over the window, and ``run_pip`` stops the installer with one line
naming the host and the setting. Windows here are fractions of a second; the servers are loopback."""

from __future__ import annotations

import base64
import http.client
import http.server
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from uv import find_uv_bin

from lockgen.errors import InstallError
from lockgen.install import pipguard
from lockgen.install.pip import PipBudget, PipCommand, run_pip
from lockgen.install.pipguard import PROXY_VARIABLES, PipGuard
from lockgen.secrets import SecretRegistry
from tests.support.channel import QuietHandler, serve_directory
from tests.support.pypi_index import SimpleIndex, serve_index

WINDOW = 0.2


class _Handler(QuietHandler):
    """``/small``: two bytes at once; ``/drip``: one byte every 50 ms (far below 1024 bytes/s)."""

    protocol_version = "HTTP/1.1"  # keeps the connection open between requests

    def do_GET(self) -> None:
        drip = self.path.endswith("/drip")
        body = b"x" * 200 if drip else b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for byte in body if drip else [body]:
                self.wfile.write(bytes([byte]) if isinstance(byte, int) else byte)
                self.wfile.flush()
                if drip:
                    time.sleep(0.05)
        except OSError:
            return


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with serve_directory(tmp_path, _Handler) as served:
        yield served.url.removeprefix("http://")


def _tunnel(guard: PipGuard, host: str) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection(guard.address, timeout=10)
    name, _, port = host.partition(":")
    connection.set_tunnel(name, int(port), {"Proxy-Authorization": guard.authorization})  # CONNECT, as for https
    return connection


class _Plain(http.client.HTTPConnection):
    """A client of the proxy over plain http: every request carries the proxy's secret."""

    authorization = ""

    def putrequest(self, method: str, url: str, skip_host: bool = False, skip_accept_encoding: bool = False) -> None:
        super().putrequest(method, url, skip_host, skip_accept_encoding)
        self.putheader("Proxy-Authorization", self.authorization)


def _plain(guard: PipGuard) -> http.client.HTTPConnection:
    connection = _Plain(guard.address, timeout=10)
    connection.authorization = guard.authorization
    return connection


def test_a_dripping_host_is_cut_through_a_tunnel(server: str) -> None:
    with PipGuard(1024, WINDOW) as guard, closing(_tunnel(guard, server)) as connection:
        connection.request("GET", "/drip")
        with pytest.raises((http.client.HTTPException, OSError)):
            connection.getresponse().read()
        assert guard.tripped.is_set()
        assert guard.slow is not None and guard.slow.host == server
        assert guard.slow.rate < 1024


def test_a_dripping_host_is_cut_over_plain_http(server: str) -> None:
    with PipGuard(1024, WINDOW) as guard, closing(_plain(guard)) as connection:
        connection.request("GET", f"http://{server}/drip")  # absolute form, as a client sends it to a proxy
        with pytest.raises((http.client.HTTPException, OSError)):
            connection.getresponse().read()
        assert guard.slow is not None and guard.slow.host == server


def test_an_idle_connection_between_requests_is_not_judged(server: str) -> None:
    with (
        PipGuard(1024, WINDOW) as guard,
        closing(_tunnel(guard, server)) as connection,
        closing(_plain(guard)) as plain,
    ):
        connection.request("GET", "/small")
        assert connection.getresponse().read() == b"ok"
        time.sleep(2 * WINDOW)  # the connection waits in the pool longer than a window
        connection.request("GET", "/small")
        assert connection.getresponse().read() == b"ok"
        plain.request("GET", f"http://{server}/small")
        assert plain.getresponse().read() == b"ok"
        assert guard.slow is None and not guard.tripped.is_set()


class _ClosesLater(socketserver.BaseRequestHandler):
    """Answers at once, then, after a pause longer than the window, sends a few bytes and closes (a TLS
    close_notify or an HTTP/2 GOAWAY on an idle pooled connection)."""

    def handle(self) -> None:
        self.request.recv(100)
        self.request.sendall(b"answer")
        time.sleep(4 * WINDOW)
        self.request.sendall(b"bye")


def test_bytes_after_a_pause_are_not_an_answer_judged() -> None:
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ClosesLater) as tcp:
        threading.Thread(target=tcp.serve_forever, args=(0.05,), daemon=True).start()
        port = tcp.server_address[1]
        with PipGuard(1024, WINDOW) as guard, closing(socket.create_connection(("127.0.0.1", _port(guard)))) as sock:
            sock.sendall(_connect(f"127.0.0.1:{port}", guard.authorization))
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
            sock.sendall(b"hello")
            received = b""
            while chunk := sock.recv(100):
                received += chunk
            assert received == b"answerbye"
            assert guard.slow is None
        tcp.shutdown()


def _port(guard: PipGuard) -> int:
    return int(guard.address.rpartition(":")[2])


def _connect(target: str, authorization: str | None) -> bytes:
    login = f"Proxy-Authorization: {authorization}\r\n" if authorization is not None else ""
    return f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{login}\r\n".encode()


def _answer(guard: PipGuard, request: bytes) -> bytes:
    with closing(socket.create_connection(("127.0.0.1", _port(guard)), timeout=10)) as sock:
        sock.sendall(request)
        return sock.recv(200)


def test_only_the_installer_given_the_secret_can_use_the_proxy(server: str) -> None:
    """The proxy listens on 127.0.0.1 while the step runs: another local user or process, not given
    the run's secret, must not get a relay to any host."""
    wrong = "Basic " + base64.b64encode(b"lockgen:" + b"0" * 48).decode()
    with PipGuard(1024, WINDOW) as guard:
        assert guard.secret in guard.url and guard.url.endswith(f"@{guard.address}")
        for request in (
            _connect(server, None),
            _connect(server, wrong),
            _connect(server, guard.authorization.replace("Basic ", "Bearer ")),
            f"GET http://{server}/small HTTP/1.1\r\nHost: {server}\r\n\r\n".encode(),
        ):
            assert _answer(guard, request).startswith(b"HTTP/1.1 407 "), request
        assert _answer(guard, _connect(server, guard.authorization)).startswith(b"HTTP/1.1 200 ")
    with PipGuard(1024, WINDOW) as other:
        assert other.secret != guard.secret


def test_a_connection_that_never_asks_is_closed() -> None:
    """Another local process may connect and send nothing: the proxy closes it after the head timeout
    instead of holding a thread until the step ends."""
    with (
        PipGuard(1024, WINDOW, head_timeout_s=0.1) as guard,
        closing(socket.create_connection(("127.0.0.1", _port(guard)), timeout=10)) as sock,
    ):
        assert sock.recv(100) == b""


def test_the_proxy_does_not_relay_to_itself() -> None:
    with PipGuard(1024, WINDOW) as guard:
        for target in (guard.address, f"0.0.0.0:{_port(guard)}"):
            assert _answer(guard, _connect(target, guard.authorization)).startswith(b"HTTP/1.1 400 "), target
        own = f"GET http://{guard.address}/ HTTP/1.1\r\nProxy-Authorization: {guard.authorization}\r\n\r\n"
        assert _answer(guard, own.encode()).startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize("tool", ["uv", "pip"])
def test_uv_and_pip_send_the_secret_and_go_through_the_proxy_to_a_loopback_index(
    tool: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The installers given the proxy URL send its secret (else this install fails with 407), and a
    loopback index (tests', a user's local mirror) is reached through the proxy too: no NO_PROXY."""
    for name in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    relayed = _relayed(monkeypatch)
    index = SimpleIndex(tmp_path / "index")
    index.add("tiny", "1.0")
    index.write()
    with serve_index(index.root) as served:
        url = f"{served.url}/simple"
        target = tmp_path / "target"
        common = ("--no-deps", "--target", str(target), "--index-url", url, "tiny")
        argv = _installer(tool, common)
        registry = SecretRegistry()
        output = run_pip(PipCommand(tool, argv), registry, [("UV_PYTHON_DOWNLOADS", "never")],
                         PipBudget.starting_now(60, 60, min_rate=1, min_rate_window_s=30))  # fmt: skip
    assert (target / "tiny").is_dir() or any(target.glob("tiny-1.0.dist-info")), output
    host = served.url.removeprefix("http://").encode()
    assert any(line.startswith(b"GET http://" + host + b"/") for line in relayed), relayed
    [secret] = [s for s in registry.secrets if len(s) == 48]  # registered: any message of the step masks it
    assert secret not in output


FETCHES = """
import sys, time, urllib.request
open(sys.argv[2], "w").write("started")
try:
    urllib.request.urlopen(sys.argv[1], timeout=30).read()  # through HTTP_PROXY, as pip would go
except Exception as exc:
    print("fetch failed:", exc)
time.sleep(30)  # an installer that retries and never gives up: lockgen must stop it
"""


def test_run_pip_stops_the_installer_and_names_the_host_and_setting(tmp_path: Path, server: str) -> None:
    started = tmp_path / "started"
    command = PipCommand("pip", (sys.executable, "-c", FETCHES, f"http://{server}/drip", str(started)))
    budget = PipBudget.starting_now(60, 60, (server,), min_rate=1024, min_rate_window_s=WINDOW)
    with pytest.raises(InstallError) as caught:
        run_pip(command, SecretRegistry(), [(name, "") for name in PROXY_VARIABLES], budget, "locks/requirements.txt")
    message = str(caught.value)
    assert started.is_file()
    assert "\n" not in message
    assert message.startswith("`pip install -r locks/requirements.txt` was stopped with everything it started:")
    assert f"{server} sent" in message and "below the minimum of 1024 bytes/s" in message
    assert "LOCKGEN_DOWNLOAD_MIN_RATE and LOCKGEN_DOWNLOAD_MIN_RATE_WINDOW" in message
    assert "did not finish within" not in message


SHOWS_PROXY = "import os; print(os.environ.get('HTTPS_PROXY'), os.environ.get('NO_PROXY'))"


def test_the_users_proxy_is_kept_and_no_rule_means_no_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "internal.example")
    command = PipCommand("pip", (sys.executable, "-c", SHOWS_PROXY))
    guarded = run_pip(command, SecretRegistry(), budget=PipBudget.starting_now(60, 60, min_rate=1024))
    assert guarded.startswith("http://***@127.0.0.1:") and guarded.endswith(" None")  # the run's secret masked
    off = run_pip(command, SecretRegistry(), budget=PipBudget.starting_now(60, 60, min_rate=0))
    assert off == "None internal.example"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    kept = run_pip(command, SecretRegistry(), budget=PipBudget.starting_now(60, 60, min_rate=1024))
    assert kept == "http://proxy.example:3128 internal.example"


@pytest.mark.parametrize("tool", ["uv", "pip"])
def test_uv_and_pip_send_the_secret_with_a_connect_for_https(
    tool: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """For an https index the installers open a CONNECT tunnel: it carries the secret too (else the
    proxy answers 407 and routes nothing). Port 1 refuses: the step fails, after the tunnel was asked."""
    for name in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    relayed = _relayed(monkeypatch)
    common = ("--target", str(tmp_path / "t"), "--index-url", "https://127.0.0.1:1/simple", "tiny")
    argv = _installer(tool, ("--retries", "0", *common) if tool == "pip" else common)
    env = [("UV_PYTHON_DOWNLOADS", "never"), ("UV_HTTP_RETRIES", "0")]
    with pytest.raises(InstallError):
        run_pip(PipCommand(tool, argv), SecretRegistry(), env, PipBudget.starting_now(60, 30, min_rate=1))
    assert relayed and relayed[0].startswith(b"CONNECT 127.0.0.1:1 "), relayed


def _installer(tool: str, args: tuple[str, ...]) -> tuple[str, ...]:
    """`uv pip install` or `pip install` into the test's Python, no cache, no version check."""
    if tool == "uv":
        return (str(find_uv_bin()), "pip", "install", "--python", sys.executable, "--no-cache", *args)
    return (sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-cache-dir", *args)


def _relayed(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The request line of every request the proxy routes (only those with the run's secret reach it)."""
    relayed: list[bytes] = []
    route = pipguard._route

    def recording(head: bytes) -> tuple[tuple[str, int] | None, bytes | None]:
        relayed.append(head.split(b"\r\n")[0])
        return route(head)

    monkeypatch.setattr(pipguard, "_route", recording)
    return relayed
