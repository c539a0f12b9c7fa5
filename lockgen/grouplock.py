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

The pip sections agree whatever the table's order (:class:`lockgen.pipagreement.PipAgreement`): each member's pip
section is resolved alone; when members then hold a shared package at different versions on a
platform both lock (each pin where its marker applies), the group's pip sections are resolved
together once per platform, and each member that differs from that on a platform is resolved
again with those pins as uv constraints (:attr:`lockgen.plan.PipRequest.agreed`).

Solving environments one after the other, pinning what the earlier ones chose, would depend on the
order (the first member's newest numpy may be one the second cannot use) and blame the wrong
file; the union finds the agreement whenever one exists.

Everything else is the single-environment code, run once per environment: :func:`lockgen.plan.plan`,
:func:`lockgen.lock.prepare` (given the solutions through ``presolved``), the pip stage. All solves
of all environments go through one solver, so each channel/subdir's repodata is fetched and loaded
once, and the solves run concurrently as the memory budget allows (``--jobs``). Nothing is written
until every environment's files are computed; then one journaled commit at the output root writes
them all (:func:`lockgen.lockfiles.commit.commit_files` with ``<environment>/<file>`` names), so a failure
or a Ctrl-C anywhere leaves every environment's previous locks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.conda import CondaSolver
from lockgen.environments import EnvTarget, check_group_platforms, disagreements
from lockgen.errors import ConfigError, SolveError
from lockgen.lock import LockResult, PreparedLock, pending_requests, prepare, rattler_solver
from lockgen.lockfiles.commit import CommitResult, commit_files, recover
from lockgen.lockfiles.lockdir import read_lock_file
from lockgen.models import LockedPackage
from lockgen.pipagreement import PipAgreement
from lockgen.plan import LockPlan, plan
from lockgen.platforms import lowest_versions
from lockgen.records import dataclass
from lockgen.reporting import Event, Notice, NullReporter, Reporter
from lockgen.secrets import SecretRegistry
from lockgen.solverequest import SolveRequest

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
    preferred = tuple(dict.fromkeys(url for _, r in members for url in r.preferred))
    return replace(
        first,
        specs=tuple(specs),
        origins=tuple(origins),
        channels=tuple(channels),
        virtual_packages=lowest_versions([v for _, r in members for v in r.virtual_packages]),
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
    from lockgen.channels import split_channel_spec
    from lockgen.matchspec import spec_matches
    from lockgen.models import dependency_name, sort_dependency_order

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
    secrets = SecretRegistry()
    for the_plan in plans.values():
        for secret in the_plan.secrets.secrets:
            secrets.add(secret)
    return rattler_solver(targets[0].options, secrets, reporter)


class _OnceReporter:
    """Passes each note or warning on once: several environments read the same file."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.seen: set[Notice] = set()

    def report(self, event: Event) -> None:
        if isinstance(event, Notice) and not event.repeated:
            if event in self.seen:
                return
            self.seen.add(event)
        self.reporter.report(event)


def lock_environments(
    targets: Sequence[EnvTarget],
    reporter: Reporter | None = None,
    solver: CondaSolver | None = None,
    *,
    pip_resolver: PipResolver | None = None,
    mapping_source: MappingSource | None = None,
) -> tuple[EnvironmentLock, ...]:
    """Lock every environment of ``targets`` (whole groups: see :func:`lockgen.environments.with_groups`).

    Every solve and every pip resolution happens before anything is written; then all environments'
    files are committed at once, all or nothing (one journal at the output root)."""
    once = _OnceReporter(reporter or NullReporter())
    if not targets:  # -p chose no platform any environment targets
        return ()
    root = targets[0].options.output_dir.parent  # each environment's folder is <output-dir>/<name>
    if root.is_dir():
        recover(root, state_dirs=targets[0].options.state_dirs)
    for target in targets:
        if target.options.from_lock is not None or target.options.conda_lock_file is not None:
            raise ConfigError(
                "--from and --conda-lock-file lock one environment; with [tool.lockgen.environments]"
                " they are not supported yet"
            )
    plans = {t.name: plan(t.options, once) for t in targets}
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
        solved = _solve(solver or _default_solver(targets, plans, once), first, unions, every)

    prepared: dict[str, PreparedLock] = {}
    for target in targets:
        prepared[target.name] = prepare(
            target.options,
            once,
            presolved=_presolved(target, every, solved),
            pip_resolver=pip_resolver,
            mapping_source=mapping_source,
        )
    for members in groups.values():
        group = members[0].environment.group
        if group and len(members) > 1:
            presolved = {m.name: _presolved(m, every, solved) for m in members}
            agreement = PipAgreement(group, members, plans, presolved, once, pip_resolver, mapping_source)
            prepared.update(agreement.settle(prepared))
    return _commit_all(root, targets, prepared)


def _presolved(
    target: EnvTarget, every: Mapping[str, Mapping[str, SolveRequest]], solved: Mapping[str, tuple[LockedPackage, ...]]
) -> dict[str, tuple[LockedPackage, ...]]:
    return {p: solved[_key(target.name, p)] for p in every[target.name] if _key(target.name, p) in solved}


def _commit_all(
    root: Path, targets: Sequence[EnvTarget], prepared: Mapping[str, PreparedLock]
) -> tuple[EnvironmentLock, ...]:
    """Commit every environment's files in one journaled commit at the output root: all or nothing
    across environments (a failure or Ctrl-C before the commit point leaves every previous set)."""
    files = {f"{t.name}/{name}": data for t in targets for name, data in prepared[t.name].files.items()}
    done = commit_files(root, files, state_dirs=targets[0].options.state_dirs)

    def mine(names: tuple[str, ...], env: str) -> tuple[str, ...]:
        return tuple(n.split("/", 1)[1] for n in names if n.split("/", 1)[0] == env)

    return tuple(
        EnvironmentLock(
            t.name,
            prepared[t.name].result(
                CommitResult(mine(done.written, t.name), mine(done.unchanged, t.name), mine(done.removed, t.name))
            ),
        )
        for t in targets
    )


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
