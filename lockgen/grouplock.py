"""Lock several environments in one go (``[tool.lockgen.environments]``), groups agreeing.

How a group agrees. On each platform that two or more members of a group target, lockgen first
solves the *union* of those members: every spec of each (origins keep the environment's name and
``file:line``), their channels in order, their virtual packages (the lower version where they
differ: the group must run on both). That one solution is the group's agreement. Each member then
gets the part of it that its own specs reach through their dependencies (:func:`member_solution`):
the union's solution satisfies every member's specs and is closed, so that part is a solution of
the member, it agrees with the others by construction, and it costs no second solve. Where that
part needs a virtual package the member lacks (a CUDA build chosen for the group, on a member
without CUDA), the member is solved within the agreement instead (each agreed package a rattler
*constraint*: this version and build if installed at all) and the solver says what does not fit.
Where no agreement exists, the union solve fails and the message names the group, the platform
and the specs of each environment that ask for one package differently (``file:line``).

The pip sections agree in table order: each member's pip stage runs with the pins of the group's
members locked before it as constraints (:attr:`lockgen.plan.PipRequest.agreed`), and re-resolves
when its existing pins disagree with them.

Solving environments one after the other, pinning what the earlier ones chose, would depend on the
order (the first member's newest numpy may be one the second cannot use) and blame the wrong
file; the union finds the agreement whenever one exists.

Everything else is the single-environment code, run once per environment: :func:`lockgen.plan.plan`,
:func:`lockgen.lock.lock` (given the solutions through ``presolved``), the pip stage. All solves of
all environments go through one solver, so each channel/subdir's repodata is fetched and loaded
once, and the solves run concurrently as the memory budget allows (``--jobs``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from lockgen.conda import CondaSolver, SolveRequest
from lockgen.environments import EnvTarget, check_group_platforms, disagreements
from lockgen.errors import ConfigError, PypiResolutionError, SolveError
from lockgen.lock import LockResult, lock, pending_requests
from lockgen.lockfiles.lockdir import read_lock_file
from lockgen.lockfiles.requirements import REQUIREMENTS_NAME, PreviousLock, read_previous
from lockgen.models import LockedPackage
from lockgen.plan import LockPlan, plan
from lockgen.platforms import VirtualPackage
from lockgen.reporting import NullReporter, Reporter
from lockgen.secrets import SecretRegistry

if TYPE_CHECKING:
    from lockgen.pypi.mapping import MappingSource
    from lockgen.pypi.uv import PipResolver

__all__ = ["EnvironmentLock", "agreement_constraints", "lock_environments", "union_request"]


@dataclass(frozen=True, slots=True)
class EnvironmentLock:
    name: str
    result: LockResult


def _key(name: str, platform: str) -> str:
    return f"{name}/{platform}"


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in version.replace("-", ".").split("."))


def union_request(label: str, members: Sequence[tuple[str, SolveRequest]]) -> SolveRequest:
    """One request asking for everything ``members`` (environment name, its request) ask for, on
    their (shared) platform: the group's agreement is its solution."""
    first = members[0][1]
    specs: list[str] = []
    origins: list[str] = []
    for name, request in members:
        for spec, origin in zip(request.specs, request.origins or [""] * len(request.specs), strict=True):
            if spec not in specs:
                specs.append(spec)
                origins.append(f"{name}: {origin}" if origin else name)
    channels = list(first.channels)
    for _, request in members[1:]:
        channels += [c for c in request.channels if c.canonical not in {k.canonical for k in channels}]
    virtual: dict[str, VirtualPackage] = {}
    for _, request in members:
        for package in request.virtual_packages:
            known = virtual.get(package.name)
            if known is None or _version_key(package.version) < _version_key(known.version):
                virtual[package.name] = package
    preferred = tuple(dict.fromkeys(url for _, r in members for url in r.preferred))
    return replace(
        first,
        specs=tuple(specs),
        origins=tuple(origins),
        channels=tuple(channels),
        virtual_packages=tuple(sorted(virtual.values())),
        preferred=preferred,
        label=label,
    )


def member_solution(agreed: Sequence[LockedPackage], request: SolveRequest) -> tuple[LockedPackage, ...] | None:
    """What ``request`` (a member of the group) installs of the group's solution ``agreed``: the
    packages its specs reach through their dependencies. The group's solution satisfies every
    member's specs and is closed, so this is a solution of the member, and it agrees by construction.
    None when a reached package needs a virtual package the member lacks or has in another version
    (a CUDA build chosen for the group, on a member without CUDA): the caller then solves the
    member within the agreement, and the solver says what does not fit."""
    from lockgen.conda import spec_matches
    from lockgen.models import dependency_name, sort_dependency_order
    from lockgen.spec import split_channel_spec

    by_name = {p.name: p for p in agreed}
    virtual = {v.name: v for v in request.virtual_packages}
    todo = [dependency_name(split_channel_spec(spec)[2]) for spec in request.specs]
    reached: dict[str, LockedPackage] = {}
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        package = by_name.get(name)
        if package is None:
            return None
        reached[name] = package
        for dependency in package.depends:
            needed = dependency_name(dependency)
            if not needed.startswith("__"):
                todo.append(needed)
                continue
            have = virtual.get(needed)
            if have is None or spec_matches(dependency, have.name, have.version, have.build, request.platform) is False:
                return None
    return tuple(sort_dependency_order(list(reached.values())))


def agreement_constraints(solution: Sequence[LockedPackage]) -> tuple[str, ...]:
    """Each agreed package as a constraint: this version and build if installed at all."""
    return tuple(f"{p.name} =={p.version} {p.build}" for p in solution)


@dataclass(frozen=True, slots=True)
class _Union:
    group: str
    platform: str
    label: str
    members: tuple[str, ...]


def _default_solver(targets: Sequence[EnvTarget], plans: Mapping[str, LockPlan], reporter: Reporter) -> CondaSolver:
    from lockgen.conda import RattlerSolver

    options = targets[0].options
    secrets = SecretRegistry()
    for the_plan in plans.values():
        for secret in the_plan.secrets.secrets:
            secrets.add(secret)
    return RattlerSolver(
        options.cache_dir,
        secrets,
        reporter,
        offline=options.offline,
        jobs=options.jobs,
        timeout_s=options.limits.http_timeout_s,
        retries=options.limits.http_retries,
        repodata_budget=options.limits.repodata_budget,
        repodata_max_bytes=options.limits.repodata_max_bytes,
    )


class _OnceReporter:
    """Passes each note or warning on once: several environments read the same file."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.seen: set[tuple[str, str | None, str]] = set()

    def event(self, kind: str, platform: str | None, detail: str) -> None:
        if kind in ("note", "warning"):
            if (kind, platform, detail) in self.seen:
                return
            self.seen.add((kind, platform, detail))
        self.reporter.event(kind, platform, detail)


def lock_environments(
    targets: Sequence[EnvTarget],
    reporter: Reporter | None = None,
    solver: CondaSolver | None = None,
    *,
    pip_resolver: PipResolver | None = None,
    mapping_source: MappingSource | None = None,
) -> tuple[EnvironmentLock, ...]:
    """Lock every environment of ``targets`` (whole groups: see :func:`lockgen.environments.with_groups`).

    Every solve happens before anything is written; then each environment's files are committed as
    ``lock`` commits one environment's (all or nothing per environment)."""
    reporter = _OnceReporter(reporter or NullReporter())
    for target in targets:
        if target.options.from_lock is not None or target.options.conda_lock_file is not None:
            raise ConfigError(
                "--from and --conda-lock-file lock one environment; with [tool.lockgen.environments]"
                " they are not supported yet"
            )
    plans = {t.name: plan(t.options, reporter) for t in targets}
    every = {t.name: {r.platform: r for r in pending_requests(t.options, plans[t.name], force=True)} for t in targets}
    due = {t.name: {r.platform for r in pending_requests(t.options, plans[t.name])} for t in targets}
    groups: dict[str, list[EnvTarget]] = {}
    for target in targets:
        groups.setdefault(target.environment.solve_group, []).append(target)
    for members in groups.values():
        group = members[0].environment.group
        if group and len(members) > 1:
            check_group_platforms(group, [(m.environment, set(every[m.name])) for m in members])

    first: list[SolveRequest] = []
    unions: list[_Union] = []
    for group, members in groups.items():
        platforms = list(dict.fromkeys(p for m in members for p in every[m.name]))
        for platform in platforms:
            on = [m for m in members if platform in every[m.name]]
            if not any(platform in due[m.name] for m in on) and not _locks_disagree(on, platform):
                continue  # locked together before, inputs unchanged: they still agree
            if len(on) == 1:
                first.append(replace(every[on[0].name][platform], label=_key(on[0].name, platform)))
                continue
            names = tuple(m.name for m in on)
            label = f"{group} ({', '.join(names)}) on {platform}"
            first.append(union_request(label, [(m.name, every[m.name][platform]) for m in on]))
            unions.append(_Union(group, platform, label, names))

    solved: dict[str, tuple[LockedPackage, ...]] = {}
    if first:
        solved = _solve(solver or _default_solver(targets, plans, reporter), first, unions, every)

    results: list[EnvironmentLock] = []
    agreed: dict[str, PreviousLock] = {}  # group → the pip pins of its environments locked so far
    for target in targets:
        presolved = {p: solved[_key(target.name, p)] for p in every[target.name] if _key(target.name, p) in solved}
        group = target.environment.group
        earlier = agreed.get(group) if group else None
        try:
            result = lock(
                target.options,
                reporter,
                presolved=presolved,
                pip_resolver=pip_resolver,
                mapping_source=mapping_source,
                pip_agreed=earlier,
            )
        except PypiResolutionError as exc:
            if earlier is None:
                raise
            before = ", ".join(r.name for r in results if r.name in _members(targets, group))
            raise PypiResolutionError(
                f"environment {target.name}: its pip section cannot use the versions group {group}'s"
                f" environments locked before it ({before}) chose; the first environment of a group in"
                f" [tool.lockgen.environments] leads: pin the version in its pip section or list {target.name}"
                f" first:\n{exc}"
            ) from exc
        results.append(EnvironmentLock(target.name, result))
        if group:
            agreed[group] = _merged(earlier, read_previous(target.options.output_dir / REQUIREMENTS_NAME))
    return tuple(results)


def _members(targets: Sequence[EnvTarget], group: str | None) -> set[str]:
    return {t.name for t in targets if group and t.environment.group == group}


def _merged(earlier: PreviousLock | None, new: PreviousLock | None) -> PreviousLock:
    """The group's pins so far: the earlier environments' first, then the new ones' other packages."""
    if earlier is None or new is None:
        return earlier or new or PreviousLock(None, ())
    names = {p.name for p in earlier.pins}
    return PreviousLock(None, (*earlier.pins, *(p for p in new.pins if p.name not in names)))


def _locks_disagree(members: Sequence[EnvTarget], platform: str) -> bool:
    """Whether the existing locks of ``members`` (two or more) disagree on ``platform``: made before
    they were grouped, or one re-made alone. Such a group is solved again even if no input changed."""
    if len(members) < 2:
        return False
    locks = {}
    for m in members:
        found = read_lock_file(m.options.output_dir / m.options.lock_name(platform)).lock
        locks[m.name] = found.entries if found is not None else ()
    return bool(disagreements(locks))


def _solve(
    solver: CondaSolver,
    first: Sequence[SolveRequest],
    unions: Sequence[_Union],
    every: Mapping[str, Mapping[str, SolveRequest]],
) -> dict[str, tuple[LockedPackage, ...]]:
    """Solve ``first`` (each group's union, each lone environment), then give each group member its
    part of its group's solution (or solve it within the agreement when that part does not fit)."""
    try:
        solved = dict(solver.solve(first))
    except SolveError as exc:
        raise _explain_union_failure(exc, unions, every) from exc
    second = []
    for u in unions:
        for name in u.members:
            request = every[name][u.platform]
            within = member_solution(solved[u.label], request)
            if within is not None:
                solved[_key(name, u.platform)] = within
            else:  # e.g. the group's solution needs a virtual package this member lacks: let the solver say
                constraints = agreement_constraints(solved[u.label])
                second.append(replace(request, constraints=constraints, label=_key(name, u.platform)))
    if second:
        try:
            solved.update(solver.solve(second))
        except SolveError as exc:
            which = ", ".join(exc.platforms) or "an environment"
            raise SolveError(
                f"{which}: an environment cannot use the packages its group agreed on (the group's"
                f" environments were solved together first, then each within that agreement):\n{exc}",
                exc.platforms,
            ) from exc
    _check_agreement(unions, solved)
    return solved


def _explain_union_failure(
    exc: SolveError, unions: Sequence[_Union], every: Mapping[str, Mapping[str, SolveRequest]]
) -> SolveError:
    """The solver's message, after a line per failed group naming the specs of its environments that
    ask for one package differently (``python: cpu `python=3.13` (environment.yml:5); gpu ...``)."""
    from lockgen.models import dependency_name

    lines = []
    for u in unions:
        if u.label not in exc.platforms:
            continue
        asks: dict[str, dict[str, list[str]]] = {}
        for name in u.members:
            request = every[name][u.platform]
            for spec, origin in zip(request.specs, request.origins or [""] * len(request.specs), strict=True):
                shown = f"`{spec}` ({origin})" if origin else f"`{spec}`"
                asks.setdefault(dependency_name(spec.rpartition("::")[2]), {}).setdefault(spec, []).append(
                    f"{name} {shown}"
                )
        apart = [
            f"    {package}: " + "; ".join(w for ws in specs.values() for w in ws)
            for package, specs in sorted(asks.items())
            if len(specs) > 1
        ]
        head = f"{u.group} ({', '.join(u.members)}) cannot agree on {u.platform}"
        if apart:
            lines.append(f"{head}; their specs that pull apart:\n" + "\n".join(apart))
        else:
            lines.append(
                f"{head}: no two of them ask for one package differently, the conflict is in what their"
                " specs depend on (below); `lockgen lock -e NAME` of a separate group shows each alone"
            )
    if not lines:
        return exc
    return SolveError("\n".join(lines) + "\n\n" + str(exc), exc.platforms)


def _check_agreement(unions: Sequence[_Union], solved: Mapping[str, tuple[LockedPackage, ...]]) -> None:
    """The constraints make members agree; this refuses to write locks if they somehow do not."""
    for u in unions:
        lines = disagreements({name: solved[_key(name, u.platform)] for name in u.members})
        if lines:
            raise SolveError(
                f"group {u.group} on {u.platform}: its environments do not agree:\n  " + "\n  ".join(lines),
                (u.platform,),
            )
