"""lockgen's one HTTP client factory (lockgen/httpclient.py), behind a real proxy on 127.0.0.1.

Settings come from the environment through ``config.read_http_settings`` (as a run resolves them),
then the repodata size check, a package download and the conda→PyPI mapping fetch are made with
them: through the proxy when ``HTTP_PROXY`` (or, for https, ``HTTPS_PROXY``) is set, directly for
``NO_PROXY`` hosts. ``.netrc`` credentials go to the host they name and nowhere else."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import pytest
import zstandard

from lockgen.config import read_http_settings
from lockgen.errors import ChannelError, ConfigError
from lockgen.httpclient import HttpSettings, make_client
from lockgen.install.download import Downloader
from lockgen.lockfiles import ExplicitEntry
from lockgen.pypi.mapping import ParselmouthSource
from lockgen.repodata.limit import check_served_repodata
from tests.support.channel import QuietHandler, serve_directory
from tests.support.proxy import serve_proxy

_VARIABLES: tuple[str, ...] = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY")
_VARIABLES += ("ALL_PROXY", "NO_PROXY", "NETRC", "SSL_CERT_FILE", "SSL_CERT_DIR")


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> HttpSettings:
    """What a run would resolve from an environment holding only ``env`` of these variables."""
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return read_http_settings(10)


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """A flat channel subdir (a small repodata.json.zst), one package file and a mapping table."""
    root = tmp_path / "served"
    subdir = root / "chan" / "linux-64"
    subdir.mkdir(parents=True)
    (subdir / "repodata.json.zst").write_bytes(zstandard.ZstdCompressor().compress(b'{"packages": {}}'))
    (subdir / "a-1.0-h0_0.tar.bz2").write_bytes(b"package bytes")
    (root / "conda-forge.json").write_text('{"numpy-base": ["numpy"]}')
    return root


def _check(url: str, http: HttpSettings, limit: int = 2**20) -> None:
    check_served_repodata([("channel chan, linux-64", f"{url}/chan/linux-64")], http, limit)


def _download(url: str, http: HttpSettings, tmp_path: Path) -> None:
    md5 = hashlib.md5(b"package bytes", usedforsecurity=False).hexdigest()
    entry = ExplicitEntry(f"{url}/chan/linux-64/a-1.0-h0_0.tar.bz2", md5, None, 3)
    downloader = Downloader(tmp_path / "archives", http=http, retries=0)
    archives, failures = asyncio.run(downloader.fetch_all([(entry, entry.url)]))
    assert failures == [] and [a.entry.name for a in archives] == ["a"]


def _mapping(url: str, http: HttpSettings, tmp_path: Path) -> None:
    source = ParselmouthSource(tmp_path / "cache", url_template=f"{url}/{{channel}}.json", http=http)
    table, note = source.load("conda-forge")
    assert note is None and table is not None and table["numpy-base"] == ["numpy"]


def test_size_check_download_and_mapping_go_through_http_proxy(
    tmp_path: Path, served: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_directory(served) as server, serve_proxy() as proxy:
        http = _settings(monkeypatch, HTTP_PROXY=proxy.url)
        _check(server.url, http)
        _download(server.url, http, tmp_path)
        _mapping(server.url, http, tmp_path)
    assert proxy.targets() == [
        f"{server.url}/chan/linux-64/repodata_shards.msgpack.zst",
        f"{server.url}/chan/linux-64/repodata.json.zst",
        f"{server.url}/chan/linux-64/a-1.0-h0_0.tar.bz2",
        f"{server.url}/conda-forge.json",
    ]
    assert {agent for _, _, agent in proxy.seen} == {"lockgen"}


def test_no_proxy_hosts_are_reached_directly(tmp_path: Path, served: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve_directory(served) as server, serve_proxy() as proxy:
        http = _settings(monkeypatch, HTTP_PROXY=proxy.url, NO_PROXY="example.org, 127.0.0.1")
        _check(server.url, http)
        _download(server.url, http, tmp_path)
        _mapping(server.url, http, tmp_path)
        assert proxy.seen == []
        assert "/chan/linux-64/a-1.0-h0_0.tar.bz2" in server.requests and "/conda-forge.json" in server.requests
        everything = _settings(monkeypatch, http_proxy=proxy.url, no_proxy="*")
        _check(server.url, everything)
        assert proxy.seen == []


def test_https_proxy_is_for_https_urls_only(served: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve_directory(served) as server, serve_proxy() as proxy:
        _check(server.url, _settings(monkeypatch, HTTPS_PROXY=proxy.url))
        assert proxy.seen == []
        _check(server.url, _settings(monkeypatch, ALL_PROXY=proxy.url, HTTPS_PROXY="http://127.0.0.1:9"))
        assert len(proxy.seen) == 2  # ALL_PROXY stands in for the unset HTTP_PROXY


def test_a_bomb_is_refused_through_the_proxy(served: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compressor = zstandard.ZstdCompressor().compressobj()
    bomb = b"".join([compressor.compress(b" " * 2**20) for _ in range(8)] + [compressor.flush()])
    (served / "chan" / "linux-64" / "repodata.json.zst").write_bytes(bomb)
    refused = pytest.raises(ChannelError, match=r"chan, linux-64: repodata\.json\.zst expands to more than 1 MiB")
    with serve_directory(served) as server, serve_proxy() as proxy, refused:
        _check(server.url, _settings(monkeypatch, HTTP_PROXY=proxy.url))
    assert proxy.targets("GET") == [f"{server.url}/chan/linux-64/repodata.json.zst"]


# --- https through a CONNECT tunnel ---------------------------------------------------------------


@contextmanager
def _serve_tls(root: Path, cert: Path, key: Path) -> Iterator[str]:
    def handler(*args: object, **kwargs: object) -> QuietHandler:
        return QuietHandler(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requests_seen = []  # type: ignore[attr-defined]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (the openssl command makes them)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate for 127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.slow  # makes an RSA key
def test_https_goes_through_a_connect_tunnel(
    tmp_path: Path, served: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _certificate(tmp_path)
    with _serve_tls(served, cert, key) as url, serve_proxy() as proxy:
        http = _settings(monkeypatch, HTTPS_PROXY=proxy.url, SSL_CERT_FILE=str(cert))
        _check(url, http)
        _download(url, http, tmp_path)
    port = url.rsplit(":", 1)[1]
    assert proxy.targets() == [f"127.0.0.1:{port}"] * 3
    assert proxy.targets("CONNECT") == proxy.targets()


# --- the CA store, loaded only for https ------------------------------------------------------------


def test_plain_http_never_loads_the_ca_store(tmp_path: Path, served: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``SSL_CERT_FILE`` naming a file that holds no certificate: every ``http://`` request still
    works, since loading the CA store waits for the first ``https://`` one (~40 ms of CPU saved on a
    plain-http mirror); that one fails, refused rather than sent unverified."""
    junk = tmp_path / "not-a-certificate.pem"
    junk.write_text("no certificate here\n")
    http = _settings(monkeypatch, SSL_CERT_FILE=str(junk))
    with serve_directory(served) as server:
        _check(server.url, http)
        _download(server.url, http, tmp_path)
        _mapping(server.url, http, tmp_path)
        with make_client(http) as client, pytest.raises(ssl.SSLError):
            client.get(f"https://127.0.0.1:{server.url.rsplit(':', 1)[1]}/conda-forge.json")


def test_threads_sharing_a_client_build_its_transport_once() -> None:
    """The size check's threads share one client: their first requests, at once, make one plain
    transport (a second one would be dropped without being closed)."""
    from lockgen.httpclient import _TlsOnDemand

    built: list[object] = []
    start = threading.Barrier(8)

    def build(verify: object) -> object:
        built.append(verify)
        return object()

    transport = _TlsOnDemand(build, HttpSettings(10))

    def first_request() -> object:
        start.wait()
        return transport._for("http")  # the routing under test

    with ThreadPoolExecutor(max_workers=8) as pool:
        handed = set(map(id, pool.map(lambda _: first_request(), range(8))))
    assert len(built) == 1 and len(handed) == 1


class _ToTls(QuietHandler):
    """Redirects every request to the same path on ``target`` (an https server)."""

    target = ""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", f"{self.target}{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.mark.slow  # makes an RSA key
def test_a_redirect_from_http_to_https_is_verified(
    tmp_path: Path, served: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The https request a redirect makes is verified against the configured CA store: it succeeds
    with ``SSL_CERT_FILE`` naming the server's certificate and is refused with the default store."""
    cert, key = _certificate(tmp_path)
    with _serve_tls(served, cert, key) as tls_url:
        handler = type("Handler", (_ToTls,), {"target": tls_url})
        with serve_directory(served, handler) as server:
            trusted = _settings(monkeypatch, SSL_CERT_FILE=str(cert))
            _mapping(server.url, trusted, tmp_path / "trusted")
            with make_client(trusted) as client:
                assert client.get(f"{server.url}/conda-forge.json").json() == {"numpy-base": ["numpy"]}
            with make_client(_settings(monkeypatch)) as client, pytest.raises(Exception, match="CERTIFICATE_VERIFY"):
                client.get(f"{server.url}/conda-forge.json")


# --- credentials ------------------------------------------------------------------------------------


class _Recording(QuietHandler):
    """Records each request's Authorization header; ``/hop`` redirects to ``localhost`` (another host)."""

    seen: list[tuple[str, str]] = []  # noqa: RUF012 - each test's subclass gives its own list

    def do_GET(self) -> None:
        self.seen.append((f"{self.headers['Host'].split(':')[0]}{self.path}", self.headers.get("Authorization", "")))
        if self.path == "/hop":
            self.send_response(302)
            port = cast("tuple[str, int]", self.server.server_address)[1]  # an IPv4 server: (host, port)
            self.send_header("Location", f"http://localhost:{port}/conda-forge.json")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


def _basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def test_netrc_credentials_go_to_their_host_only(tmp_path: Path, served: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login alice password s3cret-netrc\ndefault login any password for-anyone\n")
    netrc.chmod(0o600)

    class Handler(_Recording):
        seen: list[tuple[str, str]] = []  # noqa: RUF012

    with serve_directory(served, Handler) as server, serve_proxy() as proxy:
        port = server.url.rsplit(":", 1)[1]
        http = _settings(monkeypatch, NETRC=str(netrc), NO_PROXY="localhost,127.0.0.1", HTTP_PROXY=proxy.url)
        with make_client(http) as client:
            assert client.get(f"{server.url}/conda-forge.json").status_code == 200
            assert client.get(f"http://localhost:{port}/conda-forge.json").status_code == 200
            assert client.get(f"{server.url}/hop").status_code == 200
            assert client.get(f"http://bob:pw@localhost:{port}/conda-forge.json").status_code == 200
    assert Handler.seen == [
        ("127.0.0.1/conda-forge.json", _basic("alice", "s3cret-netrc")),
        ("localhost/conda-forge.json", ""),  # no machine entry; `default` is never used
        ("127.0.0.1/hop", _basic("alice", "s3cret-netrc")),
        ("localhost/conda-forge.json", ""),  # redirected to another host: the login stays behind
        ("localhost/conda-forge.json", _basic("bob", "pw")),  # a URL's own credentials come first
    ]
    assert proxy.seen == []


def test_a_proxy_never_sees_a_netrc_login_for_another_host(
    tmp_path: Path, served: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mapping fetch through a proxy carries the origin's login, not one for the proxy's host."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine mirror.invalid login alice password s3cret-netrc\n")

    class Handler(_Recording):
        seen: list[tuple[str, str]] = []  # noqa: RUF012

    with serve_directory(served, Handler) as server, serve_proxy() as proxy:
        _mapping(server.url, _settings(monkeypatch, NETRC=str(netrc), HTTP_PROXY=proxy.url), tmp_path)
    assert Handler.seen == [("127.0.0.1/conda-forge.json", "")]
    assert proxy.targets() == [f"{server.url}/conda-forge.json"]


def test_a_proxy_login_is_not_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    http = _settings(monkeypatch, HTTPS_PROXY="http://user:pr0xy-secret@proxy.invalid:3128")
    assert http.proxies == (("https", "http://user:pr0xy-secret@proxy.invalid:3128"),)
    assert "pr0xy-secret" not in repr(http)


def test_only_the_factory_makes_http_clients() -> None:
    """Every client goes through lockgen/httpclient.py: no other module builds an httpx client or
    imports another HTTP client library (an annotation naming ``httpx.Client`` is fine)."""
    import ast

    package = Path(__file__).resolve().parents[2] / "lockgen"
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "httpclient.py" and path.parent == package:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "Client", "AsyncClient", "HTTPTransport", "AsyncHTTPTransport"
            ):  # fmt: skip
                found.append(f"{path.relative_to(package)}:{node.lineno}")
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.relative_to(package)}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in (
                "requests", "urllib3", "aiohttp"
            ) or n in ("http.client", "urllib.request")]  # fmt: skip
    assert found == []


@pytest.mark.parametrize(
    ("variable", "url", "shown"),
    [
        ("HTTPS_PROXY", "ftp://user:pr0xy-secret@127.0.0.1:1", "unknown kind (ftp://127.0.0.1:1)"),
        ("ALL_PROXY", "socks5://user:pr0xy-secret@127.0.0.1:1", "SOCKS proxy (socks5://127.0.0.1:1)"),
    ],
)
def test_a_proxy_httpx_cannot_use_is_a_typed_error_naming_the_variable(
    variable: str, url: str, shown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not an internal error (httpx raises ImportError for socks without socksio, ValueError for
    another scheme), and the proxy's login is not in the message."""
    import importlib.util

    if "socks" in url and importlib.util.find_spec("socksio") is not None:
        pytest.skip("socksio is installed: httpx can use a SOCKS proxy")
    http = _settings(monkeypatch, **{variable: url})
    with pytest.raises(ConfigError) as caught:
        make_client(http)
    assert caught.value.message.startswith(f"{variable} names a") and shown in caught.value.message
    assert "pr0xy-secret" not in caught.value.message and "user" not in caught.value.message
