"""Which file of a pinned pip version a platform installs, with its URL: for conda-lock.yml's pip entries.

``requirements.txt`` pins ``name==version`` with the hash of every file of that version; conda-lock's
format names one file per platform (``url`` and ``hash.sha256``). This module asks the index's
simple API (PEP 691 JSON, or PEP 503 HTML) for the project's files, keeps those whose sha256 the
pin lists, and picks the wheel whose tags rank first for the platform's Python and wheel target
(as pip would), else the sdist. Nothing here runs unless a conda-lock file was asked for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit, urlunsplit

from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from lockgen.httpclient import HttpSettings
from lockgen.lockfiles.requirements import Pin
from lockgen.pypi.targets import PipTarget
from lockgen.records import dataclass
from lockgen.secrets import SecretRegistry, strip_credentials

if TYPE_CHECKING:
    import httpx

__all__ = ["IndexFile", "PinnedFile", "file_for_pin", "index_files", "tag_ranking"]

PYPI_SIMPLE = "https://pypi.org/simple"
_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
_WINDOWS = {"win-64": "win_amd64", "win-arm64": "win_arm64", "win-32": "win32"}
_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}


@dataclass(frozen=True, slots=True)
class IndexFile:
    filename: str
    url: str
    sha256: str | None


@dataclass(frozen=True, slots=True)
class PinnedFile:
    name: str
    version: str
    url: str
    sha256: str


def _platform_tags(target: PipTarget) -> list[str]:
    machine = target.platform_machine
    if target.sys_platform == "linux":
        match = re.search(r"manylinux_2_(\d+)", target.python_platform)
        glibc = int(match.group(1)) if match else 17
        found: list[str] = []
        for m in range(glibc, 4, -1):
            found.append(f"manylinux_2_{m}_{machine}")
            if m in _LEGACY_MANYLINUX:
                found.append(f"{_LEGACY_MANYLINUX[m]}_{machine}")
        return [*found, f"linux_{machine}"]
    if target.sys_platform == "darwin":
        major, _, minor = (target.macos_target or "11.0").partition(".")
        arch = "arm64" if machine == "arm64" else "x86_64"
        return list(mac_platforms((int(major), int(minor or 0)), arch))
    return [_WINDOWS.get(target.platform, "win_amd64")]


def tag_ranking(target: PipTarget) -> dict[Tag, int]:
    """Every wheel tag the target accepts → its rank (0 is what pip prefers most)."""
    major, minor = (int(x) for x in target.python_version.split(".")[:2])
    platforms = _platform_tags(target)
    tags = [
        *cpython_tags((major, minor), platforms=platforms),
        *compatible_tags((major, minor), f"cp{major}{minor}", platforms),
    ]
    ranking: dict[Tag, int] = {}
    for rank, tag in enumerate(tags):
        ranking.setdefault(tag, rank)
    return ranking


def file_for_pin(pin: Pin, files: Iterable[IndexFile], ranking: Mapping[Tag, int]) -> IndexFile | None:
    """The file of ``pin`` the platform installs: best-ranked matching wheel, else an sdist; None when none fits."""
    allowed = {h.removeprefix("sha256:") for h in pin.hashes if h.startswith("sha256:")}
    best: tuple[int, IndexFile] | None = None
    sdist = None
    for item in files:
        if item.sha256 is None or item.sha256 not in allowed:
            continue
        if item.filename.endswith(".whl"):
            try:
                _, _, _, tags = parse_wheel_filename(item.filename)
            except InvalidWheelFilename:
                continue
            ranks = [ranking[t] for t in tags if t in ranking]
            if ranks and (best is None or min(ranks) < best[0]):
                best = (min(ranks), item)
        elif item.filename.endswith((".tar.gz", ".zip")):
            sdist = sdist or item
    return best[1] if best else sdist


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = ""

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href:
            self.links.append((self._href, self._text.strip()))
        self._href = None


def _parse_page(body: bytes, content_type: str, page_url: str) -> list[IndexFile]:
    found = []
    if "json" in content_type:
        data = json.loads(body)
        for item in data.get("files", []) if isinstance(data, dict) else []:
            if not isinstance(item, dict) or not isinstance(item.get("url"), str):
                continue
            hashes = item.get("hashes") if isinstance(item.get("hashes"), dict) else {}
            sha = hashes.get("sha256") if isinstance(hashes, dict) else None
            found.append(IndexFile(str(item.get("filename", "")), urljoin(page_url, item["url"]), sha))
        return found
    parser = _Links()
    parser.feed(body.decode("utf-8", "replace"))
    for href, text in parser.links:
        url = urljoin(page_url, href)
        fragment = urlsplit(url).fragment
        sha = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else None
        found.append(IndexFile(text or url.rsplit("/", 1)[-1].split("#")[0], url, sha))
    return found


def _clean(url: str) -> str:
    """The file URL as written into a lock: no fragment, no credentials."""
    parts = urlsplit(url)
    return strip_credentials(urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, "")))


def index_files(
    names: Sequence[str],
    indexes: Sequence[str],
    secrets: SecretRegistry,
    http: HttpSettings,
    *,
    transport: httpx.BaseTransport | None = None,
) -> tuple[dict[str, list[IndexFile]], list[str]]:
    """name → files listed by the first index that knows it; plus what could not be fetched (masked).
    ``http``: timeout, proxies and credentials (:mod:`lockgen.httpclient`); ``transport``: tests' network."""
    import httpx

    from lockgen.httpclient import make_client

    files: dict[str, list[IndexFile]] = {}
    problems: list[str] = []
    with make_client(http, transport=transport, headers={"Accept": _ACCEPT}) as client:
        for name in sorted(set(names)):
            for index in indexes or (PYPI_SIMPLE,):
                page = f"{index.rstrip('/')}/{canonicalize_name(name)}/"
                try:
                    response = client.get(page)
                except httpx.HTTPError as exc:
                    problems.append(secrets.redact(f"{strip_credentials(page)}: {exc}"))
                    continue
                if response.status_code == 404:
                    continue
                if response.status_code != 200:
                    problems.append(secrets.redact(f"{strip_credentials(page)}: HTTP {response.status_code}"))
                    continue
                try:
                    listed = _parse_page(response.content, response.headers.get("content-type", ""), str(response.url))
                except ValueError as exc:
                    problems.append(secrets.redact(f"{strip_credentials(page)}: unreadable page ({exc})"))
                    continue
                files.setdefault(name, []).extend(IndexFile(f.filename, _clean(f.url), f.sha256) for f in listed)
    return files, problems
