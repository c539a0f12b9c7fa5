"""``install``'s pip step has a minimum transfer rate (:mod:`lockgen.install.pipguard`): a loopback
proxy between the installer and every host cuts a host that answers slower than
``LOCKGEN_DOWNLOAD_MIN_RATE`` over the window, and ``run_pip`` stops the installer with one line
naming the host and the setting. Windows here are fractions of a second; the servers are loopback."""

from __future__ import annotations

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

from lockgen.errors import InstallError
from lockgen.install.pip import PipBudget, PipCommand, run_pip
from lockgen.install.pipguard import PROXY_VARIABLES, PipGuard
from lockgen.secrets import SecretRegistry
from tests.support.channel import QuietHandler, serve_directory

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
    proxy = guard.url.removeprefix("http://")
    connection = http.client.HTTPConnection(proxy, timeout=10)
    name, _, port = host.partition(":")
    connection.set_tunnel(name, int(port))  # CONNECT, as uv and pip do for https
    return connection


def _plain(guard: PipGuard) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(guard.url.removeprefix("http://"), timeout=10)


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
            sock.sendall(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
            sock.sendall(b"hello")
            received = b""
            while chunk := sock.recv(100):
                received += chunk
            assert received == b"answerbye"
            assert guard.slow is None
        tcp.shutdown()


def _port(guard: PipGuard) -> int:
    return int(guard.url.rpartition(":")[2])


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
    assert guarded.startswith("http://127.0.0.1:") and guarded.endswith(" None")
    off = run_pip(command, SecretRegistry(), budget=PipBudget.starting_now(60, 60, min_rate=0))
    assert off == "None internal.example"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    kept = run_pip(command, SecretRegistry(), budget=PipBudget.starting_now(60, 60, min_rate=1024))
    assert kept == "http://proxy.example:3128 internal.example"
