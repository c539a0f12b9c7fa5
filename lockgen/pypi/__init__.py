"""The pip section: resolve it per platform against what conda installs → ``locks/requirements.txt``.

Pipeline, per target platform: read the pip lines (:mod:`.requirements`), map the platform's
conda solution to PyPI names (:mod:`.mapping`), write stub wheels and ``==<version>+conda``
constraints for them (:mod:`.stubs`), run ``uv pip compile`` for the platform's Python and
wheel tags (:mod:`.targets`, :mod:`.uv`, all platforms concurrently), drop what conda provides,
and merge the platforms into one file with markers (:mod:`.render`). When the file's input hash
is unchanged and nothing forces an update, the existing bytes are returned without running uv.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.errors import InputError, Problem
from lockgen.pypi.mapping import MappingSource, ParselmouthSource, PypiMapping, load_mapping
from lockgen.pypi.render import Header, render_requirements
from lockgen.pypi.requirements import (
    Pin,
    PipInput,
    PreviousLock,
    parse_compiled,
    parse_pip_entries,
    read_previous,
    sources_digest_lines,
)
from lockgen.pypi.stubs import ProvidedPackage, provided_packages, write_stubs
from lockgen.pypi.targets import PipTarget, pip_target
from lockgen.pypi.uv import CompileJob, PipResolver, UvResolver
from lockgen.reporting import Reporter
from lockgen.secrets import redact, strip_credentials

if TYPE_CHECKING:
    from lockgen.lock import LockPlan

__all__ = ["PIP_LOCK_FORMAT", "lock_pip_section", "option_lines", "pip_sources_digest"]

PIP_LOCK_FORMAT = 2
"""2: ``body=`` digest on the input-hash line; the pip digest follows nested -r/-c files."""
REQUIREMENTS_NAME = "requirements.txt"
Conda = Mapping[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True)
class _Platform:
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


def _digest(payload: object) -> str:
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def _read_inputs(the_plan: LockPlan) -> dict[str, PipInput]:
    """Every platform's pip lines; all problems of all platforms reported at once."""
    inputs: dict[str, PipInput] = {}
    problems: list[Problem] = []
    for p in the_plan.platforms:
        try:
            entries = the_plan.spec.pip_entries(p.platform)
            inputs[p.platform] = parse_pip_entries(entries, the_plan.options.allow_includes)
        except InputError as exc:
            problems += [q for q in exc.problems if q not in problems]
    if problems:
        raise InputError([replace(q, message=redact(q.message)) for q in problems])
    for pip in inputs.values():
        for url in (pip.index_url, *pip.extra_index_urls, *pip.find_links, *pip.requirements):
            if url and "://" in url:
                the_plan.secrets.add_url(url.split("@", 1)[1].strip() if " @ " in url else url)
    return inputs


def _mapping(the_plan: LockPlan, reporter: Reporter, source: MappingSource | None) -> PypiMapping:
    options = the_plan.options
    if source is None and options.pypi_mapping is None:
        source = ParselmouthSource(options.cache_dir, offline=options.offline)
    mapping = load_mapping(the_plan.spec.channels, options.pypi_mapping, source)
    for note in mapping.notes:
        reporter.event("note", None, f"note: {the_plan.secrets.redact(note)}")
    return mapping


def _platforms(the_plan: LockPlan, conda: Conda, mapping: PypiMapping, reporter: Reporter) -> list[_Platform]:
    inputs = _read_inputs(the_plan)
    result = []
    for p in the_plan.platforms:
        pairs = conda.get(p.platform, ())
        names = {name: mapping.pypi_names(name) for name, _ in pairs}
        provided, notes = provided_packages(pairs, names)
        target = None
        if inputs[p.platform].requirements:
            target = pip_target(p.platform, pairs, p.request.virtual_packages)
            notes += target.notes
        for note in notes:
            reporter.event("note", p.platform, f"note: {note}")
        result.append(_Platform(p.platform, inputs[p.platform], target, provided, _digest(sorted(pairs))))
    return result


def _overlaps(the_plan: LockPlan, platforms: Sequence[_Platform], mapping: PypiMapping) -> list[Problem]:
    """Packages listed both as conda dependencies and under pip: (conda first, pip second)."""
    found: list[Problem] = []
    for item in platforms:
        provided = {p.name: p for p in item.provided}
        deps = the_plan.spec.conda_dependencies(item.platform)
        for name, where in item.pip.names:
            for dep in deps:
                if name in mapping.pypi_names(dep.name) or name == dep.name:
                    have = provided.get(name)
                    outcome = (
                        f"conda's {name} {have.conda_version} is kept and pip does not install it"
                        if have
                        else f"conda's {dep.name} is not known as {name}, so pip may install it again"
                    )
                    message = (
                        f"{name} is listed under pip: and as conda dependency `{dep.spec}` ({dep.location}); {outcome}"
                    )
                    problem = Problem(message, where.file, where.line)
                    if problem not in found:
                        found.append(problem)
    return found


def _warnings(the_plan: LockPlan, platforms: Sequence[_Platform], mapping: PypiMapping) -> list[Problem]:
    problems = _overlaps(the_plan, platforms, mapping)
    for item in platforms:
        problems += [w for w in item.pip.warnings if w not in problems]
    return sorted(problems, key=lambda p: (p.file or "", p.line or 0, p.message))


def _relative(text: str, the_plan: LockPlan) -> str:
    """``text`` with the environment file's directory left out (the header must not name this machine)."""
    for file in the_plan.spec.files:
        parent = str(Path(file).parent)
        if parent not in ("", "."):
            text = text.replace(parent + os.sep, "")
    return text


def _mapping_digest(conda: Conda, mapping: PypiMapping) -> tuple[str, int]:
    """A digest of what the mapping says for every conda package locked (any platform), and their count.

    Not the mapping's source nor its whole content: the download, a file and lockgen's snapshot give
    the same digest, and the same requirements.txt, whenever they agree on these packages.
    """
    names = [name for pairs in conda.values() for name, _ in pairs]
    answers = mapping.answers(names)
    return _digest({k: list(v) for k, v in answers.items()}).removeprefix("sha256:")[:12], len(answers)


def pip_sources_digest(the_plan: LockPlan) -> str:
    """A short hash of what the pip lock was asked for, computable with no network or solve.

    Covers the distinct pip line lists of the target platforms (after selectors), every file they
    include with ``-r``/``-c`` (nested ones too: :func:`sources_digest_lines` follows them as
    ``lock`` reads them), and ``--exclude-newer``. Not the set of platforms: ``# platforms:``
    records that, so re-locking a subset (``-p``) does not look like an edited pip section.
    Written as ``pip=<hash>`` on requirements.txt's input-hash line for ``lockgen check``.
    """
    distinct = {
        json.dumps(sources_digest_lines(the_plan.spec.pip_entries(p.platform), the_plan.options.allow_includes))
        for p in the_plan.platforms
    }
    payload = {"exclude-newer": str(the_plan.options.exclude_newer), "lines": sorted(distinct)}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def _input_hash(the_plan: LockPlan, platforms: Sequence[_Platform], mapping_digest: str) -> str:
    exclude = the_plan.options.exclude_newer
    full = _digest(
        {
            "format": PIP_LOCK_FORMAT,
            "exclude-newer": exclude.isoformat() if exclude else None,
            # The mapping by what it answers for the conda packages locked, not by its source: a
            # change there is an input change like any other; a different source giving the same
            # answers is not.
            "mapping": mapping_digest,
            "platforms": {item.platform: item.hash_payload() for item in platforms},
        }
    )
    return f"{full} pip={pip_sources_digest(the_plan)}"


def _write_job(root: Path, item: _Platform, previous: PreviousLock | None, the_plan: LockPlan) -> CompileJob:
    assert item.target is not None
    options = the_plan.options
    folder = root / item.platform
    folder.mkdir(parents=True)
    requirements = folder / "requirements.in"
    requirements.write_text("".join(f"{r}\n" for r in item.pip.requirements), encoding="utf-8")
    constraints = [write_stubs(folder / "stubs", item.provided)]
    if item.pip.constraints:
        user = folder / "constraints.txt"
        user.write_text("".join(f"{c}\n" for c in item.pip.constraints), encoding="utf-8")
        constraints.append(user)
    output = folder / "requirements.txt"
    preferences = () if previous is None or options.update_all else previous.preferences(
        item.target.marker_environment()
    )  # fmt: skip
    output.write_text("".join(f"{p}\n" for p in preferences), encoding="utf-8")
    return CompileJob(
        target=item.target,
        requirements=requirements,
        constraints=tuple(constraints),
        output=output,
        find_links=(str(folder / "stubs"), *item.pip.find_links),
        index_url=item.pip.index_url,
        extra_index_urls=item.pip.extra_index_urls,
        pre=item.pip.pre,
        no_index=item.pip.no_index,
        exclude_newer=options.exclude_newer,
        upgrade_packages=tuple(sorted(set(options.update))),
        provided={p.name: p for p in item.provided},
    )


def _resolve(
    the_plan: LockPlan, platforms: Sequence[_Platform], previous: PreviousLock | None, resolver: PipResolver
) -> dict[str, tuple[Pin, ...]]:
    with tempfile.TemporaryDirectory(prefix="lockgen-pip-") as tmp:
        jobs = [_write_job(Path(tmp), item, previous, the_plan) for item in platforms if item.target is not None]
        texts = resolver.compile(jobs)
    resolved: dict[str, tuple[Pin, ...]] = {}
    for item in platforms:
        provided = {p.name for p in item.provided}
        pins = parse_compiled(texts.get(item.platform, ""))
        resolved[item.platform] = tuple(p for p in pins if p.name not in provided and "+conda" not in p.version)
    return resolved


def option_lines(inputs: Iterable[PipInput]) -> tuple[str, ...]:
    """The pip options lines requirements.txt carries for these platforms' pip sections (credentials removed)."""
    options: list[str] = []
    for pip in inputs:
        lines = [f"--index-url {strip_credentials(pip.index_url)}"] if pip.index_url else []
        lines += [f"--extra-index-url {strip_credentials(u)}" for u in pip.extra_index_urls]
        lines += [f"--find-links {strip_credentials(u)}" for u in pip.find_links if "://" in u]
        options += [line for line in lines if line not in options]
    return tuple(options)


def _header(the_plan: LockPlan, platforms: Sequence[_Platform], mapping: str, input_hash: str) -> Header:
    against = []
    for item in platforms:
        lock_name = the_plan.options.lock_name(item.platform)
        if item.target is None:
            against.append(f"{item.platform}: no pip packages")
            continue
        target = item.target.python_platform
        if item.target.macos_target:
            target += f" (macOS {item.target.macos_target})"
        against.append(
            f"{item.platform}: against {lock_name} (conda set {item.conda_digest[:23]}), Python"
            f" {item.target.python_version}, {target}, {len(item.provided)} conda packages seen as installed"
        )
    options = option_lines(item.pip for item in platforms)
    return Header(
        sources=tuple(Path(f).name for f in the_plan.spec.files),
        input_hash=input_hash,
        platforms=tuple(item.platform for item in platforms),
        resolved_against=tuple(against),
        mapping=mapping,
        warnings=(),
        options=options,
    )


def lock_pip_section(
    the_plan: LockPlan,
    conda: Conda,
    reporter: Reporter,
    *,
    resolver: PipResolver | None = None,
    mapping_source: MappingSource | None = None,
    previous: PreviousLock | None = None,
) -> bytes:
    """Return the text of locks/requirements.txt for ``the_plan``'s pip section.

    ``previous``: pins to keep instead of the existing requirements.txt's (``lock --from``)."""
    options = the_plan.options
    mapping = _mapping(the_plan, reporter, mapping_source)
    platforms = _platforms(the_plan, conda, mapping, reporter)
    warnings = _warnings(the_plan, platforms, mapping)
    if warnings and options.strict:
        raise InputError([replace(w, message=f"{the_plan.secrets.redact(w.message)} (--strict)") for w in warnings])
    for warning in warnings:
        reporter.event("warning", None, f"warning: {the_plan.secrets.redact(str(warning))}")
    digest, count = _mapping_digest(conda, mapping)
    source_line = f"conda→PyPI names from {mapping.description}: digest {digest} over {count} conda packages"
    reporter.event("pip", None, source_line)
    input_hash = _input_hash(the_plan, platforms, digest)
    path = options.output_dir / REQUIREMENTS_NAME
    previous = previous if previous is not None else read_previous(path)
    forced = options.update_all or bool(options.update)
    if previous is not None and previous.input_hash == input_hash and not forced:
        reporter.event("pip", None, f"{REQUIREMENTS_NAME} is up to date")
        return path.read_bytes()
    if resolver is None:
        resolver = UvResolver(options.cache_dir, the_plan.secrets, reporter, offline=options.offline)
    resolved = _resolve(the_plan, platforms, previous, resolver)
    shown = tuple(_relative(str(w), the_plan) for w in warnings)
    described = f"digest {digest} (what the mapping says for the {count} conda packages locked)"
    header = replace(_header(the_plan, platforms, described, input_hash), warnings=shown)
    # URLs are written without credentials already; `redact` (URL userinfo and /t/ tokens only, not
    # every registered string, which could match a package name) also covers text quoted from pip lines.
    return redact(render_requirements(header, resolved)).encode()
