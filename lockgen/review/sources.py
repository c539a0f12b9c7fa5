"""Read a set of locks from a directory or from a git revision, for ``lockgen diff``.

A git revision is read with ``git ls-tree`` and ``git show REV:path`` (a subprocess with an
argument list), so the working tree and the index are never touched.

Only files named by the filename template (``{platform}.txt`` by default) and requirements.txt
are locks; any other ``*.txt`` that claims a platform (an ``@EXPLICIT`` or ``# platform:`` line)
is an error, so a decoy cannot stand in for the real lock. Every byte that changes what gets
installed is part of a :class:`PackageState` (URL and hash), or of a pip ``option:`` entry (index,
find-links and any other line pip reads that is not a pinned requirement), so ``diff`` shows it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import field, replace
from pathlib import Path

from lockgen.errors import ConfigError
from lockgen.filesize import SizeLimit
from lockgen.lockfiles.lockdir import LINKED_FILE, REQUIREMENTS_NAME, UNHASHED_NAME, claims_platform, read_lock_text
from lockgen.lockfiles.requirements import logical_lines, parse_requirements_lock
from lockgen.platforms import lock_file_names
from lockgen.records import dataclass
from lockgen.secrets import without_login

__all__ = [
    "DirectSpecs",
    "LockSet",
    "PackageState",
    "ReviewSourceError",
    "direct_specs",
    "environment_beside",
    "lock_names",
    "parse_requirements",
    "read_directory",
    "read_files",
    "read_revision",
    "read_revision_file",
]


class ReviewSourceError(ConfigError):
    """A diff source could not be read: unknown revision, not a git repository, malformed lock (exit 2)."""


@dataclass(frozen=True, slots=True)
class PackageState:
    """One locked package as a diff sees it. ``build`` is empty for pip packages."""

    version: str
    build: str = ""
    url: str = ""
    digest: str = ""
    """The hash the lock pins: ``md5``/``sha256:…`` for conda, the sorted ``--hash`` values for pip."""
    marker: str = ""
    """A pip line's environment marker (which platforms install it); empty for conda and unmarked lines."""


@dataclass(frozen=True, slots=True)
class DirectSpecs:
    """The packages the environment file names itself (the others are dependencies), on any platform."""

    conda: frozenset[str] = frozenset()
    pip: frozenset[str] = frozenset()
    """PyPI names, normalized."""
    files: tuple[str, ...] = ()
    """The file names they were read from (for the legend)."""

    def __or__(self, other: DirectSpecs) -> DirectSpecs:
        files = tuple(dict.fromkeys((*self.files, *other.files)))
        return DirectSpecs(self.conda | other.conda, self.pip | other.pip, files)


@dataclass(frozen=True, slots=True)
class LockSet:
    """The locks of one side of a diff: conda packages per platform, and the pip lock if any."""

    label: str
    conda: Mapping[str, Mapping[str, PackageState]] = field(default_factory=dict)
    pip: Mapping[str, PackageState] | None = None
    direct: DirectSpecs = field(default_factory=DirectSpecs)
    """What that side's environment file named (empty when it was not found or does not parse)."""
    location: str = ""
    """Where that side's locks live in the project (``locks/{platform}.txt``), when its own settings
    chose it: ``diff`` flags a side whose [tool.lockgen] moved them (empty: a folder named by the user)."""
    where: str = ""
    """Where the locks were looked for (a folder, or ``folder at REV``), for messages."""
    pip_platforms: tuple[str, ...] | None = None
    """The platforms the pip lock was resolved for (its ``# platforms:`` line; None: not recorded)."""
    mirrors: tuple[str, ...] | None = None
    """That side's ``[tool.lockgen] mirrors`` (``CANONICAL=REPLACEMENT``, credentials masked; None: not
    read): ``install`` downloads through them, so ``diff`` must show a pull request that changes them."""
    settings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per platform, the solve options its lock records (``# options:`` pairs and ``# virtual-packages:``):
    ``check`` and ``lock`` reuse them, so ``diff`` must show a pull request that changes them."""

    @property
    def empty(self) -> bool:
        """No lock file was read (neither a platform's nor the pip lock)."""
        return not self.conda and self.pip is None


def direct_specs(texts: Mapping[str, str]) -> DirectSpecs:
    """The names the environment files ``texts`` (file name → text) list, conda and pip, whatever
    the platform. Best effort, as it only marks rows: a file that does not parse names nothing."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from lockgen.errors import InputError
    from lockgen.spec.document import parse_env_text

    conda: set[str] = set()
    pip: set[str] = set()
    read: list[str] = []
    for name, text in texts.items():
        try:
            spec = parse_env_text(text, name)
        except InputError:
            continue
        read.append(Path(name).name)
        conda.update(d.name for d in spec.dependencies)
        for entry in spec.pip or ():
            try:
                pip.add(canonicalize_name(Requirement(entry.text.split(" #", 1)[0].strip()).name))
            except InvalidRequirement:
                continue  # -r FILE, -e PATH, a bare URL: no name to mark
    return DirectSpecs(frozenset(conda), frozenset(pip), tuple(dict.fromkeys(read)))


def _read_texts(paths: Sequence[Path]) -> dict[str, str]:
    texts = {}
    for path in paths:
        try:
            texts[str(path)] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return texts


def environment_beside(lock_dir: Path, env_files: Sequence[Path]) -> list[Path]:
    """The environment files a directory of locks was made from: those of ``env_files`` (by name)
    beside ``lock_dir``, else ``env_files`` themselves."""
    beside = [lock_dir.parent / path.name for path in env_files]
    if beside and all(path.is_file() for path in beside):
        return beside
    return list(env_files)


DEFAULT_TEMPLATE = "{platform}.txt"


def lock_names(template: str = DEFAULT_TEMPLATE) -> dict[str, str]:
    """File name → platform, for every platform the filename template can name."""
    return lock_file_names(template)


def read_files(
    label: str, files: Mapping[str, str], direct: DirectSpecs | None = None, *, template: str = DEFAULT_TEMPLATE
) -> LockSet:
    """Build a :class:`LockSet` from file names and texts (template-named ``@EXPLICIT`` files, requirements.txt).

    Raises ReviewSourceError for a malformed lock, a lock whose header names another platform, and
    a file outside the template that claims a platform (a decoy).
    """
    names = lock_names(template)
    conda: dict[str, dict[str, PackageState]] = {}
    settings: dict[str, tuple[str, ...]] = {}
    pip = None
    pip_platforms = None
    for name in sorted(files):
        text = files[name]
        if name == REQUIREMENTS_NAME:
            pip_platforms = parse_requirements_lock(text).platforms
        if name in (REQUIREMENTS_NAME, UNHASHED_NAME):
            # the unhashed file (VCS URLs, local projects) belongs to the same pip lock
            pip = {**(pip or {}), **(parse_requirements(text) if name == REQUIREMENTS_NAME else parse_unhashed(text))}
            continue
        platform = names.get(name)
        if platform is None:
            claim = claims_platform(text) if name.endswith(".txt") else None
            if claim is not None:
                raise ReviewSourceError(
                    f"{label}: {name} has {claim} but is not a lock: only files named by the filename template"
                    f" ({template}) are. Remove or rename it (or set [tool.lockgen] filename-template)"
                )
            continue
        read = read_lock_text(text, Path(name), platform)
        lock = read.lock
        if lock is None:
            raise ReviewSourceError(f"{label}: {name} is malformed: {read.error}") from read.error
        if read.wrong_platform:
            raise ReviewSourceError(f"{label}: {name} says `# platform: {lock.platform}`; its name says {platform}")
        packages: dict[str, PackageState] = {}
        for e in lock.entries:
            state = PackageState(e.version, e.build, e.url, f"sha256:{e.sha256}" if e.sha256 else e.md5 or "")
            key = e.name if e.name not in packages else f"{e.name} (line {e.line})"
            packages[key] = state
        conda[platform] = packages
        recorded = [f"{key}={value}" for key, value in lock.options or ()]
        settings[platform] = (*recorded, *(f"virtual-package {v}" for v in lock.virtual or ()))
    return LockSet(label, conda, pip, direct or DirectSpecs(), pip_platforms=pip_platforms, settings=settings)


def read_directory(
    path: Path,
    label: str | None = None,
    env_files: Sequence[Path] = (),
    *,
    template: str = DEFAULT_TEMPLATE,
    limit: SizeLimit | None = None,
) -> LockSet:
    """The locks in ``path`` (an absent directory holds no locks; a journal there is never applied);
    ``env_files``: the environment files whose specs to mark as direct. A file over ``limit`` is refused, unread."""
    files: dict[str, str] = {}
    if path.is_dir():
        for item in sorted(path.iterdir()):
            if item.suffix == ".txt" and item.is_symlink():
                raise ReviewSourceError(f"{item} {LINKED_FILE}")
            if item.is_file() and item.suffix == ".txt":
                _refuse_large(str(item), limit.problem(item) if limit else None)
                files[item.name] = item.read_text(encoding="utf-8", errors="replace")
    found = read_files(label or str(path), files, direct_specs(_read_texts(env_files)), template=template)
    return replace(found, where=f"{path.resolve()}{'' if path.is_dir() else ' (no such folder)'}")


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        raise ReviewSourceError("git is not installed; compare two directories instead (`lockgen diff A B`)")
    return subprocess.run([git, *args], cwd=cwd, capture_output=True, check=False)


def _git_path(output: bytes) -> str:
    """A path (or NUL-separated paths) git wrote: the file system's bytes, as ``os.fsdecode`` reads
    them (a name that is not UTF-8 is kept, and given back to git or the file system as it was)."""
    return os.fsdecode(output.rstrip(b"\n"))


def _git_text(output: bytes) -> str:
    """Text git wrote (a file's content, a size, a listing): UTF-8, an undecodable byte replaced."""
    return output.decode("utf-8", errors="replace")


def _existing_parent(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path.cwd()


def _refuse_large(where: str, problem: str | None) -> None:
    if problem is not None:
        raise ReviewSourceError(f"{where}: {problem}")


def read_revision(
    revision: str,
    lock_dir: Path,
    env_files: Sequence[Path] = (),
    *,
    template: str = DEFAULT_TEMPLATE,
    limit: SizeLimit | None = None,
    env_limit: SizeLimit | None = None,
) -> LockSet:
    """The locks that ``lock_dir`` (a path in the working tree) held at git ``revision``, and the
    specs ``env_files`` (paths in the working tree) named at that revision. A lock over ``limit``, an
    environment file over ``env_limit`` (the sizes git records) is refused, unread."""
    if revision.startswith("-") or not revision.strip():
        raise ReviewSourceError(f"not a git revision: {revision!r}")
    absolute = lock_dir.resolve()
    where = _existing_parent(absolute)
    top = _git(["rev-parse", "--show-toplevel"], where)
    if top.returncode != 0:
        raise ReviewSourceError(f"{where} is not in a git repository, so {revision!r} cannot be read")
    root = Path(_git_path(top.stdout)).resolve()
    try:
        # where the folder is named, not where a link in the working tree leads: a pull request that
        # turns locks/ into a link to a pristine copy must not make both sides read that copy
        relative = (_in_repository(lock_dir, root) or absolute.relative_to(root)).as_posix()
    except ValueError as exc:
        raise ReviewSourceError(f"{lock_dir} is outside the git repository at {root}") from exc
    verify = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], root)
    if verify.returncode != 0:
        if not _git(["rev-list", "-n", "1", "--all"], root).stdout.strip():  # a new repository (git init)
            raise ReviewSourceError(
                f"{revision!r}: the git repository at {root} has no commit yet; commit the locks first, or compare"
                " two folders of locks: `lockgen diff OLD_DIR NEW_DIR`"
            )
        raise ReviewSourceError(f"unknown git revision {revision!r} (nor a directory)")
    _refuse_linked_folder(revision, relative, root)
    prefix = "" if relative == "." else relative.rstrip("/") + "/"
    listing = _git(["ls-tree", "-l", "-z", revision, "--", prefix or "."], root)
    files: dict[str, str] = {}
    for line in _git_path(listing.stdout).split("\0"):  # names as git gave them: `git show` takes them back
        mode, _, entry = line.partition("\t")
        name = entry[len(prefix) :] if entry.startswith(prefix) else ""
        if not name.endswith(".txt") or "/" in name:
            continue
        if mode.startswith("120000 "):
            raise ReviewSourceError(f"{revision}: {prefix}{name} {LINKED_FILE}")
        size = mode.split()[-1]
        _refuse_large(f"{revision}:{prefix}{name}", limit.size_problem(int(size)) if limit and size.isdigit() else None)
        blob = _git(["show", f"{revision}:{prefix}{name}"], root)
        if blob.returncode == 0:
            files[name] = _git_text(blob.stdout)
    environments: dict[str, str] = {}
    for env_file in env_files:
        try:
            inside = env_file.resolve().relative_to(root).as_posix()
        except ValueError:
            continue  # outside the repository: it has no version at that revision
        if env_limit is not None:
            size = _git_text(_git(["cat-file", "-s", f"{revision}:{inside}"], root).stdout).strip()
            _refuse_large(f"{revision}:{inside}", env_limit.size_problem(int(size)) if size.isdigit() else None)
        blob = _git(["show", f"{revision}:{inside}"], root)
        if blob.returncode == 0:
            environments[inside] = _git_text(blob.stdout)
    found = read_files(revision, files, direct_specs(environments), template=template)
    return replace(found, where=f"{root / prefix if prefix else root} at {revision}")


def _in_repository(path: Path, root: Path) -> Path | None:
    """``path`` relative to the repository ``root``, without following links below the root (None:
    not inside it)."""
    lexical = Path(os.path.normpath(path.absolute()))
    for ancestor in (lexical, *lexical.parents):
        if ancestor.resolve() == root:
            return lexical.relative_to(ancestor)
    return None


def _refuse_linked_folder(revision: str, relative: str, root: Path) -> None:
    """ReviewSourceError when the lock folder, or a folder above it, is a symbolic link at ``revision``:
    git stores the link, not the files, so the diff would read nothing where ``install`` reads the target."""
    parts = [] if relative == "." else relative.split("/")
    for end in range(1, len(parts) + 1):
        prefix = "/".join(parts[:end])
        listing = _git_text(_git(["ls-tree", revision, "--", prefix], root).stdout)
        if listing.startswith("120000 "):
            raise ReviewSourceError(
                f"{revision}: {prefix} is a symbolic link; lockgen writes locks into a real folder, and a link could"
                " show the diff one set of files and `install` another. Replace it by the folder"
            )


def read_revision_file(revision: str, path: Path, limit: SizeLimit | None = None) -> str | None:
    """The text of the working-tree file ``path`` at git ``revision`` (None: absent there, or no repository);
    over ``limit`` (the size git records), refused unread."""
    if revision.startswith("-") or not revision.strip():
        raise ReviewSourceError(f"not a git revision: {revision!r}")
    absolute = path.resolve()
    top = _git(["rev-parse", "--show-toplevel"], _existing_parent(absolute.parent))
    if top.returncode != 0:
        return None
    root = Path(_git_path(top.stdout)).resolve()
    try:
        inside = absolute.relative_to(root).as_posix()
    except ValueError:
        return None
    if limit is not None:
        size = _git_text(_git(["cat-file", "-s", f"{revision}:{inside}"], root).stdout).strip()
        _refuse_large(f"{revision}:{inside}", limit.size_problem(int(size)) if size.isdigit() else None)
    blob = _git(["show", f"{revision}:{inside}"], root)
    return _git_text(blob.stdout) if blob.returncode == 0 else None


_HASH_OPTION = re.compile(r"(?:^|\s)--hash[=\s](\S+)")
OPTION_PREFIX = "option: "
"""Pip-lock lines that are not pinned requirements are keyed ``option: <the line>``."""


def parse_unhashed(text: str) -> dict[str, PackageState]:
    """Every line of requirements-unhashed.txt, as ``install`` would run it: a VCS package by name and
    location (``vcspkg @ git+https://host/repo``; its commit as version), a local project by its path
    (``-e ./localproj`` keyed ``./localproj (editable)``), the ``paths-base`` those paths start at
    (``option: paths-base ..``), and any line of another form (which ``install`` refuses) keyed
    ``option: <the line>``. A key seen twice is kept twice (``(#2)``), so no line hides another."""
    from packaging.utils import canonicalize_name

    from lockgen.lockfiles.unhashed import read_unhashed

    found: dict[str, PackageState] = {}

    def put(key: str, state: PackageState) -> None:
        number, unique = 1, key
        while unique in found:
            number += 1
            unique = f"{key} (#{number})"
        found[unique] = state

    lock = read_unhashed(text)
    for line in lock.lines:
        if line.url is not None and line.name:
            where, at, ref = line.url.rpartition("@")
            if not at or "/" in ref:  # no @ref after the path (an `@` of a login is before it)
                where, ref = line.url, ""
            key: str = f"{canonicalize_name(line.name)} @ {without_login(where)}"
            state = PackageState(ref[:12] or "no commit", "", line.url)
        else:
            key = f"{line.path} (editable)" if line.editable else f"{line.path}"
            state = PackageState("local", "", line.path or "")
        if line.marker:
            key += f"; {line.marker}"
            state = replace(state, marker=str(line.marker))
        put(key, state)
    if any(line.url is None for line in lock.lines):
        put(f"{OPTION_PREFIX}paths-base {lock.paths_base or '(none)'}", PackageState("", "", "", ""))
    raw = dict(logical_lines(text))
    for number, _ in lock.problems:
        put(OPTION_PREFIX + " ".join(raw.get(number, "").split()), PackageState("", "", "", ""))
    return found


def parse_requirements(text: str) -> dict[str, PackageState]:
    """Every line pip reads: pins (``name==version`` or ``name @ url``, hashes, markers) keyed by name
    and marker, and any other line (``--extra-index-url …``, ``-e``, a bare path) keyed ``option: <line>``.

    Comments (a line starting with ``#``, or `` #`` and what follows, as pip reads them) are left out.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, PackageState] = {}

    def put(key: str, state: PackageState) -> None:
        number = 1
        unique = key
        while unique in found:  # the same name twice: keep both, so neither hides the other
            number += 1
            unique = f"{key} (#{number})"
        found[unique] = state

    for _, line in logical_lines(text):
        hashes = " ".join(sorted(_HASH_OPTION.findall(line)))
        body = " ".join(_HASH_OPTION.sub(" ", " " + line).split())
        if not body or body.startswith("-"):
            put(OPTION_PREFIX + " ".join(line.split()), PackageState("", "", "", ""))
            continue
        try:
            requirement = Requirement(body)
        except InvalidRequirement:
            put(OPTION_PREFIX + " ".join(line.split()), PackageState("", "", "", ""))
            continue
        key: str = canonicalize_name(requirement.name)
        if requirement.marker is not None:
            key += f"; {requirement.marker}"
        pins = [s.version for s in requirement.specifier if s.operator in ("==", "===")]
        # a URL pin shows its URL, anything but a plain pin the line as written
        version = requirement.url or (pins[0] if len(pins) == 1 and not requirement.extras else body)
        marker = str(requirement.marker) if requirement.marker is not None else ""
        put(key, PackageState(version, "", requirement.url or "", hashes, marker))
    return found
