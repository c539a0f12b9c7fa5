"""The one place lockgen makes an HTTP client (httpx): the repodata size check, package downloads,
index pages for ``--conda-lock-file``, the conda→PyPI mapping, pip name hints and the HTML probe of
a failing channel all call :func:`make_client` or :func:`make_async_client`.

What every client honours, from :class:`HttpSettings` (which ``config`` resolves once from the
environment; nothing here reads it):

- proxies: ``HTTP_PROXY`` for ``http://`` URLs, ``HTTPS_PROXY`` for ``https://``, ``ALL_PROXY`` for
  both when the scheme's own is unset; hosts listed in ``NO_PROXY`` (a name also covers its
  subdomains, ``host:port`` only that port, ``*`` every host) are reached directly;
- credentials: a URL's own ``user:password@`` first; else the ``machine`` entry of the ``.netrc``
  file for exactly that host (``NETRC``, default ``~/.netrc``; its ``default`` entry is never used,
  so a login is never sent to a host it was not written for). Credentials go only with the first
  request: a redirect to another host (or from https to http) drops them (httpx's rule);
- CA certificates: ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set, else certifi's bundle, loaded at a
  client's first ``https://`` request (:class:`_TlsOnDemand`; plain http never loads them);
- the timeout (``LOCKGEN_HTTP_TIMEOUT``), unless the caller asks for a shorter one.

``transport`` (an ``httpx`` transport such as ``httpx.MockTransport``) replaces the network, so tests
serve files in-process; proxies do not apply to it. httpx and ssl are imported inside the functions:
a command that makes no request (``check``, a no-op ``lock``) never loads them.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockgen.records import dataclass

if TYPE_CHECKING:
    import ssl

    import httpx

__all__ = ["USER_AGENT", "HttpSettings", "make_async_client", "make_client"]

USER_AGENT = "lockgen"


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """How lockgen's own HTTP clients reach the network (rattler's Gateway does its own HTTP)."""

    timeout_s: float
    """Seconds (``LOCKGEN_HTTP_TIMEOUT``; config's ``DEFAULT_HTTP_TIMEOUT_S`` when unset)."""
    proxies: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """(``http``, ``https`` or ``all``, proxy URL), from ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``.
    Left out of ``repr``: a proxy URL may carry a login."""
    no_proxy: tuple[str, ...] = ()
    """Hosts reached without a proxy (``NO_PROXY``)."""
    netrc: Path | None = None
    """The ``.netrc`` file whose ``machine`` entries give credentials (None: none)."""
    ca_file: Path | None = None
    ca_dir: Path | None = None


def make_client(
    settings: HttpSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | float | None = None,
    follow_redirects: bool = True,
    headers: Mapping[str, str] | None = None,
) -> httpx.Client:
    """A synchronous client; use it in a ``with`` block. ``timeout`` overrides ``settings.timeout_s``."""
    import httpx

    return httpx.Client(**_options(settings, transport, timeout, follow_redirects, headers, kind=httpx.HTTPTransport))


def make_async_client(
    settings: HttpSettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout | float | None = None,
    follow_redirects: bool = True,
    headers: Mapping[str, str] | None = None,
) -> httpx.AsyncClient:
    """An asyncio client; use it in an ``async with`` block."""
    import httpx

    return httpx.AsyncClient(
        **_options(settings, transport, timeout, follow_redirects, headers, kind=httpx.AsyncHTTPTransport)
    )


def _options(
    settings: HttpSettings,
    transport: object | None,
    timeout: httpx.Timeout | float | None,
    follow_redirects: bool,
    headers: Mapping[str, str] | None,
    *,
    kind: Any,
) -> dict[str, Any]:
    """The keyword arguments both client kinds take; ``kind`` makes the network transports."""
    mounts: dict[str, Any] = {}
    if transport is None:
        transport, mounts = _transports(settings, kind)
    return {
        "transport": transport,
        "mounts": mounts,
        "auth": _auth(settings),
        "timeout": settings.timeout_s if timeout is None else timeout,
        "follow_redirects": follow_redirects,
        "max_redirects": 5,
        "headers": {"User-Agent": USER_AGENT, **(headers or {})},
        "trust_env": False,  # what the environment says came through `settings`, read once by config
    }


def _ssl_context(settings: HttpSettings) -> ssl.SSLContext | bool:
    if settings.ca_file is None and settings.ca_dir is None:
        return True  # httpx's default: certifi's bundle
    import ssl

    return ssl.create_default_context(
        cafile=str(settings.ca_file) if settings.ca_file else None,
        capath=str(settings.ca_dir) if settings.ca_dir else None,
    )


def _transports(settings: HttpSettings, kind: Any) -> tuple[Any, dict[str, Any]]:
    """The direct transport, and the mounts that send each scheme through its proxy (NO_PROXY hosts:
    ``None``, httpx's word for the direct transport)."""

    def make(**options: Any) -> _TlsOnDemand:  # HTTPTransport or AsyncHTTPTransport: the same keywords
        return _TlsOnDemand(lambda verify: kind(verify=verify, trust_env=False, **options), settings)

    direct = make()
    mounts: dict[str, Any] = {}
    proxies = dict(settings.proxies)
    if "*" in settings.no_proxy:
        return direct, mounts
    for scheme in ("http", "https"):
        named = scheme if proxies.get(scheme) else "all"
        proxy = proxies.get(named)
        if proxy:
            _check_proxy(named, proxy)
            mounts[f"{scheme}://"] = make(proxy=proxy)
    if mounts:
        for host in settings.no_proxy:
            mounts.update(dict.fromkeys(_direct_patterns(host)))
    return direct, mounts


class _TlsOnDemand:
    """A transport that loads the CA store only for a request that needs it.

    Building httpx's verifying transport loads certifi's bundle (or ``SSL_CERT_FILE``): ~40 ms of CPU
    the first time in a process, paid even when every URL is ``http://`` (a mirror on the local
    network). So an ``https://`` request goes to a verifying transport made on first use, and an
    ``http://`` one to a transport whose context trusts no certificate at all: plain http makes no
    TLS handshake, and were one ever attempted through it, it would fail closed. A redirect from
    http to https is a new request: httpx hands it here again, and it is verified.
    Both httpx transport kinds are served (``handle_request`` / ``handle_async_request``)."""

    def __init__(self, build: Any, settings: HttpSettings) -> None:
        import threading

        self._build = build
        self._settings = settings
        self._plain: Any = None
        self._tls: Any = None
        self._making = threading.Lock()  # a sync client is shared by threads (the size check's pool)

    def _for(self, scheme: str) -> Any:
        https = scheme == "https"
        made = self._tls if https else self._plain
        if made is not None:
            return made
        with self._making:  # built once: a second transport would never be closed
            if https and self._tls is None:
                self._tls = self._build(_ssl_context(self._settings))
            elif not https and self._plain is None:
                import ssl

                self._plain = self._build(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))  # verifies, trusting no one
            return self._tls if https else self._plain

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._for(request.url.scheme).handle_request(request)  # type: ignore[no-any-return]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._for(request.url.scheme).handle_async_request(request)  # type: ignore[no-any-return]

    def _made(self) -> list[Any]:
        return [t for t in (self._plain, self._tls) if t is not None]

    def close(self) -> None:
        for transport in self._made():
            transport.close()

    async def aclose(self) -> None:
        for transport in self._made():
            await transport.aclose()

    def __enter__(self) -> _TlsOnDemand:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> _TlsOnDemand:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _check_proxy(scheme: str, url: str) -> None:
    """Raise ConfigError, naming the variable and never its login, for a proxy httpx cannot use."""
    from urllib.parse import urlsplit

    from lockgen.errors import ConfigError
    from lockgen.secrets import strip_credentials

    variable = f"{scheme.upper()}_PROXY"
    kind = urlsplit(url).scheme.lower()
    if kind in ("socks5", "socks5h"):
        import importlib.util

        if importlib.util.find_spec("socksio") is None:
            raise ConfigError(
                f"{variable} names a SOCKS proxy ({strip_credentials(url)}): lockgen's own requests need the"
                " socksio package for it (pip install socksio, or httpx[socks]), or set an http:// proxy"
            )
    elif kind not in ("http", "https"):
        raise ConfigError(
            f"{variable} names a proxy of an unknown kind ({strip_credentials(url)}): use an http://, https:// or"
            " socks5:// proxy URL"
        )


def _direct_patterns(entry: str) -> list[str]:
    """httpx mount patterns for one ``NO_PROXY`` entry: the host and its subdomains."""
    host = entry.strip().lstrip(".").lower()
    if not host:
        return []
    if host.startswith("[") or host.count(":") > 1:  # an IPv6 address, bracketed or not
        return [f"all://{host if host.startswith('[') else f'[{host}]'}"]
    if host.replace(".", "").replace(":", "").isdigit():  # an IPv4 address (perhaps with a port)
        return [f"all://{host}"]
    return [f"all://{host}", f"all://*.{host}"]


def _auth(settings: HttpSettings) -> httpx.Auth:
    import httpx

    netrc_path = settings.netrc

    class _Credentials(httpx.Auth):
        """A URL's own credentials, else the ``.netrc`` machine entry of exactly the request's host."""

        def __init__(self) -> None:
            self._logins: dict[str, tuple[str, str]] | None = None

        def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
            if "Authorization" not in request.headers:
                url = request.url
                login = (url.username, url.password) if url.username or url.password else self._netrc(url.host)
                if login is not None:
                    import base64

                    pair = f"{login[0]}:{login[1]}".encode()
                    request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
            yield request

        def _netrc(self, host: str) -> tuple[str, str] | None:
            if netrc_path is None:
                return None
            if self._logins is None:
                self._logins = _read_netrc(netrc_path)
            return self._logins.get(host.lower())

    return _Credentials()


def _read_netrc(path: Path) -> dict[str, tuple[str, str]]:
    """host → (login, password) of ``path``'s ``machine`` entries; {} when it cannot be read or parsed
    (as curl and pip: a broken ``.netrc`` means no credentials, not a failed lock)."""
    import netrc

    try:
        parsed = netrc.netrc(str(path))
    except (OSError, netrc.NetrcParseError):
        return {}
    logins: dict[str, tuple[str, str]] = {}
    for host, (login, _, password) in parsed.hosts.items():
        if host != "default":  # `default` is stored under this key: never sent to an unnamed host
            logins[host.lower()] = (login or "", password or "")
    return logins
