"""What each platform's pip resolution depends on: its pip lines, its conda solution seen through the
conda→PyPI mapping (stub packages, wheel tags), and the warnings about them. No network but the mapping's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.errors import InputError, Problem
from lockgen.lockfiles.header import json_sha256
from lockgen.lockfiles.requirements import PreviousLock
from lockgen.pypi.pipinput import PipInput
from lockgen.pypi.requirements import parse_pip_entries
from lockgen.records import dataclass
from lockgen.reporting import Notice, Reporter
from lockgen.secrets import SecretRegistry, redact

if TYPE_CHECKING:
    from lockgen.plan import PipPlatform, PipRequest
    from lockgen.pypi.mapping import MappingSource, PypiMapping
    from lockgen.pypi.stubs import ProvidedPackage
    from lockgen.pypi.targets import PipTarget
    from lockgen.spec.model import Location, PipEntry


Conda = Mapping[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True)
class PlatformInputs:
    """Everything one platform's pip resolution depends on."""

    platform: str
    pip: PipInput
    target: PipTarget | None
    """None when the platform has no pip requirements (nothing to resolve)."""
    provided: tuple[ProvidedPackage, ...]
    conda_digest: str

    def hash_payload(self) -> dict[str, object]:
        return {
            "pip": self.pip.hash_payload(),
            "target": self.target.hash_payload() if self.target else None,
            "provided": [p.constraint for p in self.provided],
            "conda": self.conda_digest,
        }


def read_inputs(request: PipRequest, secrets: SecretRegistry) -> dict[str, PipInput]:
    """Every platform's pip lines; all problems of all platforms reported at once. The index and
    find-links URLs they name are added to ``secrets``."""
    inputs: dict[str, PipInput] = {}
    problems: list[Problem] = []
    parsed: dict[tuple[PipEntry, ...], PipInput] = {}  # platforms with the same lines (no selector) share them
    for p in request.platforms:
        try:
            if p.entries not in parsed:
                parsed[p.entries] = parse_pip_entries(p.entries, request.allow_includes)
            inputs[p.platform] = parsed[p.entries]
        except InputError as exc:
            problems += [q for q in exc.problems if q not in problems]
    if problems:
        raise InputError([replace(q, message=redact(q.message)) for q in problems])
    for pip in inputs.values():
        for url in (pip.index_url, *pip.extra_index_urls, *pip.find_links, *pip.requirements):
            if url and "://" in url:
                secrets.add_url(url.split("@", 1)[1].strip() if " @ " in url else url)
    return inputs


def mapping_for(
    request: PipRequest, reporter: Reporter, source: MappingSource | None, secrets: SecretRegistry
) -> PypiMapping:
    from lockgen.pypi.mapping import ParselmouthSource, load_mapping

    memo_dir = mapping_memo_dir(request)
    if source is None and request.pypi_mapping is None:
        source = ParselmouthSource(
            request.cache_dir,
            offline=request.offline,
            url_template=request.mapping_url,
            memo_dir=memo_dir,
            http=request.http,
        )
    return load_mapping(request.channels, request.pypi_mapping, source, memo_dir=memo_dir)


def mapping_memo_dir(request: PipRequest) -> Path | None:
    """Where the mapping's memo lives: lockgen's cache directory, when that memo folder is outside the
    project of every environment file (:func:`lockgen.project.memo_folder`): a pull request can commit
    a folder there; it must not choose what the mapping answers. The first file's folder is base_dir."""
    from lockgen.project import memo_folder
    from lockgen.pypi.mapping import MEMO_DIR

    files = [request.base_dir / "environment.yml", *(Path(file) for file in request.sources)]
    return memo_folder(request.cache_dir / "pypi-mapping" / MEMO_DIR, files)


def platform_inputs(
    p: PipPlatform,
    pip: PipInput,
    pairs: tuple[tuple[str, str], ...],
    mapping: PypiMapping,
    names: dict[str, tuple[str, ...]] | None = None,
) -> tuple[PlatformInputs, tuple[str, ...]]:
    """One platform's pip inputs against its conda solution ``pairs``, and the notes to show about it.

    ``names``: what ``mapping`` answered so far (conda name → PyPI names), filled here; the platforms
    of a lock share most of their packages, so :func:`all_platform_inputs` asks once per name."""
    from lockgen.pypi.stubs import provided_packages
    from lockgen.pypi.targets import pip_target

    names = {} if names is None else names
    for name, _ in pairs:
        if name not in names:
            names[name] = mapping.pypi_names(name)
    provided, notes = provided_packages(pairs, names)
    target = None
    if pip.requirements or pip.direct:
        target = pip_target(p.platform, pairs, p.virtual_packages)
        notes += target.notes
    return PlatformInputs(p.platform, pip, target, provided, json_sha256(sorted(pairs))), notes


def all_platform_inputs(
    request: PipRequest, inputs: Mapping[str, PipInput], conda: Conda, mapping: PypiMapping, reporter: Reporter
) -> list[PlatformInputs]:
    result = []
    names: dict[str, tuple[str, ...]] = {}
    for p in request.platforms:
        item, notes = platform_inputs(p, inputs[p.platform], conda.get(p.platform, ()), mapping, names)
        for note in notes:
            reporter.report(Notice(Problem(note, severity="note"), p.platform))
        result.append(item)
    return result


def _overlaps(request: PipRequest, platforms: Sequence[PlatformInputs], mapping: PypiMapping) -> list[Problem]:
    """Packages listed both as conda dependencies and under pip: (conda first, pip second); one
    warning per pair, naming conda's version on each platform when the platforms' versions differ."""
    seen: dict[tuple[str, str, str, Location], dict[str | None, list[str]]] = {}
    conda_deps = {p.platform: p.conda_dependencies for p in request.platforms}
    for item in platforms:
        provided = {p.name: p for p in item.provided}
        for name, where in item.pip.names:
            for dep in conda_deps[item.platform]:
                if name in mapping.pypi_names(dep.name) or name == dep.name:
                    have = provided.get(name)
                    key = (name, dep.name, f"`{dep.spec}` ({dep.location})", where)
                    seen.setdefault(key, {}).setdefault(have.conda_version if have else None, []).append(item.platform)
    found: list[Problem] = []
    for (name, conda_name, conda_dep, where), versions in seen.items():
        known = {v: ps for v, ps in versions.items() if v is not None}
        each = "; ".join(f"{v} on {', '.join(ps)}" for v, ps in known.items())
        outcome = (
            f"conda's {name} {next(iter(known), '')} is kept" if len(known) == 1 else f"conda's {name} ({each}) is kept"
        )
        outcome += " and pip does not install it"
        if None in versions:
            unknown = f"conda's {conda_name} is not known as {name}, so pip may install it again"
            outcome = f"{outcome}; {unknown} on {', '.join(versions[None])}" if known else unknown
        found.append(
            Problem(
                f"{name} is listed under pip: and as conda dependency {conda_dep}; {outcome}", where.file, where.line
            )
        )
    return found


def pip_warnings(request: PipRequest, platforms: Sequence[PlatformInputs], mapping: PypiMapping) -> list[Problem]:
    problems = _overlaps(request, platforms, mapping)
    for item in platforms:
        problems += [w for w in item.pip.warnings if w not in problems]
    return sorted(problems, key=lambda p: (p.file or "", p.line or 0, p.message))


def env_relative(text: str, request: PipRequest) -> str:
    """``text`` with the environment file's directory left out (the header must not name this machine)."""
    for file in request.sources:
        parent = str(Path(file).parent)
        if parent not in ("", "."):
            text = text.replace(parent + os.sep, "")
    return text


def disagrees(previous: PreviousLock | None, agreed: PreviousLock | None, platforms: Iterable[str]) -> bool:
    """Whether ``previous`` pins a package, on one of ``platforms``, at a version the group's
    ``agreed`` pins do not have on that platform (each pin counted where its marker applies)."""
    from lockgen.pypi.targets import pins_on

    if previous is None or agreed is None:
        return False
    platforms = tuple(platforms)
    mine, theirs = pins_on(previous.pins, platforms), pins_on(agreed.pins, platforms)
    for platform, held in mine.items():
        versions: dict[str, set[str]] = {}
        for pin in theirs[platform]:
            versions.setdefault(pin.name, set()).add(pin.version)
        if any(p.name in versions and p.version not in versions[p.name] for p in held):
            return True
    return False
