"""The pip stage begun while conda still solves: the mapping and the pip lines read in a thread, each
platform's uv run started as its conda solution arrives.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.errors import LockgenError
from lockgen.lockfiles.lockdir import REQUIREMENTS_NAME
from lockgen.lockfiles.requirements import PreviousLock, read_previous
from lockgen.pypi.inputs import PlatformInputs, disagrees, mapping_for, platform_inputs, read_inputs
from lockgen.pypi.jobs import write_job
from lockgen.pypi.pipinput import PipInput
from lockgen.records import dataclass
from lockgen.reporting import NullReporter, Reporter
from lockgen.secrets import SecretRegistry

if TYPE_CHECKING:
    from concurrent.futures import Future

    from lockgen.models import LockedPackage
    from lockgen.plan import PipRequest
    from lockgen.pypi.mapping import MappingSource, PypiMapping
    from lockgen.pypi.uv import CompileJob, PipResolver


@dataclass(frozen=True, slots=True)
class _Prepared:
    mapping: PypiMapping | None = None
    inputs: Mapping[str, PipInput] = field(default_factory=dict)
    error: BaseException | None = None


class PipStart:
    """The pip stage begun while conda still solves (docs/performance.md), for :func:`lock_pip_files`.

    The conda→PyPI mapping loads and the pip lines are read in a thread from the start. When uv
    runs whatever the solve gives (no earlier requirements.txt, ``--update``, ``--update-all``;
    not with ``--strict``, whose warnings need every platform), each platform's ``uv pip compile``
    starts as soon as that platform's conda solution arrives (:meth:`solved`), instead of after
    the last platform's. The files are the same: :func:`lock_pip_files` uses an early run only when
    the platform's inputs it recomputes are the ones that run was given.
    """

    def __init__(
        self,
        request: PipRequest,
        reporter: Reporter,
        secrets: SecretRegistry,
        *,
        resolver: PipResolver | None = None,
        mapping_source: MappingSource | None = None,
        previous: PreviousLock | None = None,
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.request = request
        self.secrets = secrets
        self.previous = previous if previous is not None else read_previous(request.output_dir / REQUIREMENTS_NAME)
        targets = [p.platform for p in request.platforms]
        forced = request.update_all or bool(request.update) or disagrees(self.previous, request.agreed, targets)
        self.early = (forced or self.previous is None) and not request.strict
        """Whether uv runs start per platform (uv runs in any case: nothing could be up to date)."""
        self.resolver = resolver
        if self.early and resolver is None:
            from lockgen.pypi.uv import UvResolver, find_uv

            uv = UvResolver(
                request.cache_dir, secrets, reporter, offline=request.offline, timeout_s=request.uv_timeout_s
            )
            uv.uv = find_uv()  # here, not in the runs' threads: finding it reads sysconfig, which is not thread-safe
            self.resolver = uv
        self.runs = EarlyRuns()
        self._launching: list[threading.Event] = []
        self._pool = ThreadPoolExecutor(max_workers=1 + len(request.platforms), thread_name_prefix="lockgen-pip")
        self._prepared = self._pool.submit(self._prepare, mapping_source)
        self._folder: Path | None = None
        self._folder_lock = threading.Lock()

    def _prepare(self, source: MappingSource | None) -> _Prepared:
        try:
            mapping = mapping_for(self.request, NullReporter(), source, self.secrets)
        except Exception as exc:  # raised again by lock_pip_files, where it was raised before
            return _Prepared(error=exc)
        try:
            return _Prepared(mapping, read_inputs(self.request, self.secrets))
        except Exception as exc:
            return _Prepared(mapping, error=exc)

    def prepared(self) -> _Prepared:
        return self._prepared.result()

    def solved(self, platform: str, pairs: tuple[tuple[str, str], ...]) -> None:
        """``platform``'s conda solution is known: start its uv run now (when :attr:`early`). Quick:
        called from the solver's event loop."""
        if self.early and any(p.platform == platform for p in self.request.platforms):
            launching = threading.Event()
            self._launching.append(launching)
            self.runs.add(platform, self._pool.submit(self._run, platform, pairs, launching))

    def solved_packages(self, platform: str, packages: Sequence[LockedPackage]) -> None:
        """:meth:`solved`, given the solver's packages."""
        self.solved(platform, tuple((p.name, p.version) for p in packages))

    def launched(self) -> None:
        """Wait until every run begun has handed its job to uv (or ended). The caller's next work (the
        conda files, the pip stage's own inputs) then runs while uv does, instead of contending for
        the interpreter with the Python that still stands between the last solution and its uv."""
        for launching in list(self._launching):
            launching.wait()

    def _run(self, platform: str, pairs: tuple[tuple[str, str], ...], launching: threading.Event) -> EarlyRun | None:
        try:
            prepared = self.prepared()
            if prepared.error is not None or prepared.mapping is None or self.resolver is None:
                return None
            where = next(p for p in self.request.platforms if p.platform == platform)
            item, _notes = platform_inputs(where, prepared.inputs[platform], pairs, prepared.mapping)  # shown later
            if item.target is None:
                return None
            with self._folder_lock:
                if self._folder is None:
                    self._folder = Path(tempfile.mkdtemp(prefix="lockgen-pip-"))
            job = write_job(self._folder, item, self.previous, self.request)  # one folder per platform inside
        finally:
            launching.set()
        try:
            return item, self.resolver.compile([job])
        except LockgenError as exc:  # reported by lock_pip_files, if the run was given the final inputs
            return item, exc
        finally:  # removed while other platforms' uv still run, not all at the end (hundreds of stub files)
            shutil.rmtree(self._folder / platform, ignore_errors=True)

    def close(self) -> None:
        """Wait for the runs started (a failed lock too: no uv is left running) and remove their files."""
        self._pool.shutdown(wait=True)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


EarlyRun = tuple[PlatformInputs, "dict[str, str] | LockgenError"]
"""An early uv run: the inputs it was given, and its texts or its failure."""


class EarlyRuns:
    """The uv runs :class:`PipStart` began, by platform."""

    def __init__(self) -> None:
        self._runs: dict[str, Future[EarlyRun | None]] = {}

    def add(self, platform: str, run: Future[EarlyRun | None]) -> None:
        self._runs[platform] = run

    def started(self, item: PlatformInputs) -> bool:
        """Whether ``item``'s run began early with exactly these inputs (its result, or failure, stands)."""
        run = self._runs.get(item.platform)
        if run is None or run.exception() is not None:
            return False  # an unexpected error: the platform is resolved again, where it is reported
        result = run.result()
        return result is not None and result[0] == item

    def compile(
        self, resolver: PipResolver, jobs: Sequence[CompileJob], platforms: Sequence[PlatformInputs]
    ) -> dict[str, str]:
        """The early runs' texts and those of ``jobs`` (run now, together); every failure reported."""
        from lockgen.pypi.uvstderr import combine_failures

        texts: dict[str, str] = {}
        failures: list[LockgenError] = []
        for item in platforms:
            if item.target is None or not self.started(item):
                continue
            result = self._runs[item.platform].result()
            assert result is not None
            outcome = result[1]
            if isinstance(outcome, LockgenError):
                failures.append(outcome)
            else:
                texts.update(outcome)
        if jobs:
            try:
                texts.update(resolver.compile(jobs))
            except LockgenError as exc:
                failures.append(exc)
        if failures:
            raise combine_failures(failures)
        return texts
