"""A lock run's pip step: begun beside the conda solve, finished with its solutions.

:func:`start_pip` begins :class:`lockgen.pypi.start.PipStart` before conda solves (the mapping and
the pip lines are read meanwhile, each platform's uv starts with its conda solution); :func:`pip_files`
hands every platform's conda packages (this run's solutions, or the locks it keeps) to
:func:`lockgen.pypi.stage.lock_pip_files` for requirements.txt (and requirements-unhashed.txt), or
removes them when the environment has no pip section.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from lockgen.errors import OutputError
from lockgen.lockfiles import ExplicitLock, is_generated
from lockgen.lockfiles.lockdir import REQUIREMENTS_NAME, UNHASHED_NAME, read_lock_file
from lockgen.models import LockedPackage
from lockgen.plan import LockPlan, pip_plan, pip_request
from lockgen.records import dataclass
from lockgen.reporting import Reporter

if TYPE_CHECKING:
    from lockgen.frompins import PreviousPins
    from lockgen.lockfiles.requirements import PreviousLock
    from lockgen.pypi.mapping import MappingSource
    from lockgen.pypi.start import PipStart
    from lockgen.pypi.summary import PipSummary
    from lockgen.pypi.uv import PipResolver

__all__ = ["PipStage", "pip_files", "pip_seed", "pip_summary", "start_pip"]


@dataclass(frozen=True, slots=True)
class PipStage:
    """How the pip section is locked: the resolver and mapping source (None: uv, parselmouth), and
    ``seed`` (from ``--from``), which replaces the existing requirements.txt as the pins to keep."""

    resolver: PipResolver | None = None
    mapping_source: MappingSource | None = None
    seed: PreviousLock | None = None
    agreed: PreviousLock | None = None
    """Several environments: the pins the group's pip sections agreed on (PipRequest.agreed)."""
    started: PipStart | None = None
    """Begun while conda solved (:func:`start_pip`): its mapping, pip lines and early uv runs are used."""


def start_pip(
    the_plan: LockPlan,
    reporter: Reporter,
    resolver: PipResolver | None,
    mapping_source: MappingSource | None,
    pins: PreviousPins | None,
) -> PipStart:
    """The pip stage, begun before the conda solve (mapping and pip lines read meanwhile, each platform's
    uv started with its conda solution when uv runs in any case): see lockgen.pypi.start.PipStart."""
    from lockgen.pypi.start import PipStart

    return PipStart(
        pip_request(pip_plan(the_plan)),
        reporter,
        the_plan.secrets,
        resolver=resolver,
        mapping_source=mapping_source,
        previous=pip_seed(pins),
    )


def pip_files(
    the_plan: LockPlan,
    solutions: Mapping[str, tuple[LockedPackage, ...]],
    previous: Mapping[str, ExplicitLock | None],
    reporter: Reporter,
    stage: PipStage,
) -> dict[str, bytes | None]:
    """The pip section's lock, or its removal when the environment has no pip section."""
    if the_plan.spec.pip is None:
        unhashed = the_plan.options.output_dir / UNHASHED_NAME
        ours = unhashed.is_file() and is_generated(unhashed.read_bytes())
        return {REQUIREMENTS_NAME: None, **({UNHASHED_NAME: None} if ours else {})}
    from lockgen.pypi.stage import lock_pip_files  # not on the conda-only path: it loads packaging and the mapping code

    targets = pip_plan(the_plan)
    conda: dict[str, tuple[tuple[str, str], ...]] = {}
    for p in targets.platforms:
        if p.platform in solutions:
            conda[p.platform] = tuple((pkg.name, pkg.version) for pkg in solutions[p.platform])
            continue
        old = previous.get(p.platform) or read_lock_file(the_plan.options.output_dir / p.lock_name).lock
        if old is None:
            raise OutputError(f"{p.lock_name} is missing or malformed; run `lockgen lock` for {p.platform}")
        conda[p.platform] = tuple((e.name, e.version) for e in old.entries)
    request = pip_request(targets)
    return lock_pip_files(
        replace(request, agreed=stage.agreed) if stage.agreed is not None else request,
        conda,
        reporter,
        secrets=the_plan.secrets,
        resolver=stage.resolver,
        mapping_source=stage.mapping_source,
        previous=stage.seed,
        started=stage.started,
    )


def pip_seed(pins: PreviousPins | None) -> PreviousLock | None:
    if pins is None:
        return None
    from lockgen.migrate import pip_previous

    return pip_previous(pins)


def pip_summary(text: bytes | None) -> PipSummary | None:
    if text is None:
        return None
    from lockgen.pypi.summary import summarize_requirements

    return summarize_requirements(text.decode("utf-8", errors="replace"))
