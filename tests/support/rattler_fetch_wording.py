"""rattler's repodata fetch errors as lockgen reads them: one failing download per kind of failure.

When repodata cannot be fetched, py-rattler raises an exception whose text (the error and its
``Caused by`` chain, from rattler and the HTTP and TLS libraries under it) is human text, not an
API; ``lockgen/repodata/failures.py`` reads it (:func:`~lockgen.repodata.failures.first_url`: which
URL failed; :func:`~lockgen.repodata.failures.fetch_reason`: why, in words). Each
:class:`FetchScenario` serves a small channel on 127.0.0.1 that fails one way (or points at a port
nothing listens on) and locks one spec from it through lockgen's adapter
(:meth:`RattlerSolver._solve_one <lockgen.conda.solve.RattlerSolver._solve_one>`, no retries, a
short timeout), in a child process; :func:`problems` says what lockgen's parsers did not read as
they must. ``tests/data/rattler-output/<py-rattler version>/fetch/<scenario>.txt`` keeps what each
supported py-rattler said, the served port written ``<port>`` (read by
``tests/unit/test_rattler_output.py``); the installed py-rattler is run by
``tests/integration/test_rattler_wording.py``. Recorded with the solver's scenarios
(``python -m tests.support.rattler_wording record ...``, docs/architecture.md "py-rattler versions").
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lockgen.repodata.failures import fetch_reason, first_url
from tests.support.channel import ChannelBuilder, QuietHandler, serve_directory
from tests.support.rattler_wording import DATA, LINUX, PLATFORM, ROOT, Output, recorded_versions

FOLDER = "fetch"
"""The recordings' folder under ``tests/data/rattler-output/<version>/``."""
PORT = "<port>"
"""How a recording writes the port its server listened on (a free port, another each run)."""
RECORDED_PORT = "49152"
"""The port a recording is read with (:func:`restore_port`): a URL has digits there."""
SUBDIR = "<subdir>"
"""How a recording writes the subdir in a URL when the whole server fails (which of the two
subdirs rattler fetches at once fails first is a race); read as ``noarch``."""
TIMEOUT_S = 2
"""The HTTP timeout of the fetch (the ``no-answer`` scenario waits this long)."""
CLOSED = "http://127.0.0.1:9"
"""The discard port: nothing listens there, a connection is refused at once."""


class _Forbidden(QuietHandler):
    """Refuses noarch (the platform's subdir is served: which of them fails first is no race)."""

    def do_GET(self) -> None:
        self.send_error(403) if "/noarch/" in self.path else super().do_GET()


class _Broken(QuietHandler):
    def do_GET(self) -> None:
        self.send_error(500) if "/noarch/" in self.path else super().do_GET()


class _Loop(QuietHandler):
    def do_GET(self) -> None:
        if "/noarch/" not in self.path:
            super().do_GET()
            return
        self.send_response(302)
        self.send_header("Location", self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _CutOff(QuietHandler):
    """Promises more bytes of repodata than it sends, then closes."""

    def do_GET(self) -> None:
        if not self.path.endswith("/noarch/repodata.json"):
            super().do_GET()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b'{"info": {"subdir": "noarch"}, "packages": {')
        self.wfile.flush()
        self.close_connection = True


def _write(path: str, data: bytes) -> Callable[[Path], None]:
    def sabotage(root: Path) -> None:
        (root / path).write_bytes(data)

    return sabotage


def _remove_noarch(root: Path) -> None:
    for name in ("repodata.json", "repodata.json.zst", "repodata.json.bz2"):
        (root / "chan" / "noarch" / name).unlink(missing_ok=True)


@dataclass(frozen=True)
class FetchScenario:
    """One download of repodata that fails, and what lockgen must read in rattler's error."""

    name: str
    url: str | None
    """The URL :func:`first_url` reads in the error (None: the error names none)."""
    reason: str
    """What :func:`fetch_reason` makes of the error."""
    says: str
    """A line of lockgen's message for it (checked on live runs: the recordings keep rattler's text only)."""
    sabotage: Callable[[Path], None] | None = None
    """Breaks the served folder (its channel is ``chan``)."""
    handler: type[QuietHandler] | None = None
    """Serves the folder otherwise than as files."""
    where: str = "served"
    """``served``: the channel is served on 127.0.0.1; ``closed``: it is at :data:`CLOSED`; ``silent``:
    on a port that accepts connections and never answers; ``tls``: https:// to the plain HTTP server;
    ``self-signed``: served over https with a certificate nobody signed (made with the ``openssl`` command)."""


_CHAN = f"http://127.0.0.1:{PORT}/chan"
_TLS = _CHAN.replace("http:", "https:")
_SHARDS = "repodata_shards.msgpack.zst"
"""rattler 0.28 asks for sharded repodata first: the first URL that fails, when the server fails every request."""
_RETRIED = "; gave up after 0 retries with backoff"


def _cannot(url: str, why: str) -> str:
    return f"cannot fetch {url}: {why}"


_NOT_JSON = "the response is not valid repodata JSON"
_HTML = "the server sent an HTML page (a login or proxy page?) instead of repodata"
_REFUSED = f"connection refused (is the server up, and the URL right?){_RETRIED}"
_FORBIDDEN = "the server answered HTTP 403 Forbidden: access denied, check the channel's credentials or token"
_BROKEN = f"the server answered HTTP 500 Internal Server Error{_RETRIED}"
_LOOP = "the server redirects in a loop (too many redirects)"
_CUT = "the download was cut off before its end (truncated response)"
_CORRUPT = "the response is not valid compressed repodata (a corrupt file, or a page served in its place)"
_SILENT = f"no answer within {TIMEOUT_S} s (LOCKGEN_HTTP_TIMEOUT sets the limit){_RETRIED}"
_HANDSHAKE = "the TLS handshake failed (does the server speak https at that port?)"
_UNTRUSTED = "the server's TLS certificate is not trusted (self-signed, or a proxy that intercepts https?)"

FETCH_SCENARIOS = {
    s.name: s
    for s in (
        FetchScenario(
            "connection-refused",
            url=f"{CLOSED}/chan/{SUBDIR}/{_SHARDS}",
            reason=_REFUSED,
            says=f"cannot reach {CLOSED} for channel `{CLOSED}/chan`: {_REFUSED}",
            where="closed",
        ),
        FetchScenario(
            "not-found",  # noarch missing (a platform's subdir missing is an empty one)
            url=f"{_CHAN}/",
            reason="the server answered HTTP 404 File not found",
            says=_cannot(f"{_CHAN}/", "the server answered HTTP 404 File not found"),
            sabotage=_remove_noarch,
        ),
        FetchScenario(
            "malformed-json",  # the error names no URL: lockgen finds the subdir that fails
            url=None,
            reason=_NOT_JSON,
            says=_cannot(f"{_CHAN}/noarch/repodata.json", _NOT_JSON),
            sabotage=_write("chan/noarch/repodata.json", b'{"info": {"subdir": "noarch"}, "packages": {"app-1.0'),
        ),
        FetchScenario(
            "html-page",  # a proxy's login page where repodata should be: lockgen looks at what is served
            url=None,
            reason=_NOT_JSON,
            says=_cannot(f"{_CHAN}/noarch/repodata.json", _HTML),
            sabotage=_write("chan/noarch/repodata.json", b"<!DOCTYPE html>\n<html><body>Sign in</body></html>\n"),
        ),
        FetchScenario(
            "corrupt-zst",
            url=f"{_CHAN}/noarch/repodata.json.zst",
            reason=_CORRUPT,
            says=_cannot(f"{_CHAN}/noarch/repodata.json.zst", _CORRUPT),
            sabotage=_write("chan/noarch/repodata.json.zst", b"\x28\xb5\x2f\xfd garbage, not a zstd frame"),
        ),
        FetchScenario(
            "forbidden",
            url=f"{_CHAN}/noarch/{_SHARDS}",
            reason=_FORBIDDEN,
            says=_cannot(f"{_CHAN}/noarch/{_SHARDS}", _FORBIDDEN),
            handler=_Forbidden,
        ),
        FetchScenario(
            "server-error",
            url=f"{_CHAN}/noarch/{_SHARDS}",
            reason=_BROKEN,
            says=_cannot(f"{_CHAN}/noarch/{_SHARDS}", _BROKEN),
            handler=_Broken,
        ),
        FetchScenario(
            "redirect-loop",
            url=f"{_CHAN}/noarch/{_SHARDS}",
            reason=_LOOP,
            says=_cannot(f"{_CHAN}/noarch/{_SHARDS}", _LOOP),
            handler=_Loop,
        ),
        FetchScenario(
            "cut-off",
            url=f"{_CHAN}/noarch/repodata.json",
            reason=_CUT,
            says=_cannot(f"{_CHAN}/noarch/repodata.json", _CUT),
            handler=_CutOff,
        ),
        FetchScenario(
            "no-answer",
            url=f"{_CHAN}/{SUBDIR}/{_SHARDS}",
            reason=_SILENT,
            says=_cannot(f"{_CHAN}/{SUBDIR}/{_SHARDS}", _SILENT),
            where="silent",
        ),
        FetchScenario(
            "tls-to-plain-http",
            url=f"{_TLS}/{SUBDIR}/{_SHARDS}",
            reason=_HANDSHAKE,
            says=_cannot(f"{_TLS}/{SUBDIR}/{_SHARDS}", _HANDSHAKE),
            where="tls",
        ),
        FetchScenario(
            "self-signed",
            url=f"{_TLS}/{SUBDIR}/{_SHARDS}",
            reason=_UNTRUSTED,
            says=_cannot(f"{_TLS}/{SUBDIR}/{_SHARDS}", _UNTRUSTED),
            where="self-signed",
        ),
    )
}
"""Every kind of fetch failure whose wording lockgen reads, by name (the recorded files' names)."""


def restore_port(text: str) -> str:
    """A recording as a live run would read it: :data:`PORT` written as a number, :data:`SUBDIR` as noarch."""
    return text.replace(PORT, RECORDED_PORT).replace(SUBDIR, "noarch")


def problems(scenario: str, text: str) -> list[str]:
    """What lockgen's parsers failed to read in ``text``, rattler's error for ``scenario`` (as recorded:
    read as :func:`restore_port` has it)."""
    wanted = FETCH_SCENARIOS[scenario]
    text = restore_port(text)
    found: list[str] = []
    url, expected = first_url(text), restore_port(wanted.url) if wanted.url else None
    if url != expected:
        found.append(f"first_url: read {url!r}, expected {expected!r} in:\n{text}")
    reason = fetch_reason(text, TIMEOUT_S, 0)
    if reason != wanted.reason:
        found.append(f"fetch_reason: read {reason!r}, expected {wanted.reason!r} in:\n{text}")
    return found


@contextmanager
def _channel_url(scenario: FetchScenario, folder: Path) -> Iterator[tuple[str, str]]:
    """The channel's URL while it is served as ``scenario`` says, and the port to write :data:`PORT`."""
    builder = ChannelBuilder(folder / "chan", subdirs=("noarch", PLATFORM))
    builder.add("app", "1.0")
    builder.write()
    if scenario.sabotage is not None:
        scenario.sabotage(folder)
    if scenario.where == "closed":
        yield f"{CLOSED}/chan", "9"
        return
    if scenario.where == "silent":
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(8)  # connections complete in the kernel's backlog; nothing reads them
            port = str(listener.getsockname()[1])
            yield f"http://127.0.0.1:{port}/chan", port
        return
    if scenario.where == "self-signed":
        with _serve_tls(folder) as port:
            yield f"https://127.0.0.1:{port}/chan", port
        return
    with serve_directory(folder, scenario.handler) as server:
        port = server.url.rsplit(":", 1)[1]
        scheme = "https" if scenario.where == "tls" else "http"
        yield f"{scheme}://127.0.0.1:{port}/chan", port


def can_run(scenario: str) -> bool:
    """Whether this machine can set ``scenario`` up (``self-signed`` needs the ``openssl`` command)."""
    return FETCH_SCENARIOS[scenario].where != "self-signed" or shutil.which("openssl") is not None


@contextmanager
def _serve_tls(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over https on 127.0.0.1 with a self-signed certificate; the port."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def handler(*args: object, **kwargs: object) -> QuietHandler:
        return QuietHandler(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requests_seen = []  # type: ignore[attr-defined]
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield str(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _fetch(scenario_name: str, folder: Path) -> Output:
    """The child's work: serve the channel, lock from it through lockgen's adapter, report what rattler said."""
    import asyncio
    from importlib.metadata import version

    from lockgen.channels import resolve_channel
    from lockgen.conda.solve import RattlerSolver
    from lockgen.errors import ChannelError
    from lockgen.repodata.gateway import make_gateway
    from lockgen.solverequest import SolveRequest

    scenario = FETCH_SCENARIOS[scenario_name]
    text = message = ""
    with _channel_url(scenario, folder) as (url, port):
        request = SolveRequest(PLATFORM, ("app",), (resolve_channel(url),), LINUX)
        solver = RattlerSolver(folder / "cache", timeout_s=TIMEOUT_S, retries=0)
        gateway = make_gateway(folder / "cache", timeout_s=TIMEOUT_S, retries=0)
        try:
            asyncio.run(solver._solve_one(gateway, request, (PLATFORM,)))
        except ChannelError as error:
            text, message = str(error.__cause__), error.message

    def generic(said: str) -> str:
        if port != "9":
            said = said.replace(f"127.0.0.1:{port}", f"127.0.0.1:{PORT}")
        if scenario.where != "served":
            said = said.replace("/chan/noarch/", f"/chan/{SUBDIR}/").replace(f"/chan/{PLATFORM}/", f"/chan/{SUBDIR}/")
        return said

    return Output(version("py-rattler"), generic(text), generic(message))


def run(scenario: str, folder: Path, python: str = sys.executable) -> Output:
    """Run ``scenario`` in ``folder`` with ``python`` (an interpreter with py-rattler and lockgen's
    dependencies; lockgen itself is imported from this tree), in a child process."""
    folder.mkdir(parents=True, exist_ok=True)
    argv = [python, "-m", "tests.support.rattler_fetch_wording", scenario, str(folder)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    data = json.loads(done.stdout)
    return Output(data["rattler"], data["text"], data["message"])


def recorded(scenario: str, rattler: str | None = None) -> str:
    """What py-rattler ``rattler`` (the newest recorded: None) said in ``scenario``, :data:`PORT` kept."""
    folder = DATA / (rattler or recorded_versions()[-1]) / FOLDER
    return (folder / f"{scenario}.txt").read_text(encoding="utf-8")


def record(data: Path, scratch: Path, python: str = sys.executable) -> None:
    """Write what ``python``'s py-rattler says in every scenario to ``data/<version>/fetch/<scenario>.txt``."""
    for name in FETCH_SCENARIOS:
        output = run(name, scratch / name, python)
        out = data / output.rattler / FOLDER
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.txt").write_text(output.text, encoding="utf-8")
        unread = problems(name, output.text)
        print(f"fetch/{name}: {'read' if not unread else 'NOT READ: ' + unread[0]}")


if __name__ == "__main__":
    output = _fetch(sys.argv[1], Path(sys.argv[2]))
    sys.stdout.write(json.dumps(output.__dict__))
    sys.stdout.flush()
    os._exit(0)  # a process that used rattler can crash at interpreter exit
