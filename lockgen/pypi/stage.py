"""The pip stage: the pip section → ``requirements.txt`` (and ``requirements-unhashed.txt``), resolved
against what conda installs, or the existing files kept when their input hash is unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.errors import InputError, Problem
from lockgen.lockfiles.lockdir import REQUIREMENTS_NAME, UNHASHED_NAME
from lockgen.lockfiles.requirements import PreviousLock, read_previous
from lockgen.pipprogress import PipMapping, PipUpToDate
from lockgen.pypi.digests import mapping_digest, pip_input_hash
from lockgen.pypi.inputs import all_platform_inputs, disagrees, env_relative, mapping_for, pip_warnings, read_inputs
from lockgen.pypi.pipinput import PipInput
from lockgen.reporting import Notice, Reporter
from lockgen.secrets import SecretRegistry, redact

if TYPE_CHECKING:
    from lockgen.plan import PipRequest
    from lockgen.pypi.inputs import Conda
    from lockgen.pypi.mapping import MappingSource, PypiMapping
    from lockgen.pypi.start import PipStart
    from lockgen.pypi.uv import PipResolver


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
        return mapping_for(request, reporter, mapping_source, secrets), read_inputs(request, secrets)
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
    platforms = all_platform_inputs(request, inputs, conda, mapping, reporter)
    warnings = pip_warnings(request, platforms, mapping)
    if warnings and request.strict:
        raise InputError([replace(w, message=f"{secrets.redact(w.message)} (--strict)") for w in warnings])
    for warning in warnings:
        # said as `warning: file:line: message` (docs/pip.md), the location inside the message
        reporter.report(Notice(Problem(secrets.redact(str(warning)), severity="warning")))
    digest, count = mapping_digest(conda, mapping)
    mapping.remember()  # what it answered for these packages: the next no-op parses no table
    reporter.report(PipMapping(mapping.description, digest, count))
    input_hash = pip_input_hash(request, platforms, digest)
    path = request.output_dir / REQUIREMENTS_NAME
    unhashed_path = request.output_dir / UNHASHED_NAME
    has_direct = any(item.pip.direct for item in platforms)
    previous = previous if previous is not None else read_previous(path)
    targets = [p.platform for p in request.platforms]
    forced = request.update_all or bool(request.update) or disagrees(previous, request.agreed, targets)
    if previous is not None and previous.input_hash == input_hash and not forced:
        unhashed = read_previous(unhashed_path) if has_direct else None
        if not has_direct or (unhashed is not None and unhashed.input_hash == input_hash):
            _mapping_notes(mapping, reporter, secrets, changed=False)
            reporter.report(PipUpToDate(REQUIREMENTS_NAME))
            kept = {UNHASHED_NAME: unhashed_path.read_bytes()} if has_direct else {}
            return {REQUIREMENTS_NAME: path.read_bytes(), **kept}
    _mapping_notes(mapping, reporter, secrets, changed=True)
    # here, not at import: a lock whose pip section is up to date (above) resolves nothing
    from lockgen.pypi.direct import check_editables
    from lockgen.pypi.header import pip_header
    from lockgen.pypi.resolve import resolve

    if resolver is None:
        from lockgen.pypi.uv import UvResolver

        resolver = UvResolver(
            request.cache_dir, secrets, reporter, offline=request.offline, timeout_s=request.uv_timeout_s
        )
    early = started.runs if started else None
    resolved, direct = resolve(request, platforms, previous, resolver, mapping, early=early)
    check_editables(platforms, direct)
    shown = tuple(env_relative(str(w), request) for w in warnings)
    described = f"digest {digest} (what the mapping says for the {count} conda packages locked)"
    header = replace(pip_header(request, platforms, described, input_hash), warnings=shown)
    if has_direct:
        base = Path(os.path.relpath(request.base_dir.resolve(), request.output_dir.resolve())).as_posix()
        header = replace(header, unhashed=UNHASHED_NAME, paths_base=base)
        if base not in (".", ".."):
            message = (
                f"{UNHASHED_NAME} starts its paths at {base}; `lockgen install` accepts only a lock folder"
                " in the environment file's folder or next to it (e.g. `-o locks`)"
            )
            reporter.report(Notice(Problem(message, severity="warning")))
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


def _mapping_notes(mapping: PypiMapping, reporter: Reporter, secrets: SecretRegistry, *, changed: bool) -> None:
    """The mapping's notes (could not be fetched, a cached copy used) are warnings when the pip lock
    is resolved again, and only progress (``-v``) when it is kept: once per change, not every run."""
    for note in mapping.notes:
        reporter.report(Notice(Problem(secrets.redact(note), severity="note"), repeated=not changed))
