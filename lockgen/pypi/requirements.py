"""The ``pip:`` list in: what the resolver is asked for.

:func:`parse_pip_entries` turns one platform's pip lines (and the ``-r``/``-c`` files they name)
into a :class:`~lockgen.pypi.pipinput.PipInput` for the resolver. Reading what uv wrote (:func:`parse_compiled`) and an
earlier ``locks/requirements.txt`` (:func:`read_previous`) is :mod:`lockgen.lockfiles.requirements`'s,
as is the requirements format itself (:func:`logical_lines`, :class:`Pin`); rendering the merged
file is :mod:`lockgen.pypi.render`'s.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.digest import sha256
from lockgen.errors import InputError, Problem
from lockgen.lockfiles.requirements import (
    EXPANSION,
    EXPANSION_FIX,
    PROJECT_FILES,
    VCS_PREFIXES,
    logical_lines,
    project_digest,
)
from lockgen.pipsyntax import canonical_name
from lockgen.project import project_roots
from lockgen.pypi.pipinput import DirectRequirement, GivenHashes, PipInput, vcs_url_of
from lockgen.secrets import strip_credentials
from lockgen.spec.model import Location, PipEntry
from lockgen.spec.pipentry import plain_requirement_name

if TYPE_CHECKING:
    from packaging.requirements import Requirement

__all__ = [
    "include_roots",
    "outside_includes",
    "parse_pip_entries",
    "sources_digest_lines",
]

MAX_INCLUDE_DEPTH = 8
MAX_INCLUDE_BYTES = 1024 * 1024
"""A ``-r``/``-c`` file larger than this is refused (real ones are a few KiB)."""
EXCERPT_CHARS = 40
"""How much of a line that is not a valid requirement a message shows: a ``-r`` aimed at a
secret file must not print it."""
# Patterns, compiled when first used (re's cache): an up-to-date check or no-op lock uses none.
_SHA256 = r"^sha256:[0-9a-f]{64}$"
_OPTION = r"^(?P<opt>-[A-Za-z]|--[a-z][a-z-]*)(?:[ =]\s*(?P<value>.*))?$"
_NAMED_URL = r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@"
_SHORT_GLUED = r"^(?P<opt>-[rcif])(?P<value>\S.*)$"
TRUSTED_HOST_REFUSAL = (
    "pip option --trusted-host is not supported in a locked pip section: it lets pip and uv fetch from that"
    " host over plain http or without checking its TLS certificate, so anyone on the way could change what is"
    " locked and installed; serve the index over https and drop the option (for a certificate from a private"
    ' CA, set SSL_CERT_FILE to its bundle: docs/reliability.md, "Proxies, .netrc and certificates")'
)
SUPPORTED_OPTIONS = "-r, -c, -e, --index-url, --extra-index-url, --find-links, --no-index, --pre, --prefer-binary"
_OPTIONS_WITH_VALUE = {
    "-r": "--requirement",
    "--requirement": "--requirement",
    "-c": "--constraint",
    "--constraint": "--constraint",
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "-f": "--find-links",
    "--find-links": "--find-links",
    "-e": "--editable",
    "--editable": "--editable",
}


class _Collector:
    """What one platform's pip lines (and the files they include) add up to, while they are read.

    A plain class, not a record: made once per pip section and never compared or copied, its
    ``__init__`` is written here instead of made from a record's shape at first use (Round 8)."""

    __slots__ = (
        "allowed",
        "constraints",
        "cwd",
        "direct",
        "extra_index_urls",
        "find_links",
        "find_links_key",
        "given_hashes",
        "index_url",
        "names",
        "no_index",
        "no_index_at",
        "outside",
        "pre",
        "prefer_binary",
        "problems",
        "requirements",
        "root_files",
        "roots",
        "seen_files",
        "sources",
        "warnings",
    )

    def __init__(self) -> None:
        self.requirements: list[str] = []
        self.constraints: list[str] = []
        self.index_url: str | None = None
        self.extra_index_urls: list[str] = []
        self.find_links: list[str] = []
        self.find_links_key: list[str] = []
        self.pre = False
        self.no_index = False
        self.no_index_at: Location | None = None
        self.prefer_binary = False
        self.warnings: list[Problem] = []
        self.names: list[tuple[str, Location]] = []
        self.direct: list[DirectRequirement] = []
        self.given_hashes: list[GivenHashes] = []
        self.problems: list[Problem] = []
        self.outside: list[tuple[Location, str, Path]] = []
        """``-r``/``-c`` files refused unread as outside the allowed roots: (where, ``-r FILE`` as
        written, resolved)."""
        self.seen_files: set[Path] = set()
        self.sources: list[tuple[str, str]] = []
        self.roots: tuple[Path, ...] = ()
        """Directories ``-r``/``-c`` files may live in (resolved); empty: each entry's project tree."""
        self.root_files: tuple[str, ...] = ()
        """The environment files whose project trees (and ``allowed``) give :attr:`roots`, worked out at
        the first ``-r``/``-c`` line: pip lines without one look up no project tree."""
        self.allowed: tuple[Path, ...] = ()
        self.cwd: Path | None = None
        """Where pip runs: the folder of the environment file whose pip line is being read (conda runs
        pip there). Local projects in a ``-r`` file are relative to it, as pip reads them, while nested
        ``-r``/``-c`` files are relative to the file that names them."""

    def problem(self, where: Location, message: str) -> None:
        self.problems.append(Problem(message, where.file, where.line))

    def warn(self, where: Location, message: str) -> None:
        self.warnings.append(Problem(message, where.file, where.line))


def _excerpt(text: str) -> str:
    """A short, quoted excerpt of a line: enough to find it, too little to leak a file through."""
    short = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "..."
    return repr(short)


def include_roots(env_file: Path, extra: Sequence[Path] = ()) -> tuple[Path, ...]:
    """Where ``-r``/``-c`` files may be read from: the project's tree (:func:`lockgen.project.project_roots`:
    the environment file's directory and the git work tree holding it) and the directories ``extra``
    allows (``--allow-include``)."""
    return tuple(dict.fromkeys([*project_roots(env_file), *(Path(p).expanduser().resolve() for p in extra)]))


def _split_option(text: str) -> tuple[str, str | None] | None:
    glued = re.match(_SHORT_GLUED, text)
    if glued and not text.startswith("--"):
        return glued.group("opt"), glued.group("value").strip()
    match = re.match(_OPTION, text)
    if match is None:
        return None
    value = match.group("value")
    return match.group("opt"), value.strip() if value else None


def _is_local_path(text: str) -> bool:
    return text.startswith((".", "/", "~", "file:")) or bool(re.match(r"^[A-Za-z]:[\\/]", text))


_FLAGS = ("--pre", "--no-index", "--prefer-binary", "--trusted-host")


def _flag(col: _Collector, opt: str, where: Location) -> None:
    """An option of :data:`_FLAGS` (``--trusted-host`` takes a value, refused whatever it is)."""
    if opt == "--pre":
        col.pre = True
    elif opt == "--no-index":
        col.no_index = True
        col.no_index_at = col.no_index_at or where
    elif opt == "--prefer-binary":  # the sdist-only newest release is not taken (lockgen/pypi/jobs.py)
        col.prefer_binary = True
    else:
        col.problem(where, TRUSTED_HOST_REFUSAL)


def _handle_option(col: _Collector, text: str, where: Location, base: Path, depth: int) -> None:
    parsed = _split_option(text)
    if parsed is None:
        col.problem(where, f"cannot read pip option {_excerpt(text)}")
        return
    opt, value = parsed
    if opt in _FLAGS:
        _flag(col, opt, where)
        return
    long = _OPTIONS_WITH_VALUE.get(opt)
    if long is None:
        col.problem(
            where,
            f"pip option {opt} is not supported in a locked pip section (lockgen understands {SUPPORTED_OPTIONS}:"
            " docs/pip.md); remove the line",
        )
        return
    if not value:
        col.problem(where, f"pip option {opt} needs a value")
        return
    if long == "--editable":
        _direct(col, value, where, col.cwd or base, editable=True, constraints=False)
    elif long in ("--requirement", "--constraint"):
        _include(col, value, base, where, depth, constraints=long == "--constraint")
    elif long == "--index-url":
        col.index_url = value
    elif long == "--extra-index-url":
        col.extra_index_urls.append(value)
    elif "://" in value:
        col.find_links.append(value)
        col.find_links_key.append(strip_credentials(value))
    else:
        folder = (base / Path(value).expanduser()).resolve()
        if not folder.is_dir() and col.cwd is not None:  # pip: the including file's folder, else the cwd
            folder = (col.cwd / Path(value).expanduser()).resolve()
        col.find_links.append(str(folder))
        files = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        col.find_links_key.append(f"{value}: {', '.join(files)}")


def _split_hashes(col: _Collector, text: str, where: Location) -> tuple[str, frozenset[str] | None]:
    """``name==1.0 --hash=sha256:... --hash sha256:...`` → the requirement and its hashes (None: no
    option written). pip's other per-requirement options are refused by name."""
    requirement, sep, rest = text.partition(" --")
    if not sep:
        return text, None
    tokens = f"--{rest}".split()
    hashes: set[str] = set()
    while tokens:
        token = tokens.pop(0)
        option, _, value = token.partition("=")
        if option != "--hash":
            col.problem(
                where,
                f"pip option {option} on a requirement line is not supported in a locked pip section"
                " (only --hash=sha256:... is)",
            )
            return requirement.strip(), None
        if not value and tokens and not tokens[0].startswith("--"):
            value = tokens.pop(0)
        if not re.match(_SHA256, value):
            col.problem(
                where,
                f"--hash {_excerpt(value)}: lockgen checks sha256 hashes only, written --hash=sha256:<64 hex digits>",
            )
            return requirement.strip(), None
        hashes.add(value)
    requirement = requirement.strip()
    if _is_local_path(requirement) or requirement.startswith(VCS_PREFIXES) or "://" in requirement:
        col.problem(where, f"--hash on {_excerpt(requirement)}: only a pinned requirement (name==version) takes --hash")
        return requirement, None
    return requirement, frozenset(hashes)


def _given_hashes(col: _Collector, requirement: Requirement, hashes: frozenset[str], where: Location) -> None:
    """Keep a requirement's ``--hash`` options; like pip's hash-checking mode, only for ``==`` pins."""
    pinned = [s for s in requirement.specifier if s.operator in ("==", "===") and "*" not in s.version]
    if requirement.url or len(pinned) != 1:
        col.problem(
            where,
            f"--hash on `{requirement}`: a hash names one file, so the requirement must be pinned with =="
            " (as pip's hash-checking mode requires); pin the version or drop the --hash options",
        )
        return
    col.given_hashes.append(GivenHashes(canonical_name(requirement.name), hashes, where))


def _handle_line(col: _Collector, text: str, where: Location, base: Path, depth: int, *, constraints: bool) -> None:
    expansion = EXPANSION.search(text)
    if expansion is not None:  # refused before anything reads the line: never expanded, never locked
        col.problem(
            where,
            f"{expansion.group(0)!r}: pip and uv would expand this environment variable when installing, and send"
            f" its value wherever the line points; a lock may not carry one: {EXPANSION_FIX}",
        )
    else:
        _handle_plain_line(col, text, where, base, depth, constraints=constraints)


def _handle_plain_line(  # noqa: PLR0911
    col: _Collector, text: str, where: Location, base: Path, depth: int, *, constraints: bool
) -> None:
    if text.startswith("-"):
        _handle_option(col, text, where, base, depth)
        return
    text, hashes = _split_hashes(col, text, where)
    if _is_local_path(text) or text.startswith(VCS_PREFIXES):
        _direct(col, text, where, col.cwd or base, editable=False, constraints=constraints)
        return
    if "://" in text and not re.match(_NAMED_URL, text):
        col.requirements.append(text)  # a bare URL: uv reads the name from the file name
        return
    plain = plain_requirement_name(text) if hashes is None else None  # the common shapes: packaging not imported
    if plain is not None:
        (col.constraints if constraints else col.requirements).append(text)
        if not constraints:
            col.names.append((canonical_name(plain), where))
        return
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0] if len(text) <= EXCERPT_CHARS else "not a requirement"
        col.problem(where, f"invalid pip requirement {_excerpt(text)}: {reason}")
        return
    if requirement.url and (requirement.url.startswith(("file:", *VCS_PREFIXES))):
        _direct(col, text, where, col.cwd or base, editable=False, constraints=constraints, name=requirement.name)
        return
    if hashes is not None:
        _given_hashes(col, requirement, hashes, where)
    if constraints:
        col.constraints.append(text)
        return
    col.requirements.append(text)
    col.names.append((canonical_name(requirement.name), where))


def _local_folder(text: str, base: Path) -> Path:
    if text.startswith("file:"):
        from urllib.parse import unquote, urlsplit

        text = unquote(urlsplit(text).path)
    return (base / Path(text).expanduser()).resolve()


def _direct(
    col: _Collector, text: str, where: Location, base: Path, *, editable: bool, constraints: bool, name: str = ""
) -> None:
    """A VCS URL or a local project: its dependencies are locked, the line itself without hashes."""
    shown = f"-e {text}" if editable else text
    if constraints:
        col.problem(where, f"`{strip_credentials(shown)}` in a constraints file: list it as a requirement")
        return
    url = vcs_url_of(text) if name else text
    if url.startswith(VCS_PREFIXES):
        if editable:
            col.warn(where, f"`-e {strip_credentials(url)}` is installed as a regular (not editable) package")
        requirement = text if name else url
        col.direct.append(DirectRequirement(shown, where, editable=False, url=requirement))
        if name:
            col.names.append((canonical_name(name), where))
        return
    folder = _local_folder(url, base)
    home = col.cwd.resolve() if col.cwd is not None else None
    if home is not None and folder != home and home not in folder.parents:  # not read, its path not shown
        col.problem(
            where,
            f"`{shown}`: outside the environment file's folder (a symbolic link is followed); lockgen locks and"
            " installs local projects inside the project tree only: move the project into it",
        )
        return
    if not folder.is_dir():
        kind = "an editable install needs a project folder" if editable else "a local project must be a folder"
        col.problem(where, f"`{shown}`: {folder} is not a folder ({kind}; archives by path cannot be locked)")
        return
    if not any((folder / f).is_file() for f in PROJECT_FILES):
        col.problem(where, f"`{shown}`: {folder} has no pyproject.toml, setup.cfg or setup.py")
        return
    col.direct.append(DirectRequirement(shown, where, editable=editable, path=folder, digest=project_digest(folder)))


def _include(col: _Collector, value: str, base: Path, where: Location, depth: int, *, constraints: bool) -> None:
    kind = "-c" if constraints else "-r"
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", value) and not re.match(r"^[A-Za-z]:[\\/]", value):
        col.problem(
            where,
            f"{kind} {strip_credentials(value)}: remote requirement files are not supported in a locked pip"
            " section; save the file in the project and name it by path",
        )
        return
    path = base / Path(value).expanduser()
    resolved = path.resolve()
    if not col.roots and col.root_files:
        col.roots = tuple(dict.fromkeys(r for f in col.root_files for r in include_roots(Path(f), col.allowed)))
    roots = col.roots or include_roots(Path(where.file))
    if not any(resolved.is_relative_to(root) for root in roots):
        col.outside.append((where, f"{kind} {value}", resolved))
        col.problem(
            where,
            f"{kind} {value}: outside the project ({', '.join(str(r) for r in roots)}); lockgen reads"
            " requirement files only from the project's tree (allow a directory with --allow-include DIR"
            " or [tool.lockgen] allow-includes)",
        )
        return
    if depth >= MAX_INCLUDE_DEPTH or resolved in col.seen_files:
        col.problem(where, f"{value} is included again (a cycle?) or nested more than {MAX_INCLUDE_DEPTH} deep")
        return
    try:
        data = _read_bounded(resolved)
        col.sources.append((value, sha256(data).hexdigest()))
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, UnicodeDecodeError):
            reason = "not UTF-8 text"
        col.problem(where, f"cannot read {value} ({path}): {reason}")
        return
    col.seen_files.add(resolved)
    for number, line in logical_lines(text):
        _handle_line(col, line, Location(str(path), number), resolved.parent, depth + 1, constraints=constraints)
    col.seen_files.discard(resolved)


def sources_digest_lines(entries: Sequence[PipEntry], allow_includes: Sequence[Path] = ()) -> list[str]:
    """What one platform's pip lines ask for, with no network: the lines, then every file they
    include (following nested ``-r``/``-c`` exactly as :func:`parse_pip_entries` does) with its
    sha256, then any problem reading them. ``lock`` and ``check`` both digest this."""
    col = _collect(entries, allow_includes)
    lines = [entry.text for entry in entries]
    lines += [f"{name} {digest}" for name, digest in col.sources]
    lines += [f"problem: {p.message}" for p in col.problems]
    return lines


def _read_bounded(path: Path) -> bytes:
    """A regular file's bytes, at most MAX_INCLUDE_BYTES (ValueError beyond, or for a device or pipe)."""
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        data = handle.read(MAX_INCLUDE_BYTES + 1)
    if len(data) > MAX_INCLUDE_BYTES:
        raise ValueError(f"larger than {MAX_INCLUDE_BYTES // 1024} KiB")
    return data


def _collect(entries: Sequence[PipEntry], allow_includes: Sequence[Path] = ()) -> _Collector:
    """``-r``/``-c`` files must lie in the project's tree (:func:`include_roots`) or under a
    directory of ``allow_includes``."""
    col = _Collector()
    col.root_files, col.allowed = tuple(dict.fromkeys(e.location.file for e in entries)), tuple(allow_includes)
    for entry in entries:
        base = Path(entry.location.file).parent
        col.cwd = base
        text = entry.text.split(" #", 1)[0].strip()
        _handle_line(col, text, entry.location, base, 0, constraints=False)
    return col


def outside_includes(
    entries: Sequence[PipEntry], allow_includes: Sequence[Path] = ()
) -> list[tuple[Location, str, Path]]:
    """The ``-r``/``-c`` files ``entries`` name (nested ones too) that lie outside the project's tree and
    ``allow_includes``, none of them opened: (where, ``-r FILE`` as written, the resolved path)."""
    return _collect(entries, allow_includes).outside


def parse_pip_entries(entries: Sequence[PipEntry], allow_includes: Sequence[Path] = ()) -> PipInput:
    """Read one platform's pip lines. Raises InputError listing every bad line with file:line.
    ``-r``/``-c`` files are read only inside the project's tree or ``allow_includes``."""
    col = _collect(entries, allow_includes)
    if col.problems:
        raise InputError(col.problems)
    return _pip_input(col)


def _pip_input(col: _Collector) -> PipInput:
    return PipInput(
        requirements=tuple(col.requirements),
        constraints=tuple(col.constraints),
        index_url=col.index_url,
        extra_index_urls=tuple(col.extra_index_urls),
        find_links=tuple(col.find_links),
        find_links_key=tuple(col.find_links_key),
        pre=col.pre,
        no_index=col.no_index,
        no_index_at=col.no_index_at,
        prefer_binary=col.prefer_binary,
        warnings=tuple(col.warnings),
        names=tuple(col.names),
        sources=tuple(col.sources),
        direct=tuple(col.direct),
        given_hashes=tuple(col.given_hashes),
    )
