"""``check`` of ``requirements-unhashed.txt`` (VCS URLs and local projects, installed without
hashes): present exactly when the pip section lists such lines, safe to install, written with
``requirements.txt``, and holding exactly the lines the pip section asks for."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.lockfiles import GENERATED_PREFIX, first_difference
from lockgen.lockfiles.lockdir import generated_file
from lockgen.lockfiles.requirements import input_hash_of, is_direct_line
from lockgen.plan import LockPlan
from lockgen.records import dataclass
from lockgen.review.stale import PIP_TARGET, Stale
from lockgen.secrets import strip_credentials

if TYPE_CHECKING:
    from lockgen.lockfiles.unhashed import UnhashedLock
    from lockgen.pypi.pipinput import DirectRequirement, PipInput

__all__ = ["DirectExpectation", "check_unhashed_lock", "expected_direct", "needs_unhashed"]


def needs_unhashed(the_plan: LockPlan) -> bool | None:
    """Whether the pip section has VCS URLs or local projects (None: unknown, a ``-r`` file may list some)."""
    if the_plan.spec.pip is None:
        return False
    texts = [e.text.strip() for p in the_plan.platforms for e in the_plan.spec.pip_entries(p.platform)]
    if any(is_direct_line(t, the_plan.spec.base_dir) for t in texts):
        return True
    if any(t.startswith(("-r", "--requirement")) for t in texts):
        return None
    return False


@dataclass(frozen=True, slots=True)
class DirectExpectation:
    """What requirements-unhashed.txt must hold, re-derived from the pip section (no network)."""

    lines: dict[str, tuple[DirectRequirement, ...]]
    """Per pip target platform, the VCS URLs and local projects its pip lines (and their -r files) list."""
    targets: tuple[str, ...]
    base_dir: Path


def expected_direct(pip_targets: LockPlan, inputs: Mapping[str, PipInput] | None) -> DirectExpectation | None:
    """The VCS/local lines the pip section asks for, per platform (None: the section cannot be read).
    ``inputs``: each platform's pip lines as read (:func:`lockgen.review.pipcheck.read_pip_inputs`)."""
    spec = pip_targets.spec
    if spec.pip is None:
        return DirectExpectation({}, (), spec.base_dir)
    if inputs is None:
        return None
    lines = {p.platform: inputs[p.platform].direct for p in pip_targets.platforms if inputs[p.platform].direct}
    return DirectExpectation(lines, tuple(p.platform for p in pip_targets.platforms), spec.base_dir)


def check_unhashed_lock(
    needed: bool | None, path: Path, requirements: Path, expected: DirectExpectation | None = None
) -> list[Stale]:
    """``requirements-unhashed.txt`` exists exactly when VCS URLs or local projects are listed, is safe
    to install (see :func:`~lockgen.lockfiles.unhashed.unhashed_problems`), was written by the same
    lock run as ``requirements.txt`` (same input-hash line), and holds exactly the lines the pip
    section asks for (``expected``: every local path, every VCS URL and its name; only the commit a
    branch or tag resolved to is taken from the file).

    ``lockgen install`` installs this file without hashes, so one the pip section does not need is
    reported whoever wrote it (a pull request can add one without lockgen's header)."""
    exists = path.exists() or path.is_symlink()
    if needed and not exists:
        detail = f"{path} is missing but the pip: section lists VCS URLs or local projects"
        return [Stale(PIP_TARGET, path.name, "missing", detail)]
    if not exists:
        return []
    if needed is False:
        detail = (
            f"{path} exists but the pip: section lists no VCS URL or local project; `lockgen install` would"
            " install it without hashes: remove it"
        )
        return [Stale(PIP_TARGET, path.name, "extra", detail)]
    return _unhashed_problems(path, requirements, expected)


def _unhashed_problems(path: Path, requirements: Path, expected: DirectExpectation | None) -> list[Stale]:
    from lockgen.lockfiles.unhashed import read_unhashed  # only when the file exists: keeps check light

    lock: UnhashedLock | None = None
    problem: tuple[str, str] | None
    if path.is_symlink() or not path.is_file():
        problem = ("malformed", f"{path} is not a regular file (lockgen writes one)")
    else:
        try:
            lock = read_unhashed(path.read_text(encoding="utf-8"))
            problem = _unhashed_form(path, lock, requirements)
        except (OSError, UnicodeDecodeError) as exc:
            problem = ("malformed", f"{path} is unreadable: {exc}")
    if problem is not None:
        return [Stale(PIP_TARGET, path.name, *problem)]
    if expected is None or lock is None:
        return []
    return _direct_differences(path, lock, expected)


def _unhashed_form(path: Path, lock: UnhashedLock, requirements: Path) -> tuple[str, str] | None:
    """(reason, detail) when the file is not lockgen's, unsafe, of another run or edited; else None."""
    if not generated_file(path):
        return "malformed", f"{path} was not written by lockgen (no `{GENERATED_PREFIX}` first line)"
    from lockgen.lockfiles.unhashed import unhashed_problems

    problems = unhashed_problems(lock)
    if problems:
        return "malformed", f"{path}: " + "; ".join(f"line {n}: {why}" if n else why for n, why in problems)
    if input_hash_of(requirements) != lock.input_hash:
        return "inputs", f"{path} was not written with {requirements.name} (their input-hash lines differ)"
    if lock.body_edited:
        return "hand-edited", f"{path}: the lines after the header were edited after lockgen wrote them"
    return None


def _vcs_parts(url: str) -> tuple[str, str, str]:
    """A VCS URL as (where: scheme, host and path without login; the ``@ref``; ``#subdirectory=``)."""
    from urllib.parse import parse_qs

    url = url.split(" @ ", 1)[1].strip() if " @ " in url else url.strip()
    url, _, fragment = url.partition("#")
    subdirectory = parse_qs(fragment).get("subdirectory", [""])[0]
    scheme, _, rest = url.partition("://")
    host, slash, tail = rest.partition("/")
    path, at, ref = tail.rpartition("@") if "@" in tail else (tail, "", "")
    return f"{scheme}://{host.rpartition('@')[2]}{slash}{path}", ref if at else "", subdirectory


def _direct_differences(path: Path, lock: UnhashedLock, expected: DirectExpectation) -> list[Stale]:
    """Re-derive the file's lines from the pip section: every local path is computed (relative to the
    environment file's folder, ``-e`` kept), every VCS line must be one the pip section lists (same
    name, URL and subdirectory; the same commit when the pip line names a full one); what is left over
    on either side is reported."""
    import os

    from packaging.utils import canonicalize_name

    from lockgen.pypi.direct import local_line
    from lockgen.pypi.render import unhashed_body

    vcs_lines = [line for line in lock.lines if line.url is not None]
    local_lines = [line for line in lock.lines if line.url is None]
    base = Path(os.path.relpath(expected.base_dir.resolve(), path.parent.resolve())).as_posix()
    if lock.paths_base != base:  # a header line: neither digest covers it, and it moves every local path
        detail = (
            f"{path}: `# paths-base: {lock.paths_base}` is not the environment file's folder ({base} from"
            f" {path.parent.name or path.parent}), where `lockgen lock` starts local paths; edited by hand?"
        )
        return [Stale(PIP_TARGET, path.name, "hand-edited", detail)]
    used: set[int] = set()
    missing: list[str] = []
    lines_by_platform: dict[str, list[str]] = {}
    for platform, wanted in expected.lines.items():
        for direct in wanted:
            if direct.path is not None:
                relative = Path(os.path.relpath(direct.path, expected.base_dir.resolve())).as_posix()
                text = local_line(relative, direct.editable)
                found_local = [line for line in local_lines if line.text == text]
                if not found_local:
                    missing.append(f"`{direct.text}` ({direct.where})")
                used.update(line.number for line in found_local)
                lines_by_platform.setdefault(platform, []).append(text)
                continue
            where, ref, subdirectory = _vcs_parts(direct.url or "")
            name = direct.url.split(" @ ", 1)[0].strip() if direct.url and " @ " in direct.url else None
            found = next(
                (
                    line
                    for line in vcs_lines
                    if _vcs_parts(line.url or "")[0] == where
                    and _vcs_parts(line.url or "")[2] == subdirectory
                    and (name is None or canonicalize_name(line.name or "") == canonicalize_name(name))
                    and (len(ref) != 40 or _vcs_parts(line.url or "")[1] == ref)
                ),
                None,
            )
            if found is None:
                missing.append(f"`{strip_credentials(direct.text)}` ({direct.where})")
                continue
            used.add(found.number)
            lines_by_platform.setdefault(platform, []).append(found.text)
    extra = [line for line in lock.lines if line.number not in used]
    kind = {True: "VCS URL", False: "local project"}
    problems = [f"line {x.number}: `{x.text}` is not a {kind[x.url is not None]} the pip: section lists" for x in extra]
    problems += [f"{m} is not in it (or not at that URL, name or commit)" for m in dict.fromkeys(missing)]
    if problems:
        return [Stale(PIP_TARGET, path.name, "hand-edited", f"{path}: " + "; ".join(problems))]
    canonical = "".join(f"{line}\n" for line in unhashed_body(lines_by_platform, expected.targets))
    if lock.body != canonical:
        line = first_difference(lock.body, canonical)
        detail = (
            f"{path}: its lines are not those the pip: section asks for (first difference: body line {line});"
            " a VCS URL, local path or marker edited by hand?"
        )
        return [Stale(PIP_TARGET, path.name, "hand-edited", detail)]
    return []
