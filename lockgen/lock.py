"""The ``lock`` pipeline: spec → channels → conda solve per platform → pip → lock files.

:func:`lockgen.plan.plan` computes, without network, what each platform's lock depends on (its
input hash); ``check`` uses the same plan. :func:`lock` solves what is out of date and commits all
files at once, or none when any platform fails. The solver, the pip resolver and the conda→PyPI
mapping source are parameters: tests drive the orchestrator with fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.changes import PlatformChange, platform_change
from lockgen.channels import check_mirror_directory
from lockgen.config import LockOptions
from lockgen.errors import ConfigError, Problem
from lockgen.lockfiles import ExplicitLock, form_problem, render_explicit
from lockgen.lockfiles.commit import CommitResult, commit_files, recover
from lockgen.lockfiles.lockdir import REQUIREMENTS_NAME, UNHASHED_NAME, generated_file, read_lock_file
from lockgen.lockpip import PipStage, pip_files, pip_seed, pip_summary, start_pip
from lockgen.models import LockedPackage
from lockgen.plan import LockPlan, PlatformPlan, plan
from lockgen.platforms import KNOWN_PLATFORMS
from lockgen.records import dataclass
from lockgen.reporting import Notice, NullReporter, Reporter
from lockgen.solverequest import SolveRequest

if TYPE_CHECKING:
    from lockgen.conda import CondaSolver, PinnedOffers
    from lockgen.export import CondaLockTarget
    from lockgen.frompins import PreviousPins
    from lockgen.lockfiles.requirements import PreviousLock
    from lockgen.pypi.mapping import MappingSource
    from lockgen.pypi.start import PipStart
    from lockgen.pypi.summary import PipSummary
    from lockgen.pypi.uv import PipResolver
    from lockgen.secrets import SecretRegistry

__all__ = ["LockResult", "PreparedLock", "lock", "pending_requests", "prepare"]


@dataclass(frozen=True, slots=True)
class LockResult:
    output_dir: Path
    changes: tuple[PlatformChange, ...]
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    notes: tuple[Problem, ...] = field(default=())
    pip: PipSummary | None = None
    """What requirements.txt holds per platform (None without a pip section)."""
    started_from: tuple[str, ...] = field(default=())
    """With ``--from``: per platform, how many of its pins were kept, which moved and why."""
    written_beside: tuple[str, ...] = field(default=())
    """Files written outside ``output_dir`` (``--conda-lock-file conda-lock.yml``), as paths."""

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed or self.written_beside)


def _read_previous(path: Path) -> ExplicitLock | None:
    return read_lock_file(path).lock




def _preferred(previous: ExplicitLock | None, options: LockOptions) -> tuple[str, ...]:
    if previous is None or options.update_all:
        return ()
    frozen = {n.lower() for n in options.update}
    return tuple(e.url for e in previous.entries if e.name not in frozen)


@dataclass(frozen=True, slots=True)
class PreparedLock:
    """Every file one environment's lock writes (None: remove it), computed and not yet committed."""

    output_dir: Path
    files: dict[str, bytes | None]
    changes: tuple[PlatformChange, ...]
    notes: tuple[Problem, ...]
    started_from: tuple[str, ...] = ()
    condalock: CondaLockTarget | None = None
    condalock_files: dict[str, bytes] = field(default_factory=dict)

    def result(self, commit: CommitResult, beside: tuple[str, ...] = ()) -> LockResult:
        return LockResult(
            self.output_dir,
            self.changes,
            commit.written,
            commit.unchanged,
            commit.removed,
            self.notes,
            pip_summary(self.files.get(REQUIREMENTS_NAME)),
            self.started_from,
            beside,
        )


def lock(
    options: LockOptions,
    reporter: Reporter | None = None,
    solver: CondaSolver | None = None,
    *,
    pip_resolver: PipResolver | None = None,
    mapping_source: MappingSource | None = None,
) -> LockResult:
    """Lock every target platform; write all files or, on any failure, none.

    ``solver`` defaults to rattler, ``pip_resolver`` to uv, ``mapping_source`` to parselmouth's download."""
    prepared = prepare(options, reporter, solver, pip_resolver=pip_resolver, mapping_source=mapping_source)
    result, beside = _commit(
        prepared.output_dir, prepared.files, prepared.condalock, prepared.condalock_files, options.state_dirs
    )
    return prepared.result(result, beside)


def _condalock_target(
    options: LockOptions, the_plan: LockPlan, previous: Mapping[str, ExplicitLock | None]
) -> CondaLockTarget | None:
    """What ``--conda-lock-file`` asks for; None without it (lockgen.export, loaded only then)."""
    if not options.conda_lock_file:
        return None
    from lockgen.export import CondaLockTarget

    return CondaLockTarget.for_options(options, the_plan, previous)


def prepare(
    options: LockOptions,
    reporter: Reporter | None = None,
    solver: CondaSolver | None = None,
    *,
    pip_resolver: PipResolver | None = None,
    mapping_source: MappingSource | None = None,
    presolved: Mapping[str, tuple[LockedPackage, ...]] | None = None,
    pip_agreed: PreviousLock | None = None,
) -> PreparedLock:
    """What :func:`lock` writes, computed (solves, pip stage) and not committed.

    ``presolved``: the solutions of exactly the platforms to write anew, solved beforehand (several
    environments solved together, :mod:`lockgen.grouplock`, which commits every environment at once);
    the other platforms keep their locks. ``pip_agreed``: pins the pip section must agree with (its
    group's agreement)."""
    reporter = reporter or NullReporter()
    the_plan = plan(options, reporter)  # the environment file's problems first
    for mirror in options.mirrors:  # even when nothing needs solving: the option itself is wrong
        check_mirror_directory(mirror)
    out_dir = options.output_dir
    if out_dir.is_dir():
        recover(out_dir, state_dirs=options.state_dirs)
    previous = {p.platform: _read_previous(out_dir / p.lock_name) for p in the_plan.platforms}
    pins, previous = _started_pins(options, previous)
    _check_update_names(options, the_plan, previous)
    condalock = _condalock_target(options, the_plan, previous)
    forced = options.update_all or bool(options.update) or (condalock is not None and not condalock.current)
    to_solve = [
        p for p in the_plan.platforms if forced or not _up_to_date(previous[p.platform], p, out_dir / p.lock_name)
    ]
    if condalock is not None and to_solve:  # conda-lock.yml holds every platform's records: solve them all
        to_solve = list(the_plan.platforms)
    solutions: dict[str, tuple[LockedPackage, ...]] = {}
    if to_solve:
        for note in the_plan.solve_notes:
            reporter.report(Notice(note))
    # the pip stage begins with the solve, unless a group's agreed pins (several environments) shape its jobs
    unset = all(x is None for x in (presolved, pip_agreed, solver))
    pip_start = (
        start_pip(the_plan, reporter, pip_resolver, mapping_source, pins)
        if unset and to_solve and the_plan.spec.pip is not None
        else None
    )
    if presolved is not None:
        solutions = {p.platform: presolved[p.platform] for p in the_plan.platforms if p.platform in presolved}
    elif to_solve:
        if solver is None:
            solver = _rattler_solver(options, the_plan, reporter, pip_start)
        requests = [_with_preferred(p.request, _preferred(previous[p.platform], options)) for p in to_solve]
        solutions = _solve_beside_pip(solver, requests, pins, the_plan, pip_start)
    offers: Mapping[str, PinnedOffers] = getattr(solver, "offers", None) or {}
    files: dict[str, bytes | None] = {}
    changes: list[PlatformChange] = []
    for p in the_plan.platforms:
        if p.platform in solutions:
            text = render_explicit(
                p.platform,
                solutions[p.platform],
                p.input_hash,
                the_plan.source_names,
                options.hash_kind,
                input_parts=p.input_parts,
                specs=p.request.specs,
                options=p.options,
                virtual=[str(v) for v in p.request.virtual_packages],
            )
            files[p.lock_name] = text.encode()
            direct = frozenset(d.name for d in the_plan.spec.dependencies)
            changes.append(platform_change(p.platform, previous[p.platform], solutions[p.platform], direct))
        else:
            old = previous[p.platform]
            assert old is not None
            changes.append(PlatformChange(p.platform, len(old.entries), reused=True))
    files.update(_stale_platform_files(the_plan, out_dir))
    pip = PipStage(pip_resolver, mapping_source, pip_seed(pins), pip_agreed, pip_start)
    files.update(pip_files(the_plan, solutions, previous, reporter, pip))
    started: tuple[str, ...] = ()
    if pins is not None:
        started = _started_from(
            the_plan, pins, solutions, offers, files.get(REQUIREMENTS_NAME), files.get(UNHASHED_NAME)
        )
    return PreparedLock(
        out_dir,
        files,
        tuple(changes),
        tuple(the_plan.spec.notes),
        started,
        condalock,
        condalock.files(the_plan, solutions, files, reporter) if condalock else {},
    )


def _rattler_solver(
    options: LockOptions, the_plan: LockPlan, reporter: Reporter, pip_start: PipStart | None
) -> CondaSolver:
    """The default solver; it tells ``pip_start`` each platform's solution as soon as it has it."""
    on_solved = pip_start.solved_packages if pip_start is not None else None
    return rattler_solver(options, the_plan.secrets, reporter, on_solved=on_solved)


def rattler_solver(
    options: LockOptions,
    secrets: SecretRegistry,
    reporter: Reporter | None = None,
    *,
    on_solved: Callable[[str, tuple[LockedPackage, ...]], None] | None = None,
) -> CondaSolver:
    """The rattler solver with this run's settings (cache, offline, jobs, timeouts, repodata limits):
    the one place lock, several environments and "why not newer" build it."""
    from lockgen.conda import RattlerSolver

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
        on_solved=on_solved,
        http=options.limits.http,
    )


_SCREEN_LINES = 40


def _solve_beside_pip(
    solver: CondaSolver,
    requests: list[SolveRequest],
    pins: PreviousPins | None,
    the_plan: LockPlan,
    pip_start: PipStart | None,
) -> dict[str, tuple[LockedPackage, ...]]:
    """:func:`_solve`, with the pip stage begun beside it: closed when the solve fails; otherwise
    waited for until each platform's uv has its job (:meth:`PipStart.launched`), so that the last
    platform's uv starts before this process renders its files (docs/performance.md, round 6)."""
    try:
        solutions = _solve(solver, requests, pins, the_plan)
    except BaseException:
        if pip_start is not None:
            pip_start.close()
        raise
    if pip_start is not None:
        pip_start.launched()
    return solutions


def _solve(
    solver: CondaSolver, requests: list[SolveRequest], pins: PreviousPins | None, the_plan: LockPlan
) -> dict[str, tuple[LockedPackage, ...]]:
    """Solve. With ``--from``, a failure still says what the migration did where it could: the
    summary of the platforms that solved comes first, then the failure (kept to one screen), and
    pins that conda's flexible priority chose are named."""
    from lockgen.errors import SolveError

    try:
        return solver.solve(requests)
    except SolveError as exc:
        if pins is None:
            raise
        offers: Mapping[str, PinnedOffers] = getattr(solver, "offers", None) or {}
        partial: Mapping[str, tuple[LockedPackage, ...]] = getattr(solver, "solved", None) or {}
        from lockgen.migrate import SolveFacts, flexible_note, flexible_pins

        names: set[str] = set()
        for p in the_plan.platforms:
            seed = pins.conda.get(p.platform)
            if seed is not None and p.platform in offers:
                facts = SolveFacts(offers=offers[p.platform], channel_priority=p.request.channel_priority)
                names |= set(flexible_pins(seed, facts))
        if not names and not partial:
            raise
        lines: list[str] = []
        if partial:
            conda_only = replace(pins, pip={})  # pip was not locked: say nothing of its pins
            summary = _started_from(the_plan, conda_only, partial, offers, None)
            lines += [line for line in summary if not line.startswith("kept ")]
        failed = [p.platform for p in the_plan.platforms if p.platform not in partial]
        lines.append(f"nothing was written: {', '.join(failed)} could not be solved:")
        body = str(exc).splitlines()
        if len(body) > _SCREEN_LINES:
            more = len(body) - _SCREEN_LINES
            body = [*body[:_SCREEN_LINES], f"  ... {more} more lines of the solver's explanation"]
        lines += body
        if names:
            lines.append(flexible_note(sorted(names)))
        error = SolveError("\n".join(lines), exc.platforms)
        error.details = exc.details  # the solver's whole explanation, for -v
        raise error from exc


def _check_update_names(options: LockOptions, the_plan: LockPlan, previous: Mapping[str, ExplicitLock | None]) -> None:
    """``--update NAME`` must name a package of the environment or its locks (conda or pip): a typo
    would otherwise re-solve and move nothing, and exit 0."""
    if not options.update:
        return
    import difflib
    import re

    from lockgen.lockfiles.requirements import read_previous

    def canonical(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    known = {d.name for d in the_plan.spec.dependencies}
    known |= {e.name for old in previous.values() if old is not None for e in old.entries}
    for entry in the_plan.spec.pip or ():
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", entry.text)
        if match and not entry.text.startswith("-"):
            known.add(match.group(0))
    pip_lock = read_previous(options.output_dir / REQUIREMENTS_NAME)
    known |= {p.name for p in pip_lock.pins} if pip_lock is not None else set()
    by_canonical = {canonical(n): n for n in known}
    unknown = [n for n in dict.fromkeys(options.update) if canonical(n) not in by_canonical]
    if not unknown:
        return
    lines = []
    for name in unknown:
        close = difflib.get_close_matches(canonical(name), sorted(by_canonical), n=3, cutoff=0.7)
        guess = f"; did you mean {', '.join(f'`{by_canonical[c]}`' for c in close)}?" if close else ""
        lines.append(f"--update {name}: no package of that name in the environment or its locks{guess}")
    raise ConfigError("\n".join(lines))


def pending_requests(options: LockOptions, the_plan: LockPlan, *, force: bool = False) -> list[SolveRequest]:
    """The requests :func:`lock` would solve for ``the_plan`` (out of date, or all with ``force``,
    ``--update`` or ``--update-all``), each preferring its previous lock's packages."""
    out_dir = options.output_dir
    if out_dir.is_dir():
        recover(out_dir, state_dirs=options.state_dirs)
    previous = {p.platform: _read_previous(out_dir / p.lock_name) for p in the_plan.platforms}
    forced = force or options.update_all or bool(options.update)
    return [
        _with_preferred(p.request, _preferred(previous[p.platform], options))
        for p in the_plan.platforms
        if forced or not _up_to_date(previous[p.platform], p, out_dir / p.lock_name)
    ]


def _started_pins(
    options: LockOptions, previous: dict[str, ExplicitLock | None]
) -> tuple[PreviousPins | None, dict[str, ExplicitLock | None]]:
    """With ``--from``, its pins replace the previous locks (a platform it lacks keeps lockgen's own)."""
    if options.from_lock is None:
        return None, previous
    from lockgen.migrate import load_pins

    pins = load_pins(options.from_lock)
    return pins, {platform: pins.conda.get(platform) or old for platform, old in previous.items()}


def _commit(
    out_dir: Path,
    files: dict[str, bytes | None],
    condalock: CondaLockTarget | None,
    extra: dict[str, bytes],
    state_dirs: tuple[Path, ...],
) -> tuple[CommitResult, tuple[str, ...]]:
    """Commit the locks (with the conda-lock file when it lives in the output directory), then a
    conda-lock file elsewhere in its own all-or-nothing commit (docs/from-conda-lock.md); the second
    value names that file when it was written."""
    adopt = {condalock.path.name: condalock.adopt} if condalock is not None and condalock.adopt is not None else None
    if condalock is not None and condalock.in_output_dir:
        files.update(extra)
        return commit_files(out_dir, files, adopt, state_dirs=state_dirs), ()
    result = commit_files(out_dir, files, state_dirs=state_dirs)
    if condalock is None:
        return result, ()
    side = commit_files(condalock.path.parent, extra, adopt, state_dirs=state_dirs)
    return result, tuple(str(condalock.path) for _ in side.written)


def _started_from(  # noqa: PLR0917
    the_plan: LockPlan,
    pins: PreviousPins,
    solutions: Mapping[str, tuple[LockedPackage, ...]],
    offers: Mapping[str, PinnedOffers],
    requirements: bytes | None,
    unhashed: bytes | None = None,
) -> tuple[str, ...]:
    """The ``--from`` summary of the platforms in ``solutions``."""
    from lockgen.errors import PypiResolutionError
    from lockgen.migrate import PlatformOutcome, SolveFacts, summarize
    from lockgen.pypi.targets import pip_target

    outcomes = []
    for p in the_plan.platforms:
        facts = SolveFacts(
            tuple(zip(p.request.specs, p.request.origins, strict=False)),
            tuple(v.name for v in p.request.virtual_packages),
            offers.get(p.platform),
            tuple(c.canonical for c in p.request.channels),
            p.request.channel_priority,
            p.request.exclude_newer,
        )
        solution = solutions.get(p.platform)
        pairs = [(pkg.name, pkg.version) for pkg in solution or ()]
        try:
            environment = pip_target(p.platform, pairs, p.request.virtual_packages).marker_environment()
        except PypiResolutionError:
            environment = None
        lines = tuple((e.text, str(e.location)) for e in the_plan.spec.pip_entries(p.platform))
        outcomes.append(PlatformOutcome(p.platform, solution, facts, environment, lines))
    return summarize(pins, outcomes, requirements, unhashed, tuple(the_plan.spec.platforms or ()))


def _up_to_date(previous: ExplicitLock | None, platform: PlatformPlan, path: Path) -> bool:
    """The lock was made from these inputs and is byte for byte what lockgen writes (as ``check`` judges)."""
    if previous is None or previous.input_hash != platform.input_hash:
        return False
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if form_problem(previous, text, platform.platform, {c.canonical for c in platform.request.channels}) is not None:
        return False
    from lockgen.lockspecs import header_edits, package_problems  # here: a new lock is held to nothing

    return not header_edits(platform, previous) and not package_problems(platform, previous)


def _with_preferred(request: SolveRequest, preferred: tuple[str, ...]) -> SolveRequest:
    return replace(request, preferred=preferred)


def _stale_platform_files(the_plan: LockPlan, out_dir: Path) -> dict[str, bytes | None]:
    """Locks of platforms no longer targeted are removed (unless -p chose a subset)."""
    if the_plan.explicit_platforms or not out_dir.is_dir():
        return {}
    targeted = {p.lock_name for p in the_plan.platforms}
    stale: dict[str, bytes | None] = {}
    for platform in KNOWN_PLATFORMS:
        name = the_plan.options.lock_name(platform)
        path = out_dir / name
        if name not in targeted and path.is_file() and generated_file(path):
            stale[name] = None
    return stale
