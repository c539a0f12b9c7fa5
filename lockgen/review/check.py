"""``lockgen check``: are the locks present, well-formed and made from the current inputs?

No network and no solve: :func:`lockgen.plan.plan` recomputes each platform's input hash from the
environment file(s) and options, and each lock's header says what it was made from. The
breakdown after the input hash (``specs=… channels=… virtual=… options=… packages=…``) says
*which* input changed; the ``# specs:`` and ``# options:`` lines name the spec and option.

The digests in a header are not keyed: anyone can recompute them. So check also re-derives what
it can without the network: a lock's bytes must be exactly what lockgen writes for its parsed
content (no extra line, comment or option), every conda URL must lie under one of the
platform's channels in its subdir or noarch, its ``# specs:``/``# options:`` lines those the inputs
give, every spec met by a package line (:mod:`lockgen.lockspecs`), and requirements.txt's
options lines those the pip section asks for, each direct requirement pinned. What it cannot prove
is that a hash or URL is the one the channel or index serves, or that the lock is a closed
solution: ``lockgen verify`` checks that against repodata.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from lockgen.config import LockOptions
from lockgen.lockfiles import ExplicitLock, form_problem
from lockgen.lockfiles.lockdir import (
    REQUIREMENTS_NAME,
    TXN_DIR,
    UNHASHED_NAME,
    LockDir,
    LockProblem,
    claims_platform,
    generated_file,
    read_lock_file,
    stray_journal,
)
from lockgen.lockspecs import header_edits, package_problems
from lockgen.plan import LockPlan, PlatformPlan, pip_plan, plan
from lockgen.platforms import KNOWN_PLATFORMS
from lockgen.records import dataclass
from lockgen.reporting import Reporter
from lockgen.review.includes import refuse_outside_includes
from lockgen.review.pipcheck import check_pip_lock, expected_pip, read_pip_inputs
from lockgen.review.stale import Stale
from lockgen.review.unhashedcheck import check_unhashed_lock, expected_direct, needs_unhashed

__all__ = ["CHECK_JSON_FORMAT", "CheckResult", "check", "journal_stale", "render_check_json"]

JOURNAL_TARGET = "journal"
CONDA_LOCK_TARGET = "conda-lock"

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
    inputs = read_pip_inputs(pip_targets) if the_plan.spec.pip is not None else None  # once, for both files
    expected = expected_pip(pip_targets, inputs) if the_plan.spec.pip is not None else None
    stale.extend(check_pip_lock(the_plan.spec.pip is not None, pip_path, targets, expected))
    unhashed_path = out_dir / UNHASHED_NAME
    direct = expected_direct(pip_targets, inputs)
    needed = needs_unhashed(pip_targets) if direct is None else bool(direct.lines)
    if needed or unhashed_path.exists() or unhashed_path.is_symlink():
        checked.append(UNHASHED_NAME)
    stale.extend(check_unhashed_lock(needed, unhashed_path, pip_path, direct))
    if options.conda_lock_file is not None:
        checked.append(options.conda_lock_file.name)
        stale.extend(_condalock_stale(options.conda_lock_file, pip_targets))
    return CheckResult(out_dir, tuple(checked), tuple(stale))


def _condalock_stale(path: Path, targets: LockPlan) -> list[Stale]:
    """conda-lock.yml against the locks it is written with (:mod:`lockgen.condalockcheck`)."""
    from lockgen.condalockcheck import condalock_disagreements

    out_dir = targets.options.output_dir
    locks = {p.platform: read_lock_file(out_dir / p.lock_name, p.platform).lock for p in targets.platforms}
    pip_path = out_dir / REQUIREMENTS_NAME
    requirements = pip_path.read_text(encoding="utf-8", errors="replace") if pip_path.is_file() else None
    found = condalock_disagreements(path, locks, requirements)
    reason = "missing" if found and found[0].endswith("has lockgen write it") else "hand-edited"
    return [Stale(CONDA_LOCK_TARGET, path.name, reason, detail) for detail in found]


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
    edits = header_edits(platform, lock)
    if edits:
        return [Stale(platform.platform, path.name, "hand-edited", f"{path}: {edit}") for edit in edits]
    if lock.input_hash == platform.input_hash:
        found = package_problems(platform, lock)
        return [Stale(platform.platform, path.name, "hand-edited", f"{path}: {why}") for why in found]
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
        elif part == "channels":
            from lockgen.review.channelchange import channel_changes

            locked = list(dict.fromkeys(e.package.channel for e in lock.entries))
            detail = channel_changes(before[part], platform.request.channels, locked)
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


CHECK_JSON_FORMAT = 1
"""The version of ``check --format json``'s shape (docs/json.md); raised only when a field changes
meaning or goes away, never for an added field."""
# A pattern, compiled when first used (re's cache): an up-to-date check or no-op lock never uses it.
_PLACE = r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.(?:ya?ml|txt|toml|in|cfg)):(\d+)"


def render_check_json(result: CheckResult, reused: tuple[str, ...] = ()) -> str:
    """``lockgen check --format json``: every lock examined and each reason one is stale, with the
    ``file:line`` places the reason names (docs/json.md)."""
    import json

    def places(detail: str) -> list[dict[str, object]]:
        found = dict.fromkeys((m[1], int(m[2])) for m in re.finditer(_PLACE, detail))
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
