"""``lockgen check``: are the locks present, well-formed and made from the current inputs?

No network and no solve: :func:`lockgen.plan.plan` recomputes each platform's input hash from the
environment file(s) and options, and each lock's header says what it was made from. The
breakdown after the input hash (``specs=… channels=… virtual=… options=… packages=…``) says
*which* input changed; the ``# specs:`` and ``# options:`` lines name the spec and option.

The digests in a header are not keyed: anyone can recompute them. So check also re-derives what
it can without the network: a lock's bytes must be exactly what lockgen writes for its parsed
content (no extra line, comment or option), every conda URL must lie under one of the
platform's channels in its subdir or noarch, and requirements.txt's options lines must be those
the pip section asks for. What it cannot prove is that a hash or URL is the one the channel or
index serves: ``lockgen verify`` checks that against repodata.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.config import LockOptions
from lockgen.errors import InputError
from lockgen.lockfiles import (
    GENERATED_PREFIX,
    TXN_DIR,
    ExplicitLock,
    first_difference,
    form_problem,
    stray_journal,
)
from lockgen.lockfiles.lockdir import (
    LINKED_FILE,
    LockDir,
    LockProblem,
    claims_platform,
    generated_file,
    read_lock_file,
)
from lockgen.lockfiles.requirements import (
    REQUIREMENTS_NAME,
    UNHASHED_NAME,
    RequirementsLock,
    body_digest,
    input_hash_of,
    is_direct_line,
    parse_requirements_lock,
    render_body,
)
from lockgen.lockfiles.unhashed import UnhashedLock, read_unhashed, unhashed_problems
from lockgen.plan import LockPlan, PlatformPlan, pip_plan, pip_request, plan
from lockgen.platforms import KNOWN_PLATFORMS
from lockgen.reporting import Reporter
from lockgen.review.includes import refuse_outside_includes
from lockgen.secrets import strip_credentials

if TYPE_CHECKING:
    from lockgen.pypi.requirements import DirectRequirement

__all__ = [
    "CHECK_JSON_FORMAT",
    "PIP_TARGET",
    "CheckResult",
    "Stale",
    "check",
    "check_pip_lock",
    "check_unhashed_lock",
    "journal_stale",
    "render_check_json",
]

PIP_TARGET = "pip"
JOURNAL_TARGET = "journal"

_PART_REASONS = {
    "specs": "spec changed",
    "channels": "channels changed",
    "virtual": "option changed: virtual packages (--cuda, --virtual-package or platform defaults)",
    "options": "option changed: channel priority, --exclude-newer, --hash or lock format",
}
_OPTION_NAMES = {
    "format": "lock format",
    "channel-priority": "--channel-priority",
    "exclude-newer": "--exclude-newer",
    "hash": "--hash",
}


@dataclass(frozen=True, slots=True)
class Stale:
    """One reason a lock is not up to date."""

    target: str
    """A platform (``linux-64``) or :data:`PIP_TARGET`."""
    file: str
    """The lock file's name inside the output directory."""
    reason: str
    """A stable code: missing, malformed, hand-edited, specs, channels, virtual, options, inputs, removed, extra,
    moved."""
    detail: str
    """A sentence for people."""

    def __str__(self) -> str:
        return f"{self.target}: {self.detail}"


@dataclass(frozen=True, slots=True)
class CheckResult:
    output_dir: Path
    checked: tuple[str, ...]
    """The lock files that were examined and found up to date or stale, in order."""
    stale: tuple[Stale, ...]

    @property
    def ok(self) -> bool:
        return not self.stale

    def stale_targets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.target for s in self.stale))


def check(options: LockOptions, reporter: Reporter | None = None) -> CheckResult:
    """Compare every lock under ``options.output_dir`` with what ``lockgen lock`` would make it from."""
    the_plan = plan(options, reporter)
    out_dir = options.output_dir
    stale: list[Stale] = journal_stale(out_dir)  # reported, never applied: check writes nothing
    checked: list[str] = []
    for platform in the_plan.platforms:
        checked.append(platform.lock_name)
        stale.extend(check_platform_lock(platform, out_dir / platform.lock_name, the_plan))
    stale.extend(_removed_platforms(the_plan, out_dir))
    stale.extend(_decoys(the_plan, out_dir))
    stale.extend(_left_behind(options))
    pip_path = out_dir / REQUIREMENTS_NAME
    if the_plan.spec.pip is not None or pip_path.is_file():
        checked.append(REQUIREMENTS_NAME)
    pip_targets = pip_plan(the_plan)  # requirements.txt serves every target, also under -p
    refuse_outside_includes(pip_targets)  # before any pip input is read: nothing outside the project unasked
    targets = tuple(p.platform for p in pip_targets.platforms)
    expected = _expected_pip(pip_targets) if the_plan.spec.pip is not None else None
    stale.extend(check_pip_lock(the_plan.spec.pip is not None, pip_path, targets, expected))
    unhashed_path = out_dir / UNHASHED_NAME
    expected_direct = _expected_direct(pip_targets)
    needed = _needs_unhashed(pip_targets) if expected_direct is None else bool(expected_direct.lines)
    if needed or unhashed_path.exists() or unhashed_path.is_symlink():
        checked.append(UNHASHED_NAME)
    stale.extend(check_unhashed_lock(needed, unhashed_path, pip_path, expected_direct))
    return CheckResult(out_dir, tuple(checked), tuple(stale))


def _needs_unhashed(the_plan: LockPlan) -> bool | None:
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


def _expected_direct(pip_targets: LockPlan) -> DirectExpectation | None:
    """The VCS/local lines the pip section asks for, per platform (None: the section cannot be read)."""
    spec, options = pip_targets.spec, pip_targets.options
    if spec.pip is None:
        return DirectExpectation({}, (), spec.base_dir)
    from lockgen.pypi.requirements import parse_pip_entries  # only with a pip section: keeps check light

    try:
        inputs = {
            p.platform: parse_pip_entries(spec.pip_entries(p.platform), options.allow_includes)
            for p in pip_targets.platforms
        }
    except InputError:
        return None
    lines = {platform: pip.direct for platform, pip in inputs.items() if pip.direct}
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




def journal_stale(out_dir: Path) -> list[Stale]:
    """A journal in ``out_dir``, reported (check never applies one)."""
    txn = stray_journal(out_dir)
    if txn is None:
        return []
    detail = (
        f"{txn} is a lock-file journal; check never applies one. If a `lockgen lock` on this machine was"
        f" killed, run `lockgen lock` to finish it; if it came with a commit or pull request, delete it"
        f" (`rm -r {txn}`) and never commit it"
    )
    return [Stale(JOURNAL_TARGET, TXN_DIR, "journal", detail)]


def _decoys(the_plan: LockPlan, out_dir: Path) -> list[Stale]:
    """``*.txt`` files the filename template does not name that still claim a platform."""
    found = []
    for path in LockDir(out_dir, the_plan.options.filename_template).others():
        try:
            head = path.read_text(encoding="utf-8", errors="replace").splitlines()[:50]
        except OSError:
            continue
        if claims_platform("\n".join(head)):
            detail = (
                f"{path} claims a platform but is not named by the filename template"
                f" ({the_plan.options.filename_template}): only those files are locks; remove or rename it"
            )
            found.append(Stale("decoy", path.name, "malformed", detail))
    return found


def _left_behind(options: LockOptions) -> list[Stale]:
    """Locks in the default folder (``locks/`` beside the environment file) while [tool.lockgen] output-dir
    points elsewhere: pyproject.toml comes with a pull request, and moving output-dir to a pristine copy
    would otherwise leave the edited locks that users install from unchecked."""
    if "output-dir" not in options.from_config:
        return []
    project = options.files[0].absolute().parent if options.files else Path.cwd()
    default = project / "locks"
    if not default.is_dir() or default.resolve() == options.output_dir.resolve():
        return []
    names = [*LockDir(default, "{platform}.txt").names(), REQUIREMENTS_NAME, UNHASHED_NAME]
    left = [name for name in sorted(names) if generated_file(default / name)]
    if not left:
        return []
    detail = (
        f"{default} still holds lock files ({', '.join(left)}) but [tool.lockgen] output-dir is"
        f" {options.output_dir}: locks live in one place; remove the old ones (or set output-dir back)"
    )
    return [Stale("output-dir", "locks", "moved", detail)]


def _read(path: Path) -> tuple[ExplicitLock | None, str | None, str]:
    """The parsed lock and its text, or None and why not."""
    read = read_lock_file(path)
    if read.problem is LockProblem.MISSING:
        return None, "missing", ""
    if read.problem is LockProblem.MALFORMED:
        return None, f"is malformed: {read.error}", read.text
    if read.problem is not None:
        return None, f"is unreadable: {read.error}", ""
    return read.lock, None, read.text


def check_platform_lock(platform: PlatformPlan, path: Path, the_plan: LockPlan) -> list[Stale]:
    """Why the lock at ``path`` is not what ``lockgen lock`` would keep for ``platform`` (empty: up to date)."""
    lock, problem, text = _read(path)
    if lock is not None:
        problem = _form_problem(lock, platform, text)
    if lock is None or problem is not None:
        if problem == "missing":
            return [
                Stale(platform.platform, path.name, "missing", f"{path} is missing (platform added, or never locked)")
            ]
        reason = "hand-edited" if problem and problem.startswith(("package lines", "line ")) else "malformed"
        return [Stale(platform.platform, path.name, reason, f"{path}: {problem}")]
    if lock.input_hash == platform.input_hash:
        return []
    return _changed_inputs(platform, lock, path, the_plan)


def _form_problem(lock: ExplicitLock, platform: PlatformPlan, text: str) -> str | None:
    return form_problem(lock, text, platform.platform, {c.canonical for c in platform.request.channels})


def _changed_inputs(platform: PlatformPlan, lock: ExplicitLock, path: Path, the_plan: LockPlan) -> list[Stale]:
    before = dict(lock.input_parts)
    now = dict(platform.input_parts)
    changed = [part for part in now if part in before and before[part] != now[part]]
    if not changed:
        why = "inputs changed" if before else "inputs changed (the lock predates the input breakdown)"
        return [Stale(platform.platform, path.name, "inputs", f"{why} since {path} was written")]
    found = []
    for part in changed:
        detail = _PART_REASONS[part]
        if part == "specs":
            detail = _spec_changes(platform, lock) or detail + _spec_detail(platform, lock, the_plan)
        elif part == "options":
            detail = _option_changes(platform, lock) or f"{detail} (the lock predates the `# options:` line)"
        elif part == "virtual" and lock.virtual is not None:
            detail = _virtual_changes(platform, lock) or detail
        found.append(Stale(platform.platform, path.name, part, detail))
    return found


def _option_changes(platform: PlatformPlan, lock: ExplicitLock) -> str | None:
    """``option changed: --hash from md5 to sha256`` (None when the lock has no ``# options:`` line)."""
    if lock.options is None:
        return None
    before = dict(lock.options)
    changes = [
        f"{_OPTION_NAMES.get(key, key)} from {before.get(key, '(not recorded)')} to {value}"
        for key, value in platform.options
        if before.get(key) != value
    ]
    return "option changed: " + "; ".join(changes) if changes else None


def _virtual_changes(platform: PlatformPlan, lock: ExplicitLock) -> str | None:
    """``option changed: virtual packages: __cuda 12.6 in the lock, none now`` (from ``# virtual-packages:``)."""

    def by_name(texts: Iterable[str]) -> dict[str, str]:
        return {name: rest.removesuffix("=0") for name, _, rest in (t.partition("=") for t in texts)}

    before = by_name(lock.virtual or ())
    now = by_name(str(v) for v in platform.request.virtual_packages)
    changes = [
        f"{name} {before.get(name, 'none')} in the lock, {now.get(name, 'none')} now"
        for name in sorted(set(before) | set(now))
        if before.get(name) != now.get(name)
    ]
    if not changes:
        return None
    return f"option changed: virtual packages (--cuda, --virtual-package): {'; '.join(changes)}"


def _spec_changes(platform: PlatformPlan, lock: ExplicitLock) -> str | None:
    """Each spec added, removed or edited since the lock, with file:line (None without a ``# specs:`` line)."""
    from lockgen.models import dependency_name

    if lock.specs is None:
        return None
    from lockgen.secrets import redact

    shown = [redact(s) if "://" in s else s for s in platform.request.specs]  # as the writer masks them
    origins = dict(zip(shown, platform.request.origins, strict=False))
    removed = [spec for spec in lock.specs if spec not in origins]
    changes = []
    for spec, origin in origins.items():
        if spec in lock.specs:
            continue
        old = next((r for r in removed if dependency_name(r) == dependency_name(spec)), None)
        if old is not None:
            removed.remove(old)
            changes.append(f"`{old}` became `{spec}` ({origin})")
        else:
            changes.append(f"`{spec}` added ({origin})")
    files = ", ".join(lock.sources) or "the environment file"
    changes += [f"`{spec}` removed from {files}" for spec in removed]
    return "spec changed: " + "; ".join(changes) if changes else None


def _spec_detail(platform: PlatformPlan, lock: ExplicitLock, the_plan: LockPlan) -> str:
    """Name the specs whose package the lock lacks; else point at the edited file."""
    locked = {e.name for e in lock.entries}
    deps = the_plan.spec.conda_dependencies(platform.platform)
    missing = [d for d in deps if d.name not in locked]
    if missing:
        shown = ", ".join(f"`{d.spec}` ({d.location})" for d in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        return f": not in the lock: {shown}{more}"
    files = ", ".join(the_plan.source_names)
    return f" in {files} (a constraint edited or a spec removed)"


def _removed_platforms(the_plan: LockPlan, out_dir: Path) -> list[Stale]:
    """Locks of platforms that are no longer targets (not when -p chose a subset)."""
    if the_plan.explicit_platforms or not out_dir.is_dir():
        return []
    targeted = {p.lock_name for p in the_plan.platforms}
    found = []
    for platform in sorted(KNOWN_PLATFORMS):
        name = the_plan.options.lock_name(platform)
        path = out_dir / name
        if name in targeted or not path.is_file():
            continue
        if generated_file(path):
            found.append(Stale(platform, name, "removed", f"platform removed: {path} is no longer a target"))
    return found


@dataclass(frozen=True, slots=True)
class PipExpectation:
    """What check can re-derive about requirements.txt without the network."""

    digest: str
    """``pip=`` on the input-hash line: the pip lines and every file they include."""
    options: tuple[str, ...] | None
    """The options lines lockgen writes for this pip section (None when the section cannot be read)."""
    lines: tuple[str, ...] = ()
    """What the pip lock is made from now, readable (see :func:`lockgen.pypi.digests.pip_source_lines`)."""
    where: tuple[tuple[str, str], ...] = ()
    """A pip line's text → its ``file:line``."""


def _expected_pip(pip_targets: LockPlan) -> PipExpectation:
    from lockgen.pypi.digests import pip_source_lines, pip_sources_digest
    from lockgen.pypi.header import option_lines
    from lockgen.pypi.requirements import parse_pip_entries

    try:
        inputs = [parse_pip_entries(pip_targets.spec.pip_entries(p.platform)) for p in pip_targets.platforms]
        options: tuple[str, ...] | None = option_lines(inputs)
    except InputError:
        options = None
    request = pip_request(pip_targets)
    entries = [e for p in pip_targets.platforms for e in pip_targets.spec.pip_entries(p.platform)]
    where = {e.text.strip(): str(e.location) for e in entries}
    return PipExpectation(pip_sources_digest(request), options, pip_source_lines(request), tuple(where.items()))


def check_pip_lock(
    has_pip_section: bool,
    path: Path,
    platforms: tuple[str, ...] = (),
    expected: PipExpectation | str | None = None,
) -> list[Stale]:
    """The pip lock exists exactly when the environment has a ``pip:`` section, was written by
    lockgen for the current pip lines and target platforms, and its body is exactly what lockgen
    writes: the ``body=`` digest matches, pins are in lockgen's form and order, and the options
    lines are those the pip section asks for (``expected.options``).

    The pip lock's full input hash needs the conda solution and the name mapping (maybe the
    network), so this judges the ``pip=`` digest, the platforms and the body; ``expected`` may be
    a bare ``pip=`` digest.
    """
    exists = path.is_file()
    if has_pip_section and not exists:
        return [Stale(PIP_TARGET, path.name, "missing", f"{path} is missing but the environment has a pip: section")]
    if not has_pip_section and exists:
        return [Stale(PIP_TARGET, path.name, "extra", f"{path} exists but the environment has no pip: section")]
    if not exists:
        return []
    if path.is_symlink():
        return [Stale(PIP_TARGET, path.name, "malformed", f"{path} {LINKED_FILE}")]
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Stale(PIP_TARGET, path.name, "malformed", f"{path} is unreadable: {exc}")]
    if isinstance(expected, str):
        expected = PipExpectation(expected, None)
    return _pip_header_problems(path, text, platforms, expected)


def _pip_header_problems(
    path: Path, text: str, platforms: tuple[str, ...], expected: PipExpectation | None
) -> list[Stale]:
    def stale(reason: str, detail: str) -> list[Stale]:
        return [Stale(PIP_TARGET, path.name, reason, detail)]

    lock = parse_requirements_lock(text)
    if not lock.generated:
        return stale("malformed", f"{path} was not written by lockgen (no `{GENERATED_PREFIX}` first line)")
    if lock.input_hash is None or not lock.input_hash.startswith("sha256:"):
        return stale("malformed", f"{path} has no `# input-hash:` line")
    tokens = dict(lock.parts)
    if "body" not in tokens:
        detail = f"{path} has no body= digest on its input-hash line (written by an older lockgen, or edited)"
        return stale("inputs", detail)
    changed = _pip_inputs_changed(path, lock, platforms, expected)
    if changed:
        return changed
    if tokens["body"] != body_digest(lock.body):
        return stale("hand-edited", f"{path}: the lines after the header were edited after lockgen wrote them")
    return _pip_body_problems(path, lock, expected)


def _pip_inputs_changed(
    path: Path, lock: RequirementsLock, platforms: tuple[str, ...], expected: PipExpectation | None
) -> list[Stale]:
    """The target platforms first (re-locking a subset with -p is not a pip change), then the pip lines."""
    was = lock.platforms
    if was is not None and platforms and sorted(was) != sorted(platforms):
        detail = f"platforms changed: {path} was resolved for {', '.join(was)}; targets are {', '.join(platforms)}"
        return [Stale(PIP_TARGET, path.name, "platforms", detail)]
    if expected is not None and dict(lock.parts).get("pip") != expected.digest:
        named = _pip_line_changes(lock.pip_lines, expected) if lock.pip_lines is not None else None
        detail = named or f"spec changed: the pip: section (or a file it includes) changed since {path} was written"
        return [Stale(PIP_TARGET, path.name, "specs", detail)]
    return []


_DIGEST_TAIL = re.compile(r" (?:metadata )?[0-9a-f]{12}$")


def _pip_key(line: str) -> str:
    """What pairs an old pip line with its edited form: the requirement's name, an included file's
    path, a local project's line (without their digests)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    if _DIGEST_TAIL.search(line):
        return _DIGEST_TAIL.sub("", line)
    try:
        return canonicalize_name(Requirement(line.split(" #", 1)[0].strip()).name)
    except InvalidRequirement:
        return line


def _pip_line_changes(before: tuple[str, ...], expected: PipExpectation) -> str | None:
    """``spec changed: `rich>=13` became `rich>=14` (environment.yml:12); ...`` from the lock's
    ``# pip-lines:`` and now (None when they are the same: what changed is not recorded there)."""
    where = dict(expected.where)
    now = expected.lines
    removed = [line for line in before if line not in now]
    changes = []
    for line in now:
        if line in before:
            continue
        key = _pip_key(line)
        old = next((r for r in removed if _pip_key(r) == key), None)
        place = where.get(line) or where.get(key)
        place = place or next((w for text, w in where.items() if text.endswith(f" {key}")), None)
        at = f" ({place})" if place else ""
        if old is not None:
            removed.remove(old)
            if _DIGEST_TAIL.search(line):
                what = "its dependency metadata" if " metadata " in line else "its contents"
                changes.append(f"`{key}`: {what} changed{at}")
            else:
                changes.append(f"`{old}` became `{line}`{at}")
        else:
            changes.append(f"`{line}` added{at}")
    changes += [f"`{line}` removed" for line in removed]
    return "spec changed: " + "; ".join(changes) if changes else None


def _pip_body_problems(path: Path, lock: RequirementsLock, expected: PipExpectation | None) -> list[Stale]:
    """Re-derive the body from its own pins and the expected options: any other byte was added by hand."""
    body = lock.body
    written = lock.option_lines()
    options = expected.options if expected is not None and expected.options is not None else None
    if options is not None:
        extra = [line for line in written if line not in options]
        if extra:
            detail = f"{path}: options line `{extra[0]}` is not one the pip: section asks for (added by hand?)"
            return [Stale(PIP_TARGET, path.name, "hand-edited", detail)]
    canonical = render_body(options if options is not None else tuple(written), lock.pins())
    if body != canonical:
        line = first_difference(body, canonical)
        detail = f"{path}: body line {line} is not as lockgen writes it (a line, option or hash edited by hand)"
        return [Stale(PIP_TARGET, path.name, "hand-edited", detail)]
    return []


CHECK_JSON_FORMAT = 1
"""The version of ``check --format json``'s shape (docs/json.md); raised only when a field changes
meaning or goes away, never for an added field."""
_PLACE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.(?:ya?ml|txt|toml|in|cfg)):(\d+)")


def render_check_json(result: CheckResult, reused: tuple[str, ...] = ()) -> str:
    """``lockgen check --format json``: every lock examined and each reason one is stale, with the
    ``file:line`` places the reason names (docs/json.md)."""
    import json

    def places(detail: str) -> list[dict[str, object]]:
        found = dict.fromkeys((m[1], int(m[2])) for m in _PLACE.finditer(detail))
        return [{"file": file, "line": line} for file, line in found]

    data = {
        "format": CHECK_JSON_FORMAT,
        "ok": result.ok,
        "output_dir": str(result.output_dir),
        "checked": list(result.checked),
        "reused_options": list(reused),
        "stale": [
            {"target": s.target, "file": s.file, "reason": s.reason, "detail": s.detail, "places": places(s.detail)}
            for s in result.stale
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
