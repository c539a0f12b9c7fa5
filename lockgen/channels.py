"""Channel names → URLs: canonical (written to locks) and fetch (mirrors and credentials applied).

A mirror maps a canonical URL prefix to a replacement (an http(s) URL or a local directory).
Repodata is read from the replacement; every URL lockgen writes is the canonical one, with no
credentials, so a lock made against a mirror installs anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from lockgen.errors import ConfigError
from lockgen.models import bad_channel_name, url_problem
from lockgen.platforms import KNOWN_PLATFORMS
from lockgen.records import dataclass
from lockgen.secrets import redact, strip_credentials

__all__ = [
    "CHANNEL_ALIAS",
    "PUBLIC_CHANNEL_HOSTS",
    "Mirror",
    "ResolvedChannel",
    "channel_prefixed",
    "check_mirror_directory",
    "defaults_channel_for",
    "parse_mirror",
    "resolve_channel",
    "resolve_channels",
    "split_channel_spec",
    "to_canonical_url",
    "unasked_channels",
    "with_spec_channels",
]

CHANNEL_ALIAS = "https://conda.anaconda.org"
DEFAULTS_MAIN = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")
DEFAULTS_WIN = ("https://repo.anaconda.com/pkgs/msys2",)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")

PUBLIC_CHANNEL_HOSTS = frozenset({"conda.anaconda.org", "conda-static.anaconda.org", "repo.anaconda.com"})
"""Where a read-only command (``explain``, ``verify``) reads a channel without being told: Anaconda's
public channel hosts, over https. A lock line or an environment file can name any other host, and a
pull request can commit both, so any other location is read only when a ``--mirror`` on the
command's own line sends the channel there (or, for ``explain``, it is a folder inside the project)."""


@dataclass(frozen=True, slots=True)
class Mirror:
    canonical: str
    replacement: str

    def __str__(self) -> str:
        return f"{self.canonical}={self.replacement}"


@dataclass(frozen=True, slots=True)
class ResolvedChannel:
    """A channel as lockgen uses it. URLs have no trailing slash."""

    name: str
    canonical: str
    fetch: str
    written: str = ""
    """The channel as the environment file lists it (``defaults`` for each of its expansions)."""
    origin: str | None = None
    """Where it is listed (``environment.yml:5``), when known; for messages."""
    from_spec: bool = False
    """Read only because a ``channel::spec`` names it (``origin`` is then that spec's line)."""

    @property
    def display(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """How to name it to the user: as written."""
        return self.written or self.name

    def mirror_hint(self) -> str:
        """The ``--mirror`` option that would serve this channel from elsewhere (and ``nodefaults``)."""
        parts = urlsplit(self.canonical)
        base = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None
        if base is None:
            return f"check that {self.canonical} exists"
        hint = f"serve it from a reachable copy with `--mirror {base}=<mirror URL or directory>`"
        where = f" in {self.origin}" if self.origin else ""
        if self.written == "defaults" and self.from_spec:
            hint += f", or take the package from your other channels: drop `defaults::`{where}"
        elif self.written == "defaults":
            hint += f", or drop Anaconda's channels: replace `defaults` with `nodefaults`{where}"
        return hint


def _location_to_url(value: str, base_dir: Path) -> str:
    value = value.strip()
    if _SCHEME.match(value):
        return value.rstrip("/")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    return path.resolve().as_uri().rstrip("/")


def parse_mirror(text: str, base_dir: Path | None = None) -> Mirror:
    """Parse ``CANONICAL=REPLACEMENT``; a replacement that is a path becomes a ``file://`` URL."""
    canonical, sep, replacement = text.partition("=")
    if not sep or not canonical.strip() or not replacement.strip():
        raise ConfigError(f"--mirror expects CANONICAL=REPLACEMENT, got {text!r}")
    canonical = canonical.strip().rstrip("/")
    if not _SCHEME.match(canonical):
        raise ConfigError(f"mirror source must be a URL such as {CHANNEL_ALIAS}, got {canonical!r}")
    mirror = Mirror(canonical, _location_to_url(replacement, base_dir or Path.cwd()))
    for url in (mirror.canonical, mirror.replacement):
        _check_url(url, "--mirror")
    return mirror


def check_mirror_directory(mirror: Mirror) -> None:
    """A mirror whose replacement is a local directory that does not exist is a mistake in the option
    itself (a wrong relative path, a snapshot not there): say so, rather than "not found" per file."""
    if not mirror.replacement.startswith("file://"):
        return
    from urllib.parse import unquote

    folder = Path(unquote(urlsplit(mirror.replacement).path))
    if not folder.is_dir():
        what = "is not a directory" if folder.exists() else "does not exist"
        raise ConfigError(
            f"--mirror {mirror.canonical}={folder}: the mirror directory {folder} {what}; check the path"
            f" (a relative path starts at the folder lockgen runs in, {Path.cwd()})"
        )


def _check_url(url: str, what: str) -> None:
    """A URL whose host or port cannot be parsed (``http://[::1x]/``) raises ConfigError, not ValueError."""
    problem = url_problem(url)
    if problem is not None:
        raise ConfigError(f"{what}: invalid URL {redact(url)!r}: {problem}")


def _apply_mirrors(url: str, mirrors: Sequence[Mirror]) -> str:
    bare = strip_credentials(url)
    best: Mirror | None = None
    for mirror in mirrors:
        prefix = mirror.canonical
        if (bare == prefix or bare.startswith(prefix + "/")) and (best is None or len(prefix) > len(best.canonical)):
            best = mirror
    if best is None:
        return url
    return best.replacement + bare[len(best.canonical) :]


def resolve_channel(raw: str, mirrors: Sequence[Mirror] = (), base_dir: Path | None = None) -> ResolvedChannel:
    """Resolve a channel as written in environment.yml (name, URL or local path)."""
    raw = raw.strip().rstrip("/")
    if bad_channel_name(raw):
        raise ConfigError(f"invalid channel name {raw!r}")
    if _SCHEME.match(raw):
        full = raw
    elif raw.startswith((".", "/", "~")):
        full = _location_to_url(raw, base_dir or Path.cwd())
    else:
        full = f"{CHANNEL_ALIAS}/{raw}"
    _check_url(full, "channel")
    canonical = strip_credentials(full)
    path = urlsplit(canonical).path.rstrip("/")
    name = (
        raw
        if not _SCHEME.match(raw)
        else (path.removeprefix("/") if canonical.startswith(CHANNEL_ALIAS + "/") else canonical)
    )
    return ResolvedChannel(
        name=strip_credentials(name) if "://" in name else name,
        canonical=canonical,
        fetch=_apply_mirrors(full, mirrors),
        written=strip_credentials(raw) if "://" in raw else raw,
    )


def _defaults(platform: str, mirrors: Sequence[Mirror], base_dir: Path | None) -> list[ResolvedChannel]:
    urls = DEFAULTS_MAIN + (DEFAULTS_WIN if platform.startswith("win-") else ())
    return [replace(resolve_channel(u, mirrors, base_dir), written="defaults") for u in urls]


def defaults_channel_for(package: str, platform: str) -> str:
    """The one channel of ``defaults`` a ``defaults::package`` spec is pinned to (a spec names one
    channel): ``pkgs/r`` for R packages (``r-*``, ``r``), ``pkgs/msys2`` for ``m2-*``/``msys2-*`` on
    win-*, else ``pkgs/main``; all of them are read, as for a listed ``defaults``."""
    name = package.lower()
    if name == "r" or name.startswith(("r-", "rstudio")):
        return DEFAULTS_MAIN[1]
    if platform.startswith("win-") and name.startswith(("m2-", "m2w64-", "msys2-")):
        return DEFAULTS_WIN[0]
    return DEFAULTS_MAIN[0]


def resolve_channels(
    raw: Iterable[str], platform: str, mirrors: Sequence[Mirror] = (), base_dir: Path | None = None
) -> tuple[ResolvedChannel, ...]:
    """Resolve the channel list for one platform; ``defaults`` expands to Anaconda's channels as conda
    does (``pkgs/main``, ``pkgs/r``, and ``pkgs/msys2`` only for win-* targets)."""
    out: list[ResolvedChannel] = []
    for name in raw:
        if name == "defaults":
            out += _defaults(platform, mirrors, base_dir)
        else:
            out.append(resolve_channel(name, mirrors, base_dir))
    seen: set[str] = set()
    unique = []
    for channel in out:
        if channel.canonical not in seen:
            seen.add(channel.canonical)
            unique.append(channel)
    return tuple(unique)


def with_spec_channels(  # noqa: PLR0917
    channels: Iterable[ResolvedChannel],
    written: Iterable[str],
    mirrors: Sequence[Mirror] = (),
    base_dir: Path | None = None,
    platform: str = "",
    origins: Mapping[str, str] | None = None,
) -> tuple[tuple[ResolvedChannel, ...], dict[str, ResolvedChannel]]:
    """The channels a platform reads: ``channels`` (the environment's list) plus, in order, each
    channel a ``channel::spec`` names (``written``, as :func:`split_channel_spec` reads
    it) that is not among them, resolved with ``mirrors``. Also returns which channel each of
    ``written`` is (a listed one when it names the same channel, credentials aside).

    ``defaults::`` adds Anaconda's channels for ``platform`` as a listed ``defaults`` does (with
    ``origins[name]``, where the spec is written, for messages); it maps to ``pkgs/main`` (see
    :func:`defaults_channel_for` for the spec's own channel)."""
    out = list(channels)
    found: dict[str, ResolvedChannel] = {}
    for name in written:
        if name in found:
            continue
        if name == "defaults":
            for channel in _defaults(platform, mirrors, base_dir):
                if not any(c.canonical == channel.canonical for c in out):
                    out.append(replace(channel, origin=(origins or {}).get(name), from_spec=True))
            found[name] = next(c for c in out if c.canonical == DEFAULTS_MAIN[0])
            continue
        bare = strip_credentials(name) if "://" in name else name
        known = next((c for c in out if name in (c.name, c.canonical) or bare == c.canonical), None)
        if known is None:
            extra = resolve_channel(name, mirrors, base_dir)
            known = next((c for c in out if c.canonical == extra.canonical), None)
            if known is None:
                out.append(extra)
                known = extra
        found[name] = known
    return tuple(out), found


def to_canonical_url(url: str, channels: Iterable[ResolvedChannel]) -> str:
    """Map a URL under a channel's fetch location back to its canonical form, credentials removed."""
    for channel in channels:
        for prefix in (channel.fetch, strip_credentials(channel.fetch)):
            if url.startswith(prefix + "/"):
                return channel.canonical + url[len(prefix) :]
    return strip_credentials(url)


_BRACKET_CHANNEL = (
    r"""\[(?P<before>[^\[\]]*?)(?<![\w-])channel\s*=\s*(?P<q>['"]?)(?P<channel>[^'",\[\]\s]+)(?P=q)\s*,?(?P<after>[^\[\]]*)\]"""
)
"""A pattern, compiled when a spec with brackets is first read (re's cache): most environments have none."""


def channel_prefixed(text: str) -> str:
    """A spec's channel as ``channel::`` (conda's other spelling, ``idna[channel=conda-forge]`` or
    ``numpy[channel='conda-forge', version='>=2']``, → ``conda-forge::idna``, ``conda-forge::numpy[version='>=2']``);
    ``text`` itself when it has no ``channel=`` in brackets or already a ``::``."""
    match = None if "::" in text or "[" not in text else re.search(_BRACKET_CHANNEL, text)
    if match is None:
        return text
    kept = f"{match.group('before')}{match.group('after')}".strip().strip(",").strip()
    spec = f"{text[: match.start()]}{f'[{kept}]' if kept else ''}{text[match.end() :]}".strip()
    return f"{match.group('channel')}::{spec}"


def split_channel_spec(text: str) -> tuple[str | None, str | None, str]:
    """``channel[/subdir]::match`` (or ``match[channel=channel[/subdir]]``) → (channel, subdir, match);
    (None, None, text) without a channel.

    The one reader of a spec's channel part. The channel is a URL, a path or a name (with labels:
    ``conda-forge/label/dev``); a last segment naming a platform or ``noarch`` is a subdir, not part
    of the channel (``conda-forge/linux-64::numpy``)."""
    head, sep, rest = channel_prefixed(text).partition("::")
    if not sep or not head:
        return None, None, text
    base, _, last = head.rstrip("/").rpartition("/")
    if (last in KNOWN_PLATFORMS or last == "noarch") and base and not base.endswith(":/"):
        return base, last, rest
    return head.rstrip("/") if "://" in head or head.startswith((".", "/", "~")) else head, None, rest


def unasked_channels(canonicals: Iterable[str], mirrors: Sequence[Mirror], roots: Sequence[Path] = ()) -> list[str]:
    """The canonical channel URLs of ``canonicals`` that a read-only command must not read: no mirror
    of ``mirrors`` (the trusted ones: the command line's) sends them elsewhere, they are not https on
    one of :data:`PUBLIC_CHANNEL_HOSTS`, and they are not a folder inside ``roots`` (the project's
    tree, resolved)."""
    from urllib.parse import unquote

    out = []
    for canonical in dict.fromkeys(canonicals):
        if any(canonical == m.canonical or canonical.startswith(m.canonical + "/") for m in mirrors):
            continue  # also `--mirror URL=URL`: "read this channel where it is"
        try:
            parts = urlsplit(canonical)
            port = parts.port
        except ValueError:  # a port out of range, a broken [IPv6]: not a public host, refused (not a crash)
            out.append(canonical)
            continue
        if "\\" in canonical:  # rattler (WHATWG) ends the host at a backslash, Python at `/` only:
            out.append(canonical)  # https://evil\@conda.anaconda.org/...: conda.anaconda.org to one, evil to the other
            continue
        if parts.scheme == "https" and (parts.hostname or "") in PUBLIC_CHANNEL_HOSTS and port in (None, 443):
            continue
        if parts.scheme == "file" and roots:
            folder = Path(unquote(parts.path)).resolve()
            if any(folder == root or root in folder.parents for root in roots):
                continue
        out.append(canonical)
    return out
