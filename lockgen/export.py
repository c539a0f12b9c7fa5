"""``lockgen lock --conda-lock-file``: the solution also written as conda-lock's unified lock file.

Where the file goes, whether the one there already matches the locks, and its content: every
platform's conda records, the pip files requirements.txt pins (looked up on the pip section's
indexes: conda-lock names one file per platform) and per-platform content hashes
(docs/from-conda-lock.md). The format itself is :mod:`lockgen.lockfiles.condalock`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockgen.condalockcheck import condalock_disagreements
from lockgen.config import LockOptions
from lockgen.errors import OutputError, Problem
from lockgen.lockfiles import ExplicitLock
from lockgen.lockfiles.header import generated_line
from lockgen.lockfiles.lockdir import REQUIREMENTS_NAME, UNHASHED_NAME
from lockgen.models import LockedPackage
from lockgen.plan import LockPlan, PlatformPlan
from lockgen.records import dataclass
from lockgen.reporting import Notice, Reporter

if TYPE_CHECKING:
    from lockgen.lockfiles.condalock import CondaLockPackage

__all__ = ["CondaLockTarget", "content_hashes"]


@dataclass(frozen=True, slots=True)
class CondaLockTarget:
    """``--conda-lock-file``: where it goes and whether the one there already matches the locks."""

    path: Path
    in_output_dir: bool
    current: bool
    adopt: bytes | None = None
    """The bytes of a conda-lock.yml lockgen did not write that it may replace: the ``--from`` file itself."""

    @classmethod
    def for_options(
        cls, options: LockOptions, the_plan: LockPlan, previous: Mapping[str, ExplicitLock | None]
    ) -> CondaLockTarget:
        from lockgen.lockfiles import MalformedLock
        from lockgen.lockfiles.condalock import read_condalock
        from lockgen.lockfiles.header import is_generated

        path = options.conda_lock_file
        assert path is not None
        in_out = path.parent.resolve() == options.output_dir.resolve()
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise OutputError(f"{path} is not a regular file; refusing to write the conda-lock file there")
        if not path.exists():
            return cls(path, in_out, False)
        try:
            existing = read_condalock(path)
        except MalformedLock as exc:
            raise OutputError(
                f"{path} exists and is not a conda-lock lock file ({exc}); refusing to overwrite it"
            ) from exc
        adopt = _adoptable(path, options.from_lock)
        if adopt is not None:  # the user's stated input, to be replaced by lockgen's own
            return cls(path, in_out, False, adopt)
        head = path.read_bytes()[:4096]
        if not is_generated(head):
            raise OutputError(
                f"{path} was not written by lockgen (conda-lock's, or edited by hand), so lockgen will not overwrite"
                f" it. To migrate, start from it and replace it: `lockgen lock --from {path} --conda-lock-file"
                f" {path}`; or write lockgen's to another path with --conda-lock-file"
            )
        hashes, wanted = dict(existing.content_hash), content_hashes(the_plan)
        current = sorted(existing.platforms) == sorted(p.platform for p in the_plan.platforms)
        for p in the_plan.platforms:
            old = previous.get(p.platform)
            urls = sorted(pkg.url for pkg in existing.for_platform(p.platform, "conda"))
            same_hash = hashes.get(p.platform) == wanted[p.platform]
            if old is None or not same_hash or urls != sorted(e.url for e in old.entries):
                current = False
        if current:  # the same URLs: each with the lock's hash, and the pip files requirements.txt's
            requirements = options.output_dir / REQUIREMENTS_NAME
            text = requirements.read_text(encoding="utf-8", errors="replace") if requirements.is_file() else None
            current = not condalock_disagreements(
                path, {p.platform: previous.get(p.platform) for p in the_plan.platforms}, text
            )
        return cls(path, in_out, current)

    def files(
        self,
        the_plan: LockPlan,
        solutions: Mapping[str, tuple[LockedPackage, ...]],
        files: Mapping[str, bytes | None],
        reporter: Reporter,
    ) -> dict[str, bytes]:
        if not solutions:  # nothing solved: the file there is current
            return {self.path.name: self.path.read_bytes()}
        from lockgen.lockfiles.condalock import render_condalock

        pip, left_out = _condalock_pip(the_plan, solutions, files.get(REQUIREMENTS_NAME), reporter)
        header = [
            generated_line(the_plan.source_names).removeprefix("# "),
            "conda-lock's unified format (version 1): `conda-lock install`, `micromamba create -f` read it.",
        ]
        own = [p.platform for p in the_plan.platforms if not _conda_lock_hash(the_plan, p)]
        if own:
            header.append(
                f"content_hash of {', '.join(own)} is lockgen's input hash, not conda-lock's (docs/from-conda-lock.md)."
            )
        if left_out:
            header.append(
                f"Not here: pip packages {', '.join(left_out)} (no file URL found); they are in requirements.txt:"
                " after creating the environment, run"
                " `pip install --no-deps --require-hashes -r locks/requirements.txt`."
            )
            message = (
                f"{self.path} lacks pip packages {', '.join(left_out)} (their file could not be looked up"
                f" on the index); they are in {REQUIREMENTS_NAME}: install it with pip after `conda-lock install`"
            )
            reporter.report(Notice(Problem(message, severity="warning")))
        unhashed = _unhashed_names(files.get(UNHASHED_NAME))
        if unhashed:
            header.append(
                f"Not here: {', '.join(unhashed)} (VCS URLs and local projects: conda-lock's format cannot hold"
                f" them); they are in {UNHASHED_NAME}: after creating the environment, run"
                f" `pip install --no-deps -r locks/{UNHASHED_NAME}`."
            )
            message = (
                f"{self.path} lacks pip packages {', '.join(unhashed)}: conda-lock's format cannot hold VCS"
                f" URLs or local projects; they are in {UNHASHED_NAME}: install it with pip after `conda-lock install`"
            )
            reporter.report(Notice(Problem(message, severity="warning")))
        channels = [c.canonical for c in the_plan.platforms[0].request.channels] if the_plan.platforms else []
        text = render_condalock(
            {p: tuple(pkgs) for p, pkgs in solutions.items()},
            {p: tuple(pins) for p, pins in pip.items()},
            channels=[_channel_name(c) for c in channels],
            sources=list(the_plan.source_names),
            content_hash=content_hashes(the_plan),
            header=header,
        )
        return {self.path.name: text.encode()}


def _unhashed_names(text: bytes | None) -> list[str]:
    """The VCS packages (by name) and local projects (by path) of requirements-unhashed.txt."""
    if not text:
        return []
    from lockgen.lockfiles.unhashed import read_unhashed

    lock = read_unhashed(text.decode("utf-8", "replace"))
    return sorted({line.name or line.path or line.text for line in lock.lines})


def _adoptable(path: Path, from_lock: Path | None) -> bytes | None:
    """The file's bytes when it is the ``--from`` file (same file on disk), else None."""
    if from_lock is None or not from_lock.is_file():
        return None
    try:
        if not path.samefile(from_lock):
            return None
        return path.read_bytes()
    except OSError:
        return None


def _condalock_pip(
    the_plan: LockPlan,
    solutions: Mapping[str, tuple[LockedPackage, ...]],
    requirements: bytes | None,
    reporter: Reporter,
) -> tuple[dict[str, list[CondaLockPackage]], list[str]]:
    """Per platform, the pip file each pin installs there (conda-lock names one file per platform),
    looked up on the pip section's indexes by the hashes requirements.txt pins; and the names not found."""
    from packaging.markers import Marker

    from lockgen.errors import PypiResolutionError
    from lockgen.lockfiles.condalock import CondaLockPackage
    from lockgen.lockfiles.requirements import parse_compiled
    from lockgen.pypi.files import PYPI_SIMPLE, file_for_pin, index_files, tag_ranking
    from lockgen.pypi.requirements import parse_pip_entries
    from lockgen.pypi.targets import pip_target

    pins = parse_compiled(requirements.decode("utf-8")) if requirements else ()
    if not pins:
        return {}, []
    chosen: dict[str, tuple[Any, list[Any]]] = {}
    indexes: list[str] = []
    for p in the_plan.platforms:
        pairs = [(pkg.name, pkg.version) for pkg in solutions.get(p.platform, ())]
        try:
            target = pip_target(p.platform, pairs, p.request.virtual_packages)
        except PypiResolutionError:
            continue
        env = target.marker_environment()
        chosen[p.platform] = (target, [pin for pin in pins if pin.marker is None or Marker(pin.marker).evaluate(env)])
        section = parse_pip_entries(the_plan.spec.pip_entries(p.platform))
        if not section.no_index:
            for url in (section.index_url or PYPI_SIMPLE, *section.extra_index_urls):
                if url not in indexes:
                    indexes.append(url)
    wanted = sorted({pin.name for _, applies in chosen.values() for pin in applies if pin.url is None})
    listed: dict[str, Any] = {}
    if wanted and indexes and not the_plan.options.offline:
        listed, problems = index_files(wanted, indexes, the_plan.secrets, the_plan.options.limits.http)
        for problem in problems:
            reporter.report(Notice(Problem(f"conda-lock file: {problem}", severity="warning")))
    found: dict[str, list[CondaLockPackage]] = {}
    missing: set[str] = set()
    for platform, (target, applies) in chosen.items():
        ranking = tag_ranking(target)
        for pin in applies:
            sha = [h.removeprefix("sha256:") for h in pin.hashes if h.startswith("sha256:")]
            if pin.url is not None and len(sha) == 1:
                pinned = CondaLockPackage(pin.name, pin.version, "pip", platform, pin.url, sha256=sha[0])
                found.setdefault(platform, []).append(pinned)
                continue
            item = file_for_pin(pin, listed.get(pin.name, ()), ranking) if pin.url is None else None
            if item is None or item.sha256 is None:
                missing.add(pin.name)
            else:
                found.setdefault(platform, []).append(
                    CondaLockPackage(pin.name, pin.version, "pip", platform, item.url, sha256=item.sha256)
                )
    return found, sorted(missing)


def _conda_lock_hash(the_plan: LockPlan, platform: PlatformPlan) -> str | None:
    """conda-lock's own content hash where lockgen can reproduce it: one environment file, no pip
    section, no virtual-package overrides, plain specs (see
    :func:`~lockgen.condalockhash.conda_lock_content_hash`)."""
    from lockgen.condalockhash import conda_lock_content_hash

    spec, options = the_plan.spec, the_plan.options
    if len(spec.files) != 1 or spec.pip is not None or options.virtual_overrides:
        return None
    deps = [d.spec for d in spec.conda_dependencies(platform.platform)]
    return conda_lock_content_hash(platform.platform, spec.channels, deps, options.cuda)


def content_hashes(the_plan: LockPlan) -> dict[str, str]:
    """Per platform, the ``content_hash`` written into conda-lock.yml: conda-lock's own where it can be
    reproduced, else lockgen's input hash (so a changed input always changes it)."""
    return {
        p.platform: _conda_lock_hash(the_plan, p) or p.input_hash.removeprefix("sha256:") for p in the_plan.platforms
    }


def _channel_name(canonical: str) -> str:
    """``https://conda.anaconda.org/conda-forge`` → ``conda-forge``, as conda-lock writes channels."""
    prefix = "https://conda.anaconda.org/"
    return canonical[len(prefix) :] if canonical.startswith(prefix) else canonical
