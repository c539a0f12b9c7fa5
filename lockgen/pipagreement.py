"""How a group's pip sections come to agree (several environments), whatever the table's order.

Each member's pip section is resolved alone first (:func:`lockgen.lock.prepare`). When members then
hold a shared package at different versions on a platform both lock (each pin where its marker
applies), :class:`PipAgreement` resolves the group's pip sections together once per platform
(:func:`union_pip_request`), and each member that differs from that on a platform is resolved again
with those pins as uv constraints (:attr:`lockgen.plan.PipRequest.agreed`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.environments import EnvTarget, pip_disagreements
from lockgen.errors import PypiResolutionError
from lockgen.lock import PreparedLock, prepare
from lockgen.lockfiles.lockdir import REQUIREMENTS_NAME, read_lock_file
from lockgen.lockfiles.requirements import Pin, PreviousLock, parse_compiled, parse_requirements_lock, read_previous
from lockgen.models import LockedPackage
from lockgen.pipprogress import PIP_LOCK_EVENTS
from lockgen.plan import LockPlan, PipPlatform, PipRequest
from lockgen.platforms import lowest_versions
from lockgen.reporting import Event, Notice, Reporter
from lockgen.secrets import SecretRegistry

if TYPE_CHECKING:
    from lockgen.pypi.mapping import MappingSource
    from lockgen.pypi.uv import PipResolver

__all__ = ["PipAgreement", "union_pip_request"]


class _QuietReporter:
    """For the group's joint pip resolution, whose result is never written: its notes and warnings
    are the members' own (they report them), only failures (exceptions) and progress pass."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    def report(self, event: Event) -> None:
        if not isinstance(event, (Notice, *PIP_LOCK_EVENTS)):
            self.reporter.report(event)


def _pins(data: bytes | None) -> PreviousLock | None:
    if data is None:
        return None
    text = data.decode("utf-8")
    return PreviousLock(parse_requirements_lock(text).inputs, parse_compiled(text))


class PipAgreement:
    """How a group's pip sections come to agree, whatever the table's order.

    Each member's pip section is resolved on its own first (as :func:`prepare` does, keeping its
    previous pins). When the members then hold a shared package at different versions, the group's
    pip sections are resolved *together* once: per platform, the union of the members' pip lines
    (members by name, not table order) against the union of their conda packages (which agree), the
    members' previous pins that agree kept as preferences. Every member whose pins differ from that
    joint resolution is resolved again with its pins as uv constraints (a package it also installs
    must be that version). The result depends on the set of members and their inputs, not their order.
    """

    def __init__(  # noqa: PLR0917
        self,
        group: str,
        members: Sequence[EnvTarget],
        plans: Mapping[str, LockPlan],
        presolved: Mapping[str, Mapping[str, tuple[LockedPackage, ...]]],
        reporter: Reporter,
        pip_resolver: PipResolver | None,
        mapping_source: MappingSource | None,
    ) -> None:
        self.group = group
        self.members = sorted((m for m in members if plans[m.name].spec.pip is not None), key=lambda m: m.name)
        self.plans = plans
        self.presolved = presolved
        """Each member's conda solutions of this run, by platform (the group's agreement)."""
        self.reporter = reporter
        self.pip_resolver = pip_resolver
        self.mapping_source = mapping_source

    def settle(self, prepared: Mapping[str, PreparedLock]) -> dict[str, PreparedLock]:
        """The members' prepared locks, those that disagreed with the group prepared again."""
        if len(self.members) < 2:
            return {}
        from lockgen.pypi.inputs import disagrees
        from lockgen.pypi.targets import pins_by_platform

        texts = {m.name: prepared[m.name].files.get(REQUIREMENTS_NAME) for m in self.members}
        alone = {n: pins_by_platform(t.decode("utf-8")) for n, t in texts.items() if t is not None}
        apart = pip_disagreements(alone)
        if not apart:
            return {}
        agreed = self._resolve_together(apart)
        settled: dict[str, PreparedLock] = {}
        for m in self.members:
            if not disagrees(_pins(texts[m.name]), agreed, alone.get(m.name, {})):
                continue
            try:
                settled[m.name] = prepare(
                    m.options,
                    self.reporter,
                    presolved=self.presolved[m.name],
                    pip_resolver=self.pip_resolver,
                    mapping_source=self.mapping_source,
                    pip_agreed=agreed,
                )
            except PypiResolutionError as exc:
                raise PypiResolutionError(
                    f"environment {m.name}: its pip section cannot use the versions group {self.group}'s"
                    f" pip sections resolved together chose:\n{exc}"
                ) from exc
        return settled

    def _resolve_together(self, apart: Sequence[str]) -> PreviousLock:
        import tempfile

        from lockgen.plan import pip_plan, pip_request
        from lockgen.pypi.stage import lock_pip_files

        requests = [(m, pip_request(pip_plan(self.plans[m.name]))) for m in self.members]
        conda: dict[str, dict[str, tuple[str, str]]] = {}
        secrets = SecretRegistry()
        for m, request in requests:
            for secret in self.plans[m.name].secrets.secrets:
                secrets.add(secret)
            for p in request.platforms:
                held = conda.setdefault(p.platform, {})
                for name, version in self._conda(m, p.platform):
                    held.setdefault(name, (name, version))
        names = ", ".join(m.name for m in self.members)
        with tempfile.TemporaryDirectory(prefix="lockgen-group-") as tmp:
            union = union_pip_request([r for _, r in requests], Path(tmp))
            try:
                text = lock_pip_files(
                    union,
                    {platform: tuple(held.values()) for platform, held in conda.items()},
                    _QuietReporter(self.reporter),
                    secrets=secrets,
                    resolver=self.pip_resolver,
                    mapping_source=self.mapping_source,
                    previous=self._previous(),
                )[REQUIREMENTS_NAME]
            except PypiResolutionError as exc:
                asks = _pip_asks([(m.name, r) for m, r in requests], [line.partition(":")[0] for line in apart])
                raise PypiResolutionError(
                    f"group {self.group}: the pip sections of {names} disagree when each is resolved alone"
                    f" ({'; '.join(apart[:3])}) and cannot be resolved together{asks}:\n{exc}",
                    exc.missing,
                ) from exc
        agreed = _pins(text)
        assert agreed is not None
        return agreed

    def _conda(self, member: EnvTarget, platform: str) -> tuple[tuple[str, str], ...]:
        found = self.presolved[member.name].get(platform)
        if found is not None:
            return tuple((p.name, p.version) for p in found)
        old = read_lock_file(member.options.output_dir / member.options.lock_name(platform)).lock
        return tuple((e.name, e.version) for e in old.entries) if old is not None else ()

    def _previous(self) -> PreviousLock:
        """The members' existing pins that they agree on (a package they pin differently is left to uv)."""
        held: dict[str, dict[str, set[tuple[str, str | None]]]] = {}
        pins: dict[tuple[str, str, str | None], Pin] = {}
        for m in self.members:
            found = read_previous(m.options.output_dir / REQUIREMENTS_NAME)
            for pin in found.pins if found is not None else ():
                held.setdefault(pin.name, {}).setdefault(m.name, set()).add((pin.version, pin.marker))
                pins.setdefault((pin.name, pin.version, pin.marker), pin)
        same = {name for name, by in held.items() if len({frozenset(v) for v in by.values()}) == 1}
        ordered = sorted(pins.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or ""))
        return PreviousLock(None, tuple(pin for key, pin in ordered if key[0] in same))


def _pip_asks(requests: Sequence[tuple[str, PipRequest]], packages: Sequence[str]) -> str:
    """``; their pip lines: helper: serve `helper==2.0` (serve.yml:5); train `helper` (environment.yml:9)``."""
    import re

    def canonical(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    wanted = {canonical(p) for p in packages}
    lines: dict[str, list[str]] = {}
    for env, request in requests:
        seen: set[str] = set()
        for p in request.platforms:
            for entry in p.entries:
                found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", entry.text)
                shown = f"{env} `{entry.text}` ({entry.location})"
                if found and canonical(found.group(0)) in wanted and shown not in seen:
                    seen.add(shown)
                    lines.setdefault(canonical(found.group(0)), []).append(shown)
    if not lines:
        return ""
    return "; their pip lines: " + "; ".join(f"{name}: {', '.join(where)}" for name, where in sorted(lines.items()))


def union_pip_request(requests: Sequence[PipRequest], output_dir: Path) -> PipRequest:
    """One pip request asking for what every one of ``requests`` asks for, platform by platform (their
    pip lines in the given order, each line once; the lower glibc/macOS where they differ)."""
    first = requests[0]
    platforms: dict[str, PipPlatform] = {}
    for request in requests:
        for p in request.platforms:
            known = platforms.get(p.platform)
            if known is None:
                platforms[p.platform] = p
                continue
            texts = {e.text for e in known.entries}
            platforms[p.platform] = replace(
                known,
                entries=(*known.entries, *(e for e in p.entries if e.text not in texts)),
                conda_dependencies=(
                    *known.conda_dependencies,
                    *(d for d in p.conda_dependencies if d not in known.conda_dependencies),
                ),
                virtual_packages=lowest_versions([*known.virtual_packages, *p.virtual_packages]),
            )
    return replace(
        first,
        platforms=tuple(platforms[name] for name in sorted(platforms)),
        sources=tuple(dict.fromkeys(s for r in requests for s in r.sources)),
        channels=tuple(dict.fromkeys(c for r in requests for c in r.channels)),
        allow_includes=tuple(dict.fromkeys(a for r in requests for a in r.allow_includes)),
        output_dir=output_dir,
        agreed=None,
    )
