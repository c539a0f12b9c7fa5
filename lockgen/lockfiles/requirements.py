"""The pip lock files: ``requirements.txt`` (every hashed pin) and ``requirements-unhashed.txt``.

pip refuses VCS URLs and local paths under ``--require-hashes``, so ``requirements.txt`` holds
every hashed pin (their dependencies included) and ``requirements-unhashed.txt`` the lines
themselves: VCS URLs pinned to a commit (``name @ git+URL@<sha>``), local projects as paths
relative to the environment file's folder (``-e ./localproj``, ``./vendor/pkg``).

This module is requirements.txt's one reader and one writer: :func:`logical_lines` joins backslash
continuations (for every requirements-format text lockgen reads), :func:`parse_requirements_lock`
splits a pip lock into its header and the body pip reads, :func:`parse_compiled` reads the pins
(as uv writes them and as lockgen does), :func:`render_requirements_lock` writes them;
:mod:`lockgen.lockfiles.unhashed` reads and writes requirements-unhashed.txt (same header,
:func:`header_lines`). pypi (previous lock, preferences, writing), review (check, diff, explain)
and install (the pip step) all use it.
It imports no stage module, so ``check`` does not import the resolver's modules.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lockgen.digest import sha256
from lockgen.lockfiles.header import (
    generated_line,
    is_generated,
    parse_input_hash,
    render_input_hash,
    text_digest,
)
from lockgen.pipsyntax import plain_pin
from lockgen.printable import one_line
from lockgen.records import dataclass
from lockgen.secrets import strip_credentials

__all__ = [
    "PROJECT_FILES",
    "VCS_PREFIXES",
    "VIA_PIP_SECTION",
    "Header",
    "Pin",
    "PreviousLock",
    "RequirementsLock",
    "body_digest",
    "expandable_lines",
    "header_lines",
    "input_hash_of",
    "is_direct_line",
    "local_project_of",
    "logical_lines",
    "parse_compiled",
    "parse_requirements_lock",
    "project_digest",
    "project_name",
    "read_previous",
    "render_body",
    "render_requirements_lock",
]

_PIP_SECTION = " (the pip: section)"
"""What the generated line of both pip lock files says after the environment file names."""


EXPANSION = re.compile(r"\$\{[^}\n]*\}?")
"""``${...}``: pip and uv replace ``${NAME}`` with an environment variable's value (in option lines,
URLs and ``-r``/``-c`` paths), so a line carrying one could send a secret wherever it points."""
EXPANSION_FIX = (
    "give index credentials through ~/.netrc or a keyring (pip and uv read both), never through a"
    " variable named in a file a pull request can change"
)


def expandable_lines(text: str) -> list[int]:
    """Numbers of the lines of a requirements-format ``text`` holding ``${``, comments included (pip
    and uv must never be handed one: what counts as a comment differs between readers)."""
    return [number for number, raw in enumerate(text.splitlines(), start=1) if "${" in raw]


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) of a requirements file: continuations joined, comments and blanks dropped."""
    lines: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        full = (re.sub(r"(^|\s)#.*$", "", full) if "#" in full else full).strip()  # the regex is slow on hash lines
        pending = ""
        if full:
            lines.append((start, full))
    tail = re.sub(r"(^|\s)#.*$", "", pending).strip()
    if tail:
        lines.append((start, tail))
    return lines


@dataclass(frozen=True, slots=True)
class Pin:
    """One resolved distribution: ``name==version`` or ``name @ url``, with its file hashes."""

    name: str
    version: str
    url: str | None
    hashes: tuple[str, ...]
    marker: str | None = None
    via: tuple[str, ...] = ()
    """Who requires it (uv's ``# via`` annotation): distribution names, and :data:`VIA_PIP_SECTION`."""

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.version, self.url)


def _pin_from_line(line: str, via: tuple[str, ...] = ()) -> Pin | None:
    tokens = line.split()
    hashes = sorted({t.split("=", 1)[1] for t in tokens if t.startswith("--hash=")})
    spec = " ".join(t for t in tokens if not t.startswith("--hash="))
    if not spec or spec.startswith("-"):
        return None
    plain = plain_pin(spec)  # lockgen's own pins, read without importing packaging (check, a no-op lock)
    if plain is not None:
        return Pin(plain[0], plain[1], None, tuple(hashes), plain[2], via)
    from packaging.requirements import InvalidRequirement, Requirement  # not at import: `lock` uses this module's names
    from packaging.utils import canonicalize_name

    try:
        requirement = Requirement(spec)
    except InvalidRequirement:
        return None
    marker = str(requirement.marker) if requirement.marker else None
    name = canonicalize_name(requirement.name)
    if requirement.url:
        version = ""
        match = re.search(r"-(?P<version>\d[^-]*)-[^-]+-[^-]+-[^-]+\.whl", requirement.url)
        if match:
            version = match.group("version")
        return Pin(name, version, requirement.url, tuple(hashes), marker, via)
    exact = [s.version for s in requirement.specifier if s.operator in ("==", "===")]
    if len(exact) != 1:
        return None
    return Pin(name, exact[0], None, tuple(hashes), marker, via)


VIA_PIP_SECTION = "pip: section"
"""The ``# via`` entry of a requirement listed in the pip: section itself."""


def _via_by_line(text: str) -> dict[int, tuple[str, ...]]:
    """``# via`` annotations (``# via a`` or ``# via`` then ``#   a`` lines), keyed by the requirement's first line.

    ``-r <file>`` (the pip: section or a file it includes) becomes :data:`VIA_PIP_SECTION`;
    ``-c <file>`` (a constraint, not a reason to install) is left out.
    """
    found: dict[int, list[str]] = {}
    current: int | None = None
    collecting = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line.startswith("#"):
            if line and not raw.startswith((" ", "\t")):
                current = None if line.startswith("-") else number  # an option or `-e` line: no pin
            collecting = False
            continue
        body = line[1:].strip()
        if body.startswith("via"):
            collecting = True
            body = body[3:].strip()
        elif not collecting or not raw.lstrip().startswith("#   "):
            collecting = False
            continue
        if current is None or not body:
            continue
        if body.startswith("-r "):
            body = VIA_PIP_SECTION
        elif body.startswith("-c "):
            continue
        found.setdefault(current, [])
        for name in body.split(","):
            if name.strip() and name.strip() not in found[current]:
                found[current].append(name.strip())
    return {k: tuple(v) for k, v in found.items()}


@lru_cache(maxsize=64)
def _logical(text: str) -> tuple[tuple[int, str], ...]:
    """:func:`logical_lines`, once per text and process: ``check`` reads a pip lock's pins and its
    options lines from the same body, one walk."""
    return tuple(logical_lines(text))


@lru_cache(maxsize=64)
def parse_compiled(text: str) -> tuple[Pin, ...]:
    """The pins of a requirements file as uv writes it (``name==version \\`` + ``--hash=`` lines, ``# via``).

    Once per text and process (the pins are immutable): ``check`` and a no-op ``lock`` read them twice,
    for the pip section's verdict and for the pins held to the requirements."""
    via = _via_by_line(text)
    pins = []
    for number, line in _logical(text):
        pin = _pin_from_line(line, via.get(number, ()))  # made with its `# via`, not copied with it
        if pin is not None:
            pins.append(pin)
    return tuple(pins)


@dataclass(frozen=True, slots=True)
class RequirementsLock:
    """A pip lock file split once: the comment header, and the body pip reads (options and pins)."""

    header: tuple[str, ...]
    """The comment lines at the top (up to the first line that is not a comment)."""
    body: str
    """Every byte after the header: what ``body=`` digests and what pip reads."""
    generated: bool
    """Whether the file begins as every file lockgen writes does."""
    input_hash: str | None
    """The first word of the ``# input-hash:`` line (``sha256:<hex>``); None when absent."""
    parts: tuple[tuple[str, str], ...]
    """The ``key=value`` words after it (``pip=``, ``body=``)."""
    platforms: tuple[str, ...] | None
    """The ``# platforms:`` line (None when absent)."""
    pip_lines: tuple[str, ...] | None = None
    """The ``# pip-lines:`` line: what the pip lock was made from, readable (None when absent)."""

    @property
    def inputs(self) -> str | None:
        """The input hash and its parts without the ``body=`` digest: what the inputs were (None: no line)."""
        if self.input_hash is None:
            return None
        return " ".join([self.input_hash, *(f"{k}={v}" for k, v in self.parts if k != "body")])

    def pins(self) -> tuple[Pin, ...]:
        """The pinned requirements of the body (see :func:`parse_compiled`)."""
        return parse_compiled(self.body)

    def option_lines(self) -> list[str]:
        """The body's option lines (``--index-url ...``), continuations joined."""
        return [line for _, line in _logical(self.body) if line.startswith("-")]


def parse_requirements_lock(text: str) -> RequirementsLock:
    """Split a pip lock file into its header and body and read the header (the one header reader)."""
    lines = text.split("\n")
    count = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    header = tuple(lines[:count])
    hash_value = next((line.partition(":")[2] for line in header if line.startswith("# input-hash:")), None)
    input_hash, parts = parse_input_hash(hash_value) if hash_value is not None else (None, ())
    listed = next((line.partition(":")[2] for line in header if line.startswith("# platforms:")), None)
    platforms = tuple(p.strip() for p in listed.split(",") if p.strip()) if listed is not None else None
    recorded = next((line.partition(":")[2] for line in header if line.startswith(PIP_LINES_PREFIX)), None)
    body = "\n".join(lines[count:])
    return RequirementsLock(header, body, is_generated(text), input_hash, parts, platforms, _json_lines(recorded))


PIP_LINES_PREFIX = "# pip-lines:"


def _json_lines(value: str | None) -> tuple[str, ...] | None:
    """A ``# pip-lines:`` value (a JSON list of strings); None when absent or not one."""
    if value is None:
        return None
    try:
        listed = json.loads(value)
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        return None
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        return None
    return tuple(one_line(item) for item in listed)  # a "\n" decoded from the JSON never starts a line


@dataclass(frozen=True, slots=True)
class PreviousLock:
    input_hash: str | None
    pins: tuple[Pin, ...]

    def preferences(self, environment: dict[str, str]) -> tuple[str, ...]:
        """``name==version`` of the earlier pins that apply to a platform (its marker environment)."""
        from packaging.markers import InvalidMarker, Marker

        found = []
        for pin in self.pins:
            if pin.url is not None:
                continue
            if pin.marker:
                try:
                    if not Marker(pin.marker).evaluate(environment):
                        continue
                except InvalidMarker:
                    continue
            found.append(f"{pin.name}=={pin.version}")
        return tuple(sorted(set(found)))


def read_previous(path: Path) -> PreviousLock | None:
    """An earlier pip lock file written by lockgen, or None when absent or not ours."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    lock = parse_requirements_lock(text)
    if not lock.generated:
        return None
    return PreviousLock(lock.inputs, parse_compiled(text))


def input_hash_of(path: Path) -> str | None:
    """The inputs on the ``# input-hash:`` line of a pip lock file, without ``body=`` (None: absent or unreadable)."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
    return parse_requirements_lock(text).inputs


@dataclass(frozen=True, slots=True)
class Header:
    sources: tuple[str, ...]
    input_hash: str
    platforms: tuple[str, ...]
    resolved_against: tuple[str, ...]
    """One line per platform: the conda lock and the target it was resolved for."""
    mapping: str
    warnings: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    """``--index-url ...`` lines (credentials removed) that pip needs to find the files."""
    unhashed: str | None = None
    """The file name of the VCS/local-project lines, when there are any."""
    paths_base: str | None = None
    """Where that file's relative paths start, relative to the lock folder (``..``: the environment file's)."""
    pip_lines: tuple[str, ...] = ()
    """What the lock was made from, readable (pip lines, included files and local projects with a digest;
    credentials masked): ``check`` names what changed from it."""


def _requirement_line(pin: Pin) -> str:
    head = f"{pin.name} @ {strip_credentials(pin.url)}" if pin.url else f"{pin.name}=={pin.version}"
    if pin.marker:
        head += f" ; {pin.marker}"
    text = " \\\n".join([head, *(f"    --hash={h}" for h in pin.hashes)])
    if pin.via:
        text += f"\n    # via {', '.join(pin.via)}"
    return text


def body_digest(body: str) -> str:
    """12 hex digits of the sha256 of everything after the header (options and requirement lines)."""
    return text_digest(body)


def render_body(options: Sequence[str], pins: Sequence[Pin]) -> str:
    """Everything pip reads: the options lines, then the pins in the file's order (name, marker, version)."""
    ordered = sorted(pins, key=lambda p: (p.name, p.marker or "", p.version, p.url or ""))
    return "".join(f"{line}\n" for line in [*options, *(_requirement_line(pin) for pin in ordered)])


def render_requirements_lock(header: Header, pins: Sequence[Pin]) -> str:
    """The whole file: header comments, pip options, then one requirement a line (with hashes).

    The input-hash line ends with ``body=<12 hex>``, a digest of every byte after the header, so a
    changed ``--hash``, pin or options line shows in ``check`` (which also re-derives the body).
    """
    body = render_body(header.options, pins)
    lines = header_lines(header, render_input_hash(header.input_hash, [("body", body_digest(body))]))
    lines += [f"# {line}" for line in header.resolved_against]
    lines += [f"# warning: {w}" for w in header.warnings]
    return "\n".join(lines) + "\n" + body


def header_lines(header: Header, hash_line: str) -> list[str]:
    """The comment lines both pip lock files start with (read back by :func:`parse_requirements_lock`)."""
    lines = [
        generated_line(header.sources, _PIP_SECTION),
        hash_line,
        f"# platforms: {', '.join(header.platforms)}",
        *([f"{PIP_LINES_PREFIX} {json.dumps(list(header.pip_lines), ensure_ascii=False)}"] if header.pip_lines else []),
        f"# conda→PyPI names: {header.mapping}",
        "# Conda packages are not listed: conda installs them first; then run",
        "#   pip install --no-deps --require-hashes -r requirements.txt",
    ]
    if header.unhashed:
        lines.append(f"#   pip install --no-deps -r {header.unhashed}   (VCS URLs and local projects)")
    return lines


# requirements-unhashed.txt: which pip lines go there (its reader and writer: lockfiles/unhashed.py)

VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
"""How a pip VCS URL starts (``git+https://…``): the one list every reader and writer of pip lines uses."""


# The files a local project's metadata comes from (static pyproject.toml, or a build from these).
PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")


def project_digest(folder: Path) -> str:
    """sha256 over a local project's dependency metadata, so an edited dependency re-locks: of
    pyproject.toml only the ``[project]`` and ``[build-system]`` tables (a ``[tool.*]`` edit, such as
    ``[tool.lockgen]``, cannot change the resolution), setup.cfg and setup.py whole."""
    digest = sha256()
    for name in PROJECT_FILES:
        try:
            data = (folder / name).read_bytes()
        except OSError:
            continue
        if name == "pyproject.toml":
            data = _pyproject_metadata(data)
        digest.update(f"{name}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def _pyproject_metadata(data: bytes) -> bytes:
    """The parts of a pyproject.toml that can change what a resolver sees, as canonical JSON (the bytes
    themselves when the file does not parse: then any edit counts)."""
    parsed = _toml(data)
    if parsed is None:
        return data
    kept = {key: parsed[key] for key in ("project", "build-system") if key in parsed}
    return json.dumps(kept, sort_keys=True, default=str).encode()


def _toml(data: bytes) -> dict[str, object] | None:
    """A TOML document (None: not UTF-8 or not TOML)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        parsed: dict[str, object] = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return parsed


MAX_PROJECT_FILE = 1 << 20
"""The most of a local project's pyproject.toml that :func:`project_name` reads."""


def project_name(folder: Path) -> str | None:
    """A local project's name from its static ``pyproject.toml`` ``[project] name`` (None: no such
    file, too large, or no static name: then only a build could tell)."""
    try:
        with (folder / "pyproject.toml").open("rb") as file:
            data = file.read(MAX_PROJECT_FILE + 1)
    except OSError:
        return None
    parsed = _toml(data) if len(data) <= MAX_PROJECT_FILE else None
    table = parsed.get("project") if parsed else None
    name = table.get("name") if isinstance(table, dict) else None
    return name if isinstance(name, str) and name.strip() else None



def local_project_of(text: str, base: Path) -> Path | None:
    """The folder of a local-project pip line (``-e .``, ``--editable=./x``, ``./vendor/pkg``), else None."""
    line = text.split(" #", 1)[0].strip()
    for option in ("--editable=", "--editable ", "-e=", "-e "):
        if line.startswith(option):
            line = line[len(option) :].strip()
            break
    else:
        if line.startswith("-e") and len(line) > 2:
            line = line[2:].strip()
        elif line.startswith("-"):
            return None
    if " @ " in line:
        line = line.split(" @ ", 1)[1].strip()
    if line.startswith(VCS_PREFIXES):
        return None
    if line.startswith("file:"):
        line = unquote(urlsplit(line).path)
    elif not (line.startswith((".", "/", "~")) or re.match(r"^[A-Za-z]:[\\/]", line)):
        return None
    return (base / Path(line).expanduser()).resolve()


def is_direct_line(text: str, base: Path) -> bool:
    """A pip line that goes to requirements-unhashed.txt: a VCS URL or a local project."""
    line = text.split(" #", 1)[0].strip()
    for option in ("--editable=", "--editable ", "-e=", "-e "):
        line = line[len(option) :].strip() if line.startswith(option) else line
    url = line.split(" @ ", 1)[1].strip() if " @ " in line else line
    return url.startswith(VCS_PREFIXES) or local_project_of(text, base) is not None
