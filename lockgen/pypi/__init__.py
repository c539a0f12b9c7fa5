"""The pip section: resolve it per platform against what conda installs → ``locks/requirements.txt``.

Pipeline, per target platform: read the pip lines (:mod:`.requirements`), map the platform's
conda solution to PyPI names (:mod:`.mapping`), write stub wheels and ``==<version>+conda``
constraints for them (:mod:`.stubs`), run ``uv pip compile`` for the platform's Python and
wheel tags (:mod:`.targets`, :mod:`.uv`, all platforms concurrently), drop what conda provides,
and merge the platforms into one file with markers (:mod:`.render`). When the file's input hash
is unchanged and nothing forces an update, the existing bytes are returned without running uv.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.errors import InputError, LockgenError, Problem, PypiResolutionError
from lockgen.lockfiles.header import json_sha256, short_digest
from lockgen.lockfiles.requirements import (
    REQUIREMENTS_NAME,
    UNHASHED_NAME,
    VCS_PREFIXES,
    Pin,
    PreviousLock,
    local_project_of,
    logical_lines,
    parse_compiled,
    project_digest,
    read_previous,
)
from lockgen.pypi.requirements import DirectRequirement, GivenHashes, PipInput, parse_pip_entries, sources_digest_lines
from lockgen.reporting import NullReporter, Reporter
from lockgen.secrets import SecretRegistry, redact, strip_credentials
from lockgen.spec.model import PipEntry

if TYPE_CHECKING:  # the modules that resolve are imported where they are used: `check` and a no-op
    # `lock` import this package for the input digests and the pip lines only (docs/performance.md)
    from concurrent.futures import Future

    from lockgen.lockfiles.requirements import Header
    from lockgen.models import LockedPackage
    from lockgen.plan import PipPlatform, PipRequest
    from lockgen.pypi.mapping import MappingSource, PypiMapping
    from lockgen.pypi.stubs import ProvidedPackage
    from lockgen.pypi.targets import PipTarget
    from lockgen.pypi.uv import CompileJob, PipResolver

__all__ = [
    "PIP_LOCK_FORMAT",
    "REQUIREMENTS_NAME",
    "UNHASHED_NAME",
    "PipStart",
    "lock_pip_files",
    "lock_pip_section",
    "option_lines",
    "pip_source_lines",
    "pip_sources_digest",
]

PIP_LOCK_FORMAT = 3
"""2: ``body=`` digest on the input-hash line; the pip digest follows nested -r/-c files.
3: sdists allowed (their metadata built), VCS/local lines in requirements-unhashed.txt, ``# via`` lines."""
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


def _read_inputs(request: PipRequest, secrets: SecretRegistry) -> dict[str, PipInput]:
    """Every platform's pip lines; all problems of all platforms reported at once. The index and
    find-links URLs they name are added to ``secrets``."""
    inputs: dict[str, PipInput] = {}
    problems: list[Problem] = []
    for p in request.platforms:
        try:
            inputs[p.platform] = parse_pip_entries(p.entries, request.allow_includes)
        except InputError as exc:
            problems += [q for q in exc.problems if q not in problems]
    if problems:
        raise InputError([replace(q, message=redact(q.message)) for q in problems])
    for pip in inputs.values():
        for url in (pip.index_url, *pip.extra_index_urls, *pip.find_links, *pip.requirements):
            if url and "://" in url:
                secrets.add_url(url.split("@", 1)[1].strip() if " @ " in url else url)
    return inputs


def _mapping(
    request: PipRequest, reporter: Reporter, source: MappingSource | None, secrets: SecretRegistry
) -> PypiMapping:
    from lockgen.pypi.mapping import ParselmouthSource, load_mapping

    memo_dir = _memo_dir(request)
    if source is None and request.pypi_mapping is None:
        source = ParselmouthSource(
            request.cache_dir, offline=request.offline, url_template=request.mapping_url, memo_dir=memo_dir
        )
    return load_mapping(request.channels, request.pypi_mapping, source, memo_dir=memo_dir)


def _memo_dir(request: PipRequest) -> Path | None:
    """Where the mapping's memo lives: lockgen's cache directory, and only when that is outside the
    project (a pull request can commit a folder there; it must not choose what the mapping answers)."""
    from lockgen.config import project_roots
    from lockgen.pypi.mapping import MEMO_DIR

    real = request.cache_dir.resolve()
    if any(real == root or root in real.parents for root in project_roots(request.base_dir / "environment.yml")):
        return None
    return request.cache_dir / "pypi-mapping" / MEMO_DIR


def _mapping_notes(mapping: PypiMapping, reporter: Reporter, secrets: SecretRegistry, *, changed: bool) -> None:
    """The mapping's notes (could not be fetched, a cached copy used) are warnings when the pip lock
    is resolved again, and only progress (``-v``) when it is kept: once per change, not every run."""
    for note in mapping.notes:
        reporter.event("note" if changed else "pip", None, f"note: {secrets.redact(note)}")


def _platform(
    p: PipPlatform, pip: PipInput, pairs: tuple[tuple[str, str], ...], mapping: PypiMapping
) -> tuple[_Platform, tuple[str, ...]]:
    """One platform's pip inputs against its conda solution ``pairs``, and the notes to show about it."""
    from lockgen.pypi.stubs import provided_packages
    from lockgen.pypi.targets import pip_target

    names = {name: mapping.pypi_names(name) for name, _ in pairs}
    provided, notes = provided_packages(pairs, names)
    target = None
    if pip.requirements or pip.direct:
        target = pip_target(p.platform, pairs, p.virtual_packages)
        notes += target.notes
    return _Platform(p.platform, pip, target, provided, json_sha256(sorted(pairs))), notes


def _platforms(
    request: PipRequest, inputs: Mapping[str, PipInput], conda: Conda, mapping: PypiMapping, reporter: Reporter
) -> list[_Platform]:
    result = []
    for p in request.platforms:
        item, notes = _platform(p, inputs[p.platform], conda.get(p.platform, ()), mapping)
        for note in notes:
            reporter.event("note", p.platform, f"note: {note}")
        result.append(item)
    return result


def _overlaps(request: PipRequest, platforms: Sequence[_Platform], mapping: PypiMapping) -> list[Problem]:
    """Packages listed both as conda dependencies and under pip: (conda first, pip second)."""
    found: list[Problem] = []
    conda_deps = {p.platform: p.conda_dependencies for p in request.platforms}
    for item in platforms:
        provided = {p.name: p for p in item.provided}
        deps = conda_deps[item.platform]
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


def _warnings(request: PipRequest, platforms: Sequence[_Platform], mapping: PypiMapping) -> list[Problem]:
    problems = _overlaps(request, platforms, mapping)
    for item in platforms:
        problems += [w for w in item.pip.warnings if w not in problems]
    return sorted(problems, key=lambda p: (p.file or "", p.line or 0, p.message))


def _relative(text: str, request: PipRequest) -> str:
    """``text`` with the environment file's directory left out (the header must not name this machine)."""
    for file in request.sources:
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
    return short_digest({k: list(v) for k, v in answers.items()}), len(answers)


def pip_sources_digest(request: PipRequest) -> str:
    """A short hash of what the pip lock was asked for, computable with no network or solve.

    Covers the distinct pip line lists of the target platforms (after selectors), every file they
    include with ``-r``/``-c`` (nested ones too: :func:`sources_digest_lines` follows them as
    ``lock`` reads them), and ``--exclude-newer``. Not the set of platforms: ``# platforms:``
    records that, so re-locking a subset (``-p``) does not look like an edited pip section.
    Written as ``pip=<hash>`` on requirements.txt's input-hash line for ``lockgen check``.
    """
    base = request.base_dir

    def lines(entries: Sequence[PipEntry]) -> list[str]:
        # a local project's metadata files: an edited pyproject.toml changes what is locked
        projects = [local_project_of(e.text, base) for e in entries]
        included = sources_digest_lines(entries, request.allow_includes)
        return [*included, *(project_digest(p) for p in projects if p is not None)]

    distinct = {json.dumps(lines(p.entries)) for p in request.platforms}
    payload = {"exclude-newer": str(request.exclude_newer), "lines": sorted(distinct)}
    return short_digest(payload)


def pip_source_lines(request: PipRequest) -> tuple[str, ...]:
    """What :func:`pip_sources_digest` covers, as people read it (credentials masked): every platform's pip
    lines (each once, in order), each file they include with its digest, each local project's metadata
    digest. Written as ``# pip-lines:``, so ``check`` can name what changed."""
    from lockgen.secrets import redact

    base = request.base_dir
    found: dict[str, None] = {}
    for platform in request.platforms:
        lines = sources_digest_lines(platform.entries, request.allow_includes)
        for number, line in enumerate(lines):
            included = number >= len(platform.entries) and re.fullmatch(r".* [0-9a-f]{64}", line)
            # an included file: 12 hex digits of its sha256 tell an edit
            found[redact(line[:-52] if included else line)] = None
        for entry in platform.entries:
            project = local_project_of(entry.text, base)
            if project is not None:
                found[f"{entry.text.strip()} metadata {project_digest(project)[:12]}"] = None
    return tuple(found)


def _input_hash(request: PipRequest, platforms: Sequence[_Platform], mapping_digest: str) -> str:
    exclude = request.exclude_newer
    full = json_sha256(
        {
            "format": PIP_LOCK_FORMAT,
            "exclude-newer": exclude.isoformat() if exclude else None,
            # The mapping by what it answers for the conda packages locked, not by its source: a
            # change there is an input change like any other; a different source giving the same
            # answers is not.
            "mapping": mapping_digest,
            "platforms": {item.platform: item.hash_payload() for item in platforms},
            **({"only-binary": True} if request.only_binary else {}),
        }
    )
    return f"{full} pip={pip_sources_digest(request)}"


def _write_job(root: Path, item: _Platform, previous: PreviousLock | None, request: PipRequest) -> CompileJob:
    from lockgen.pypi.stubs import write_stubs
    from lockgen.pypi.uv import CompileJob

    assert item.target is not None
    options = request
    folder = root / item.platform
    folder.mkdir(parents=True)
    requirements = folder / "requirements.in"
    lines = [*item.pip.requirements, *(d.uv_line for d in item.pip.direct)]
    requirements.write_text("".join(f"{r}\n" for r in lines), encoding="utf-8")
    stubs = write_stubs(folder / "stubs", item.provided)
    constraints = [stubs.constraints]
    if item.pip.constraints:
        user = folder / "constraints.txt"
        user.write_text("".join(f"{c}\n" for c in item.pip.constraints), encoding="utf-8")
        constraints.append(user)
    if request.agreed is not None:  # several environments: what the group's pip sections agreed on
        provided = {p.name for p in item.provided}
        pins = request.agreed.preferences(item.target.marker_environment())
        agreed = [a for a in pins if a.split("==")[0] not in provided]
        (folder / "agreed.txt").write_text("".join(f"{a}\n" for a in agreed), encoding="utf-8")
        constraints.append(folder / "agreed.txt")
    named = [r for r in item.pip.requirements if "://" not in r]  # pip's pick of each: see uv.py
    probe = folder / "named.in" if named else None
    if probe is not None:
        probe.write_text("".join(f"{r}\n" for r in named), encoding="utf-8")
    output = folder / "requirements.txt"
    preferences = () if previous is None or options.update_all else previous.preferences(
        item.target.marker_environment()
    )  # fmt: skip
    output.write_text("".join(f"{p}\n" for p in preferences), encoding="utf-8")
    return CompileJob(
        target=item.target,
        requirements=requirements,
        constraints=tuple(constraints),
        build_constraints=(stubs.build_constraints,),
        output=output,
        find_links=(str(stubs.folder), *item.pip.find_links),
        index_url=item.pip.index_url,
        extra_index_urls=item.pip.extra_index_urls,
        pre=item.pip.pre,
        no_index=item.pip.no_index,
        exclude_newer=options.exclude_newer,
        no_build=options.only_binary,
        upgrade_packages=tuple(sorted(set(options.update))),
        newest_probe=probe,
        provided={p.name: p for p in item.provided},
        origins={name: _relative(str(where), request) for name, where in item.pip.names},
    )


def _public_vcs(url: str) -> str:
    """A VCS URL as a lock may show it: no password or token; an ssh ``git@`` user is kept."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if not sep or "@" not in host:
        return url
    user, _, host = host.rpartition("@")
    return f"{scheme}://{'git@' if user == 'git' else ''}{host}{slash}{path}"


def local_line(relative: str, editable: bool) -> str:
    """A local project's line in requirements-unhashed.txt: its POSIX path relative to the environment
    file's folder, ``./`` first, ``-e`` kept (``lock`` writes it so, ``check`` expects it so)."""
    shown = relative if relative.startswith(".") else f"./{relative}"
    return f"-e {shown}" if editable else shown


def _direct_lines(text: str, direct: Sequence[DirectRequirement], base_dir: Path) -> tuple[str, ...]:
    """The pinned lines of VCS URLs and local projects in uv's output, as the unhashed file writes them.

    uv writes ``name @ git+URL@<commit>`` for a VCS URL and the absolute path (``-e`` kept) for a
    local project; a path becomes relative to the environment file's folder (POSIX separators).
    """
    from urllib.parse import unquote, urlsplit

    folders = {d.path: d for d in direct if d.path is not None}
    found: list[str] = []
    for _, line in logical_lines(text):
        editable = line.startswith(("-e ", "--editable "))
        body = line.split(None, 1)[1].strip() if editable else line
        if body.startswith("file:"):
            body = unquote(urlsplit(body).path)
        if Path(body).is_absolute() and Path(body).resolve() in folders:
            relative = Path(os.path.relpath(Path(body).resolve(), base_dir.resolve())).as_posix()
            if relative == ".." or relative.startswith("../"):
                entry = folders[Path(body).resolve()]
                raise InputError(
                    [
                        Problem(
                            f"`{entry.text}`: {relative} is outside the environment file's folder; lockgen locks"
                            " and installs local projects inside the project tree only",
                            entry.where.file,
                            entry.where.line,
                        )
                    ]
                )
            found.append(local_line(relative, folders[Path(body).resolve()].editable))
            continue
        if " @ " in line and any(v in line for v in VCS_PREFIXES):
            name, _, url = line.partition(" @ ")
            found.append(f"{name.strip()} @ {_public_vcs(url.split()[0])}")
    return tuple(found)


def _disagrees(previous: PreviousLock | None, agreed: PreviousLock | None) -> bool:
    """Whether ``previous`` pins a package at a version the group's ``agreed`` pins do not have."""
    if previous is None or agreed is None:
        return False
    versions: dict[str, set[str]] = {}
    for pin in agreed.pins:
        versions.setdefault(pin.name, set()).add(pin.version)
    return any(pin.name in versions and pin.version not in versions[pin.name] for pin in previous.pins)


def _resolve(
    request: PipRequest,
    platforms: Sequence[_Platform],
    previous: PreviousLock | None,
    resolver: PipResolver,
    mapping: PypiMapping,
    *,
    early: _EarlyRuns | None = None,
) -> tuple[dict[str, tuple[Pin, ...]], dict[str, tuple[str, ...]]]:
    """Per platform: the hashed pins, and the pinned VCS/local-project lines. ``early``: the
    platforms whose uv run started while conda was still solving others (their results are used)."""
    with tempfile.TemporaryDirectory(prefix="lockgen-pip-") as tmp:
        todo = [item for item in platforms if item.target is not None and not (early and early.started(item))]
        jobs = [_write_job(Path(tmp), item, previous, request) for item in todo]
        try:
            texts = early.compile(resolver, jobs, platforms) if early else resolver.compile(jobs)
        except PypiResolutionError as exc:
            if not exc.missing:
                raise
            raise PypiResolutionError(_with_suggestions(exc, request, platforms, mapping), exc.missing) from exc
    resolved: dict[str, tuple[Pin, ...]] = {}
    direct: dict[str, tuple[str, ...]] = {}
    problems: list[Problem] = []
    for item in platforms:
        provided = {p.name for p in item.provided}
        text = texts.get(item.platform, "")
        pins = parse_compiled(text)
        kept = [p for p in pins if p.name not in provided and "+conda" not in p.version and not _is_vcs(p)]
        resolved[item.platform] = _with_given_hashes(kept, item.pip.given_hashes, item.platform, problems, request)
        direct[item.platform] = _direct_lines(text, item.pip.direct, request.base_dir)
    if problems:
        raise InputError(problems)
    return resolved, direct


def _with_suggestions(
    exc: PypiResolutionError, request: PipRequest, platforms: Sequence[_Platform], mapping: PypiMapping
) -> str:
    """uv's failure led by one line per requirement no index has: file:line and the close names
    that exist on the index (:mod:`lockgen.pypi.suggest`)."""
    from lockgen.pypi.suggest import candidate_names, suggestion_lines

    origins = {name: _relative(str(where), request) for item in platforms for name, where in item.pip.names}
    pip = next((item.pip for item in platforms if item.target is not None), None)
    indexes: list[str] = []
    if pip is not None and not pip.no_index:
        indexes = [pip.index_url or "https://pypi.org/simple", *pip.extra_index_urls]
    candidates = candidate_names(mapping.tables, origins)
    lines = suggestion_lines(exc.missing, origins, indexes, candidates, network=bool(indexes) and not request.offline)
    return "\n".join([*lines, exc.message])


def _with_given_hashes(
    pins: Sequence[Pin], given: Sequence[GivenHashes], platform: str, problems: list[Problem], request: PipRequest
) -> tuple[Pin, ...]:
    """``pins`` with each ``--hash``-carrying requirement's hashes narrowed to the ones written (pip
    then installs only those files); a pin none of whose files has a written hash is a problem."""
    by_name = {g.name: g for g in given}
    result = []
    for pin in pins:
        wanted = by_name.get(pin.name)
        if wanted is None:
            result.append(pin)
            continue
        kept = tuple(h for h in pin.hashes if h in wanted.hashes)
        if not kept:
            listed = ", ".join(f"{h[:19]}…" for h in pin.hashes) or "none"
            written = ", ".join(f"{h[:19]}…" for h in sorted(wanted.hashes))
            problem = Problem(
                f"--hash for {pin.name}: no file of {pin.name} {pin.version} locked for {platform} has the hash"
                f" written ({written}); the index lists {listed}. The file changed on the index, or the hash"
                " is of another version or platform: check it, then update or drop the --hash options",
                _relative(wanted.where.file, request),
                wanted.where.line,
            )
            if problem not in problems:
                problems.append(problem)
            continue
        result.append(replace(pin, hashes=kept))
    return tuple(result)


def _check_editables(platforms: Sequence[_Platform], direct: Mapping[str, tuple[str, ...]]) -> None:
    """An editable line must apply to every platform: pip takes no marker after ``-e``."""
    targets = [item.platform for item in platforms if item.target is not None]
    editable = {t: {line for line in direct.get(t, ()) if line.startswith("-e ")} for t in targets}
    problems = []
    for line in sorted(set().union(*editable.values()) if editable else ()):
        missing = [t for t in targets if line not in editable[t]]
        if missing:
            problems.append(
                Problem(
                    f"`{line}` applies to some platforms only (not {', '.join(missing)}); pip takes no platform"
                    " marker on an editable line: drop the selector or the `-e`"
                )
            )
    if problems:
        raise InputError(problems)


def _is_vcs(pin: Pin) -> bool:
    return pin.url is not None and pin.url.startswith(VCS_PREFIXES)


def option_lines(inputs: Iterable[PipInput]) -> tuple[str, ...]:
    """The pip options lines requirements.txt carries for these platforms' pip sections (credentials removed)."""
    options: list[str] = []
    for pip in inputs:
        lines = [f"--index-url {strip_credentials(pip.index_url)}"] if pip.index_url else []
        lines += [f"--extra-index-url {strip_credentials(u)}" for u in pip.extra_index_urls]
        lines += [f"--find-links {strip_credentials(u)}" for u in pip.find_links if "://" in u]
        options += [line for line in lines if line not in options]
    return tuple(options)


def _header(request: PipRequest, platforms: Sequence[_Platform], mapping: str, input_hash: str) -> Header:
    from lockgen.lockfiles.requirements import Header

    lock_names = {p.platform: p.lock_name for p in request.platforms}
    against = []
    for item in platforms:
        lock_name = lock_names[item.platform]
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
        sources=tuple(Path(f).name for f in request.sources),
        input_hash=input_hash,
        platforms=tuple(item.platform for item in platforms),
        resolved_against=tuple(against),
        mapping=mapping,
        warnings=(),
        options=options,
        pip_lines=pip_source_lines(request),
    )


def lock_pip_section(
    request: PipRequest,
    conda: Conda,
    reporter: Reporter,
    *,
    secrets: SecretRegistry | None = None,
    resolver: PipResolver | None = None,
    mapping_source: MappingSource | None = None,
    previous: PreviousLock | None = None,
) -> bytes:
    """Return the text of locks/requirements.txt for ``request`` (see :func:`lock_pip_files`)."""
    files = lock_pip_files(
        request,
        conda,
        reporter,
        secrets=secrets,
        resolver=resolver,
        mapping_source=mapping_source,
        previous=previous,
    )
    text = files[REQUIREMENTS_NAME]
    assert text is not None
    return text


def lock_pip_files(
    request: PipRequest,
    conda: Conda,
    reporter: Reporter,
    *,
    secrets: SecretRegistry | None = None,
    resolver: PipResolver | None = None,
    mapping_source: MappingSource | None = None,
    previous: PreviousLock | None = None,
    started: PipStart | None = None,
) -> dict[str, bytes | None]:
    """``requirements.txt`` (hashed) and ``requirements-unhashed.txt`` (VCS/local lines; None: remove the
    one lockgen wrote earlier; absent: nothing to write), resolved against ``conda``: per platform,
    the (name, version) pairs its conda lock installs.

    ``secrets``: the registry messages are masked with; the pip section's index and find-links URLs
    are added to it (pass the one the caller's resolver masks with). ``resolver`` defaults to uv,
    ``mapping_source`` to parselmouth's download. ``previous``: pins to keep instead of the existing
    requirements.txt's (``lock --from``). ``started``: the stage begun while conda solved (its
    mapping, pip lines, resolver and uv runs are used; the caller passes it the same arguments)."""
    if started is not None:
        try:
            return _lock_pip_files(
                request, conda, reporter, started.secrets, started.resolver, None, started.previous, started
            )
        finally:
            started.close()
    secrets = secrets if secrets is not None else SecretRegistry()
    return _lock_pip_files(request, conda, reporter, secrets, resolver, mapping_source, previous, None)


def _mapping_and_inputs(
    request: PipRequest,
    reporter: Reporter,
    mapping_source: MappingSource | None,
    secrets: SecretRegistry,
    started: PipStart | None,
) -> tuple[PypiMapping, Mapping[str, PipInput]]:
    """The mapping and every platform's pip lines: read now, or what ``started`` read while conda solved."""
    if started is None:
        return _mapping(request, reporter, mapping_source, secrets), _read_inputs(request, secrets)
    prepared = started.prepared()
    if prepared.error is not None:
        raise prepared.error  # what loading the mapping or reading the pip lines raised, in that order
    assert prepared.mapping is not None
    return prepared.mapping, prepared.inputs


def _lock_pip_files(  # noqa: PLR0917
    request: PipRequest,
    conda: Conda,
    reporter: Reporter,
    secrets: SecretRegistry,
    resolver: PipResolver | None,
    mapping_source: MappingSource | None,
    previous: PreviousLock | None,
    started: PipStart | None,
) -> dict[str, bytes | None]:
    mapping, inputs = _mapping_and_inputs(request, reporter, mapping_source, secrets, started)
    platforms = _platforms(request, inputs, conda, mapping, reporter)
    warnings = _warnings(request, platforms, mapping)
    if warnings and request.strict:
        raise InputError([replace(w, message=f"{secrets.redact(w.message)} (--strict)") for w in warnings])
    for warning in warnings:
        reporter.event("warning", None, f"warning: {secrets.redact(str(warning))}")
    digest, count = _mapping_digest(conda, mapping)
    mapping.remember()  # what it answered for these packages: the next no-op parses no table
    source_line = f"conda→PyPI names from {mapping.description}: digest {digest} over {count} conda packages"
    reporter.event("pip", None, source_line)
    input_hash = _input_hash(request, platforms, digest)
    path = request.output_dir / REQUIREMENTS_NAME
    unhashed_path = request.output_dir / UNHASHED_NAME
    has_direct = any(item.pip.direct for item in platforms)
    previous = previous if previous is not None else read_previous(path)
    forced = request.update_all or bool(request.update) or _disagrees(previous, request.agreed)
    if previous is not None and previous.input_hash == input_hash and not forced:
        unhashed = read_previous(unhashed_path) if has_direct else None
        if not has_direct or (unhashed is not None and unhashed.input_hash == input_hash):
            _mapping_notes(mapping, reporter, secrets, changed=False)
            reporter.event("pip", None, f"{REQUIREMENTS_NAME} is up to date")
            kept = {UNHASHED_NAME: unhashed_path.read_bytes()} if has_direct else {}
            return {REQUIREMENTS_NAME: path.read_bytes(), **kept}
    _mapping_notes(mapping, reporter, secrets, changed=True)
    if resolver is None:
        from lockgen.pypi.uv import UvResolver

        resolver = UvResolver(
            request.cache_dir, secrets, reporter, offline=request.offline, timeout_s=request.uv_timeout_s
        )
    early = started.runs if started else None
    resolved, direct = _resolve(request, platforms, previous, resolver, mapping, early=early)
    _check_editables(platforms, direct)
    shown = tuple(_relative(str(w), request) for w in warnings)
    described = f"digest {digest} (what the mapping says for the {count} conda packages locked)"
    header = replace(_header(request, platforms, described, input_hash), warnings=shown)
    if has_direct:
        base = Path(os.path.relpath(request.base_dir.resolve(), request.output_dir.resolve())).as_posix()
        header = replace(header, unhashed=UNHASHED_NAME, paths_base=base)
        if base not in (".", ".."):
            reporter.event(
                "warning",
                None,
                f"warning: {UNHASHED_NAME} starts its paths at {base}; `lockgen install` accepts only a lock folder"
                " in the environment file's folder or next to it (e.g. `-o locks`)",
            )
    # URLs are written without credentials already; `redact` (URL userinfo and /t/ tokens only, not
    # every registered string, which could match a package name) also covers text quoted from pip lines.
    from lockgen.pypi.render import render_requirements, render_unhashed

    requirements = redact(render_requirements(header, resolved)).encode()
    files: dict[str, bytes | None] = {REQUIREMENTS_NAME: requirements}
    if has_direct:
        files[UNHASHED_NAME] = redact(render_unhashed(header, direct)).encode()
    elif read_previous(unhashed_path) is not None:
        files[UNHASHED_NAME] = None  # lockgen wrote it and it is no longer needed (never remove another file)
    return files


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
        forced = request.update_all or bool(request.update) or _disagrees(self.previous, request.agreed)
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
        self.runs = _EarlyRuns()
        self._pool = ThreadPoolExecutor(max_workers=1 + len(request.platforms), thread_name_prefix="lockgen-pip")
        self._prepared = self._pool.submit(self._prepare, mapping_source)
        self._folder: Path | None = None
        self._folder_lock = threading.Lock()

    def _prepare(self, source: MappingSource | None) -> _Prepared:
        try:
            mapping = _mapping(self.request, NullReporter(), source, self.secrets)
        except Exception as exc:  # raised again by lock_pip_files, where it was raised before
            return _Prepared(error=exc)
        try:
            return _Prepared(mapping, _read_inputs(self.request, self.secrets))
        except Exception as exc:
            return _Prepared(mapping, error=exc)

    def prepared(self) -> _Prepared:
        return self._prepared.result()

    def solved(self, platform: str, pairs: tuple[tuple[str, str], ...]) -> None:
        """``platform``'s conda solution is known: start its uv run now (when :attr:`early`). Quick:
        called from the solver's event loop."""
        if self.early and any(p.platform == platform for p in self.request.platforms):
            self.runs.add(platform, self._pool.submit(self._run, platform, pairs))

    def solved_packages(self, platform: str, packages: Sequence[LockedPackage]) -> None:
        """:meth:`solved`, given the solver's packages."""
        self.solved(platform, tuple((p.name, p.version) for p in packages))

    def _run(self, platform: str, pairs: tuple[tuple[str, str], ...]) -> _Run | None:
        prepared = self.prepared()
        if prepared.error is not None or prepared.mapping is None or self.resolver is None:
            return None
        where = next(p for p in self.request.platforms if p.platform == platform)
        item, _notes = _platform(where, prepared.inputs[platform], pairs, prepared.mapping)  # notes: shown later
        if item.target is None:
            return None
        with self._folder_lock:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="lockgen-pip-"))
        job = _write_job(self._folder, item, self.previous, self.request)  # one folder per platform inside
        try:
            return item, self.resolver.compile([job])
        except LockgenError as exc:  # reported by lock_pip_files, if the run was given the final inputs
            return item, exc

    def close(self) -> None:
        """Wait for the runs started (a failed lock too: no uv is left running) and remove their files."""
        self._pool.shutdown(wait=True)
        if self._folder is not None:
            import shutil

            shutil.rmtree(self._folder, ignore_errors=True)


_Run = tuple[_Platform, "dict[str, str] | LockgenError"]
"""An early uv run: the inputs it was given, and its texts or its failure."""


class _EarlyRuns:
    """The uv runs :class:`PipStart` began, by platform."""

    def __init__(self) -> None:
        self._runs: dict[str, Future[_Run | None]] = {}

    def add(self, platform: str, run: Future[_Run | None]) -> None:
        self._runs[platform] = run

    def started(self, item: _Platform) -> bool:
        """Whether ``item``'s run began early with exactly these inputs (its result, or failure, stands)."""
        run = self._runs.get(item.platform)
        if run is None or run.exception() is not None:
            return False  # an unexpected error: the platform is resolved again, where it is reported
        result = run.result()
        return result is not None and result[0] == item

    def compile(
        self, resolver: PipResolver, jobs: Sequence[CompileJob], platforms: Sequence[_Platform]
    ) -> dict[str, str]:
        """The early runs' texts and those of ``jobs`` (run now, together); every failure reported."""
        from lockgen.pypi.uv import combine_failures

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
