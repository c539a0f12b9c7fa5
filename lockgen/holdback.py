"""Why not newer? What holds a locked package at its version, found by asking the solver.

The question a reviewer has when a lock keeps (or moves to) an older version. The answer is
found by solving, not guessed from dependency lists:

1. the platform's request asking for ``NAME >VERSION`` (the environment file's spec for NAME narrowed,
   see :func:`_probed`): if that solves, nothing holds NAME back (the lock keeps its version because
   locks move only when asked: ``lockgen lock --update NAME``), unless the newer one is in a later
   channel: then strict channel priority is why ``--update NAME`` alone would not move it;
2. else the same request without one of the environment file's specs at a time: each spec whose
   removal lets a newer NAME in is a cause (with the version it would allow);
3. for each cause, the conflict chain: the cause's dependencies in the locked solution and the newer
   NAME's dependencies in the solution without the cause meet at a package they need in different
   versions (``tensorboard → grpcio → libgrpc → libabseil 20240116`` but ``pytorch 2.12 → libtorch →
   libabseil >=20260107``).

This module solves (it is at ``lock``'s layer, above ``conda``); ``review`` shows its answer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import cmp_to_key

from lockgen.channels import ResolvedChannel
from lockgen.conda import CondaSolver
from lockgen.conda.match import narrowed
from lockgen.config import LockOptions
from lockgen.errors import ConfigError, SolveError
from lockgen.lockfiles.lockdir import read_lock_file
from lockgen.matchspec import spec_matches
from lockgen.models import LockedPackage, conda_version_order, dependency_name
from lockgen.plan import LockPlan, plan
from lockgen.records import dataclass
from lockgen.solverequest import SolveRequest

__all__ = ["MAX_PROBES", "Blocker", "HoldBack", "why_not_newer"]

MAX_PROBES = 40
"""At most this many specs are tried one at a time (each is one solve)."""


@dataclass(frozen=True, slots=True)
class Blocker:
    """A spec of the environment file without which a newer NAME solves."""

    spec: str
    origin: str
    """``environment.yml:9``."""
    newer: str
    """The version of NAME the solve takes without this spec."""
    chain: tuple[str, ...] = ()
    """From the spec's package in the lock to where it meets NAME's needs: ``tensorboard 2.20.0``, ...,
    ``libabseil 20240116.2`` (empty when the solutions share no package in two versions)."""
    newer_chain: tuple[str, ...] = ()
    """From the newer NAME to the same package in the solution without the spec, the last one as the
    requirement that asks for it: ``pytorch 2.12.0``, ``libtorch 2.12.0``, ``libabseil >=20260107.1,...``."""
    gap: str = ""
    """Set when the spec's own package is what the newer NAME's builds disagree with and no build of the
    newer NAME works with the spec at all (a solve of the two alone fails): what the build a solve
    without the spec takes comes with (``python 3.14.0``). A gap in what the channels publish (no
    ``pytorch 2.12.0`` for ``python=3.12``), not a conflict another spec could resolve."""


@dataclass(frozen=True, slots=True)
class HoldBack:
    name: str
    platform: str
    version: str
    """The version in the lock."""
    newer: str | None
    """Set when a newer version solves with every spec kept: nothing holds NAME back."""
    blockers: tuple[Blocker, ...] = ()
    tried: int = 0
    """How many specs were tried one at a time."""
    held_by: tuple[str, str] | None = None
    """With ``newer``: (the channel the lock takes NAME from, the later channel that has the newer one)
    when strict channel priority is why ``--update NAME`` alone would not move it."""

    @property
    def lines(self) -> list[str]:
        """The answer for people (explain prints it; diff shows it for a downgraded named package)."""
        head = f"why not newer than {self.name} {self.version} on {self.platform}:"
        if self.newer is not None and self.held_by is not None:
            first, later = self.held_by
            return [
                head,
                f"  strict channel priority: {self.name} comes from {first}, the first listed channel that has"
                f" it, which has nothing newer; {later} has {self.name} {self.newer}, and a solve that asks for"
                f" it (`{self.name} >{self.version}` in the environment file) takes it; `--update {self.name}`"
                " alone does not",
            ]
        if self.newer is not None:
            return [
                head,
                f"  nothing in the environment holds it back: a solve takes {self.name} {self.newer};"
                f" locks move only when asked: `lockgen lock --update {self.name}`",
            ]
        if not self.blockers:
            return [
                head,
                f"  no newer {self.name} solves, and removing any one of the {self.tried} specs does not change"
                " that (none published for this platform, or several specs hold it together)",
            ]
        lines = [head]
        for blocker in self.blockers:
            if blocker.gap:
                lines.append(
                    f"  `{blocker.spec}` ({blocker.origin}): no build of {self.name} {blocker.newer} in the"
                    f" channels installs with it on {self.platform} (a gap in the channels' builds, not a conflict;"
                    f" without the spec, {self.name} {blocker.newer} solves with {blocker.gap})"
                )
                continue
            lines.append(
                f"  `{blocker.spec}` ({blocker.origin}): without it, {self.name} {blocker.newer} solves"
            )
            if blocker.chain and blocker.newer_chain:
                lines.append(f"    {' → '.join(blocker.chain)}")
                lines.append(f"    but {' → '.join(blocker.newer_chain[:-1])} needs `{blocker.newer_chain[-1]}`")
        return lines


def why_not_newer(
    options: LockOptions, name: str, platform: str, solver: CondaSolver | None = None
) -> HoldBack:
    """What holds ``name`` at its version in ``platform``'s lock (see the module's docstring).

    Raises ConfigError when the lock or the package is not there; SolveError or ChannelError from a
    solve that must succeed (the locked solution itself) or repodata that cannot be read."""
    the_plan = plan(replace(options, platforms=(platform,)))
    planned = next(p for p in the_plan.platforms if p.platform == platform)
    read = read_lock_file(options.output_dir / planned.lock_name)
    if read.lock is None:
        raise ConfigError(f"{options.output_dir / planned.lock_name}: no lock to explain ({read.error or 'missing'})")
    wanted = name.strip().lower()
    entry = read.lock.by_name().get(wanted)
    if entry is None:
        raise ConfigError(f"{wanted} is not in {options.output_dir / planned.lock_name}")
    solver = solver or _default_solver(options, the_plan)
    base = replace(planned.request, preferred=())
    recorded = dict(read.lock.options or ())
    if base.exclude_newer is None and recorded.get("exclude-newer", "none") != "none":
        from lockgen.toolconfig import parse_date  # the lock was made with it: ask the same question

        base = replace(base, exclude_newer=parse_date(recorded["exclude-newer"]))
    planned = replace(planned, request=replace(planned.request, exclude_newer=base.exclude_newer))

    def attempt(request: SolveRequest) -> tuple[LockedPackage, ...] | None:
        try:
            return solver.solve([request])[platform]
        except SolveError:
            return None

    free = attempt(_probed(base, wanted, entry.version))
    if free is not None:
        newer = next(p for p in free if p.name == wanted)
        return HoldBack(wanted, platform, entry.version, newer.version, held_by=_priority(base, entry.url, newer.url))
    specs = list(zip(base.specs, base.origins or ("",) * len(base.specs), strict=True))
    candidates = [(spec, origin) for spec, origin in specs if dependency_name(spec) != wanted][:MAX_PROBES]
    # NAME's own spec with a version or build (`numpy<2.3`) is the first suspect: a cap the file sets itself
    own = [(spec, origin) for spec, origin in specs if dependency_name(spec) == wanted and spec.strip() != wanted]
    capped: list[Blocker] = []
    for spec, origin in own:
        solved = attempt(_probed(_without(base, spec), wanted, entry.version))
        moved = None if solved is None else _version(solved, wanted)
        if moved is not None and moved != "?" and conda_version_order(moved, entry.version) > 0:
            capped.append(Blocker(spec, origin, moved))
    causes: list[tuple[str, str, tuple[LockedPackage, ...]]] = []
    for spec, origin in candidates:
        solved = attempt(_probed(_without(base, spec), wanted, entry.version))
        if solved is not None:
            causes.append((spec, origin, solved))
    tried = len(candidates) + len(own)
    if not causes and not capped:
        return HoldBack(wanted, platform, entry.version, None, (), tried)
    found = capped
    if causes:
        preferred = tuple(e.url for e in read.lock.entries)
        locked = solver.solve([replace(planned.request, preferred=preferred)])[platform]
        found += [_blocker(spec, origin, wanted, locked, solved) for spec, origin, solved in causes]
    found = [_gap(blocker, base, wanted, attempt) for blocker in found]
    # the cause that lets the newest version in first: the one that holds it back the most
    blockers = tuple(sorted(found, key=cmp_to_key(_newest_first)))
    return HoldBack(wanted, platform, entry.version, None, blockers, tried)


def _gap(
    blocker: Blocker, base: SolveRequest, name: str, attempt: Callable[[SolveRequest], object | None]
) -> Blocker:
    """``blocker`` with :attr:`Blocker.gap` kept when its spec's own package is where the newer ``name``
    disagrees (:func:`_blocker` sets it then) and ``name ==NEWER`` with that spec alone does not solve:
    no such build is published; else cleared (a conflict, shown by the chains)."""
    if not blocker.gap or len(blocker.chain) != 1:
        return blocker
    alone = replace(base, specs=(f"{name} =={blocker.newer}", blocker.spec), origins=(), preferred=())
    return replace(blocker, gap="") if attempt(alone) is not None else blocker


def _newest_first(a: Blocker, b: Blocker) -> int:
    return conda_version_order(b.newer, a.newer)


def _default_solver(options: LockOptions, the_plan: LockPlan) -> CondaSolver:
    from lockgen.lock import rattler_solver

    return rattler_solver(options, the_plan.secrets)


def _probed(request: SolveRequest, name: str, version: str) -> SolveRequest:
    """``request`` asking for ``name`` newer than ``version``: the environment file's own spec for it
    narrowed (``pytorch>=2.0`` → ``pytorch >=2.0,>2.1.0``), else a spec added. Narrowing matters:
    under strict channel priority each spec picks its candidates from the first channel that has the
    name, so a second spec beside ``pytorch>=2.0`` could never reach a later channel's newer build."""
    for index, spec in enumerate(request.specs):
        if dependency_name(spec) == name:
            merged = narrowed(spec, version)
            if merged is not None:
                specs = (*request.specs[:index], merged, *request.specs[index + 1 :])
                return replace(request, specs=specs)
            break
    return _with(request, f"{name} >{version}")


def _priority(request: SolveRequest, locked_url: str, newer_url: str) -> tuple[str, str] | None:
    """(the channel the lock takes NAME from, the later channel the newer one is in) when they differ
    under strict priority: asking for a newer version reaches the later channel, but a plain
    ``--update`` keeps taking NAME from the first channel that has it."""
    if request.channel_priority != "strict":
        return None

    def channel_of(url: str) -> ResolvedChannel | None:
        return next((c for c in request.channels if url.startswith(c.canonical + "/")), None)

    first, later = channel_of(locked_url), channel_of(newer_url)
    if first is None or later is None or first is later:
        return None

    def shown(channel: ResolvedChannel) -> str:
        where = f" ({channel.origin})" if channel.origin else ""
        return f"`{channel.written or channel.name}`{where}"

    return shown(first), shown(later)


def _with(request: SolveRequest, spec: str) -> SolveRequest:
    origins = (*request.origins, "probe") if request.origins else ()
    return replace(request, specs=(*request.specs, spec), origins=origins)


def _without(request: SolveRequest, spec: str) -> SolveRequest:
    keep = [i for i, s in enumerate(request.specs) if s != spec]
    origins = tuple(request.origins[i] for i in keep) if request.origins else ()
    return replace(request, specs=tuple(request.specs[i] for i in keep), origins=origins)


def _version(packages: Sequence[LockedPackage], name: str) -> str:
    return next((p.version for p in packages if p.name == name), "?")


def _paths(packages: Mapping[str, LockedPackage], root: str) -> dict[str, tuple[tuple[str, str], ...]]:
    """Shortest dependency path from ``root`` to every package it reaches: (name, the requirement naming it)."""
    paths: dict[str, tuple[tuple[str, str], ...]] = {root: ((root, root),)}
    queue = deque([root])
    while queue:
        current = queue.popleft()
        for dep in packages[current].depends:
            dep_name = dependency_name(dep)
            if dep_name in packages and dep_name not in paths:
                paths[dep_name] = (*paths[current], (dep_name, dep))
                queue.append(dep_name)
    return paths


def _blocker(
    spec: str, origin: str, name: str, locked: Sequence[LockedPackage], solved: Sequence[LockedPackage]
) -> Blocker:
    """The cause and where its dependencies (in the lock) meet the newer NAME's (in the solve without it)."""
    now = {p.name: p for p in locked}
    then = {p.name: p for p in solved}
    newer = _version(solved, name)
    root = dependency_name(spec)
    if root not in now or name not in then:
        return Blocker(spec, origin, newer)
    mine = _paths(now, root)
    theirs = _paths(then, name)
    clashes = []  # (length, package met, the newer side's path to the package that asks for it, its requirement)
    for met in mine:
        if met == name or met not in then or now[met].version == then[met].version:
            continue
        held = now[met]
        for parent, path in theirs.items():
            for dep in then[parent].depends:
                if spec_matches(dep, met, held.version, held.build, held.subdir) is False:
                    clashes.append((len(mine[met]) + len(path), met, path, dep))
    if not clashes:
        return Blocker(spec, origin, newer)
    _, met, path, dep = min(clashes, key=lambda c: (c[0], c[1], len(c[3])))
    chain = tuple(f"{n} {now[n].version}" for n, _ in mine[met])
    newer_chain = (*(f"{n} {then[n].version}" for n, _ in path), dep)
    candidate = f"{met} {then[met].version}" if met == root else ""  # confirmed (or dropped) by _gap
    return Blocker(spec, origin, newer, chain, newer_chain, candidate)
