"""``check`` over several environments (``[tool.lockgen.environments]``): each environment's locks
as :func:`lockgen.review.check.check` judges them, and each group's agreement.

The agreement is checked on the lock files themselves (no network): on every platform two members
of a group both have a lock for, a package they share must have one version and build. A lock made
for one environment alone (``lockgen lock -f ... -o locks/gpu``) that drifted from its group is
stale here even when its own inputs did not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from lockgen.environments import EnvTarget, disagreements, pip_disagreements
from lockgen.lockfiles.lockdir import REQUIREMENTS_NAME, generated_file, read_lock_file
from lockgen.platforms import KNOWN_PLATFORMS
from lockgen.reporting import Reporter
from lockgen.review.check import CheckResult, check, journal_stale
from lockgen.review.stale import Stale

__all__ = ["check_environments"]


def check_environments(targets: Sequence[EnvTarget], output_dir: Path, reporter: Reporter | None = None) -> CheckResult:
    """Every environment's locks (targets and files named ``<environment>/<file>``) and each group's agreement."""
    checked: list[str] = []
    stale: list[Stale] = []
    for target in targets:
        result = check(target.options, reporter)
        checked += [f"{target.name}/{name}" for name in result.checked]
        stale += [replace(s, target=f"{target.name}/{s.target}", file=f"{target.name}/{s.file}") for s in result.stale]
    stale += _group_disagreements(targets)
    stale += _strays(output_dir)
    stale += journal_stale(output_dir)  # several environments commit with one journal at the output root
    return CheckResult(output_dir, tuple(checked), tuple(stale))


def _strays(output_dir: Path) -> list[Stale]:
    """Locks lockgen wrote straight into the output folder (the layout before the table): no
    environment owns them, so nothing checks them; they are reported until deleted."""
    try:
        entries = sorted(output_dir.iterdir()) if output_dir.is_dir() and not output_dir.is_symlink() else []
    except OSError:
        entries = []
    return [
        Stale(
            "stray",
            path.name,
            "extra",
            f"{path.name} is no environment's lock (with [tool.lockgen.environments] locks live in"
            f" {output_dir}/<environment>/): delete it",
        )
        for path in entries
        if not path.is_symlink() and path.is_file() and generated_file(path)
    ]


def _direct_first(lines: list[str], members: Sequence[EnvTarget]) -> list[str]:
    """The packages the members' environment files name first (what a reviewer asked for), then the rest."""
    from lockgen.errors import InputError
    from lockgen.spec.envfile import load_env_specs

    named: set[str] = set()
    for m in members:
        try:
            named |= {d.name for d in load_env_specs(m.options.files, m.options.limits.input_files).dependencies}
        except InputError:  # check() reports the file's problems; this is only an order
            continue
    return sorted(lines, key=lambda line: line.partition(":")[0] not in named)


def _group_disagreements(targets: Sequence[EnvTarget]) -> list[Stale]:
    groups: dict[str, list[EnvTarget]] = {}
    for target in targets:
        if target.environment.group:
            groups.setdefault(target.environment.group, []).append(target)
    found: list[Stale] = []
    for group, members in groups.items():
        if len(members) < 2:
            continue
        for platform in sorted(KNOWN_PLATFORMS):
            locks = {}
            for m in members:
                lock = read_lock_file(m.options.output_dir / m.options.lock_name(platform)).lock
                if lock is not None:
                    locks[m.name] = lock.entries
            if len(locks) < 2:
                continue
            lines = _direct_first(disagreements(locks), members)
            if lines:
                more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
                found.append(
                    Stale(
                        f"group {group}",
                        ", ".join(f"{n}/{members[0].options.lock_name(platform)}" for n in locks),
                        "disagree",
                        f"{platform}: {', '.join(locks)} do not agree: {'; '.join(lines[:3])}{more};"
                        " run `lockgen lock` to lock the group together",
                    )
                )
        found += _pip_disagreements(group, members)
    return found


def _pip_disagreements(group: str, members: Sequence[EnvTarget]) -> list[Stale]:
    """The pip locks of a group: a package two of them pin on one platform must have the same
    version(s) there (each pin's marker read per platform, as ``lock`` resolves them)."""
    from lockgen.pypi.targets import pins_by_platform  # only with several environments: keeps check light

    pins = {}
    for m in members:
        try:
            text = (m.options.output_dir / REQUIREMENTS_NAME).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        pins[m.name] = pins_by_platform(text, m.options.platforms or m.options.config_platforms or ())
    lines = pip_disagreements(pins)
    if not lines:
        return []
    more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
    return [
        Stale(
            f"group {group}",
            ", ".join(f"{m.name}/{REQUIREMENTS_NAME}" for m in members),
            "disagree",
            f"pip: {'; '.join(lines[:3])}{more}; run `lockgen lock` to lock the group together",
        )
    ]
