"""Run uv over every platform's job and keep what pip installs: the hashed pins (conda's packages left
out, ``--hash`` options honoured) and the VCS/local lines; a name no index has gets suggestions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.errors import InputError, Problem, PypiResolutionError
from lockgen.lockfiles.requirements import VCS_PREFIXES, Pin, PreviousLock, parse_compiled
from lockgen.pypi.direct import direct_lines
from lockgen.pypi.inputs import env_relative
from lockgen.pypi.jobs import write_job
from lockgen.pypi.pipinput import GivenHashes
from lockgen.secrets import public_vcs_url, strip_credentials, without_login

if TYPE_CHECKING:
    from lockgen.plan import PipRequest
    from lockgen.pypi.inputs import PlatformInputs
    from lockgen.pypi.mapping import PypiMapping
    from lockgen.pypi.start import EarlyRuns
    from lockgen.pypi.uv import PipResolver


def resolve(
    request: PipRequest,
    platforms: Sequence[PlatformInputs],
    previous: PreviousLock | None,
    resolver: PipResolver,
    mapping: PypiMapping,
    *,
    early: EarlyRuns | None = None,
) -> tuple[dict[str, tuple[Pin, ...]], dict[str, tuple[str, ...]]]:
    """Per platform: the hashed pins, and the pinned VCS/local-project lines. ``early``: the
    platforms whose uv run started while conda was still solving others (their results are used)."""
    import tempfile  # not at import: a no-op lock resolves nothing

    with tempfile.TemporaryDirectory(prefix="lockgen-pip-") as tmp:
        todo = [item for item in platforms if item.target is not None and not (early and early.started(item))]
        jobs = [write_job(Path(tmp), item, previous, request) for item in todo]
        try:
            texts = early.compile(resolver, jobs, platforms) if early else resolver.compile(jobs)
        except PypiResolutionError as exc:
            lead = _git_lines(exc.message, platforms, request)
            if not exc.missing and not lead:
                raise
            message = _with_suggestions(exc, request, platforms, mapping) if exc.missing else exc.message
            raise PypiResolutionError("\n".join([*lead, message]), exc.missing) from exc
    resolved: dict[str, tuple[Pin, ...]] = {}
    direct: dict[str, tuple[str, ...]] = {}
    problems: list[Problem] = []
    for item in platforms:
        provided = {p.name for p in item.provided}
        text = texts.get(item.platform, "")
        pins = parse_compiled(text)
        kept = [p for p in pins if p.name not in provided and "+conda" not in p.version and not _is_vcs(p)]
        resolved[item.platform] = _with_given_hashes(kept, item.pip.given_hashes, item.platform, problems, request)
        direct[item.platform] = direct_lines(text, item.pip.direct, request.base_dir)
    if problems:
        raise InputError(problems)
    return resolved, direct


def _with_suggestions(
    exc: PypiResolutionError, request: PipRequest, platforms: Sequence[PlatformInputs], mapping: PypiMapping
) -> str:
    """uv's failure led by one line per requirement no index has: file:line and the close names
    that exist on the index (:mod:`lockgen.pypi.suggest`)."""
    from lockgen.pypi.suggest import candidate_names, no_index_lines, suggestion_lines

    origins = {name: env_relative(str(where), request) for item in platforms for name, where in item.pip.names}
    pip = next((item.pip for item in platforms if item.target is not None), None)
    if pip is not None and pip.no_index:  # uv looked in the find-links locations only: no PyPI name is a hint
        at = env_relative(str(pip.no_index_at), request) if pip.no_index_at else ""
        shown = [_shown_location(f, request.base_dir) for f in pip.find_links]
        return "\n".join([*no_index_lines(exc.missing, origins, pip.find_links, shown, at), exc.message])
    indexes: list[str] = []
    if pip is not None and not pip.no_index:
        indexes = [pip.index_url or "https://pypi.org/simple", *pip.extra_index_urls]
    candidates = candidate_names(mapping.tables, origins)
    lines = suggestion_lines(
        exc.missing, origins, indexes, candidates, network=bool(indexes) and not request.offline, http=request.http
    )
    return "\n".join([*lines, exc.message])


def _git_lines(message: str, platforms: Sequence[PlatformInputs], request: PipRequest) -> list[str]:
    """A git fetch uv could not do, tied to the pip line that asked for it: file:line, the URL without
    login, git's reason and the fix (none when uv's failure is not a git fetch)."""
    from lockgen.pypi.uvstderr import git_failure

    failure = git_failure(message)
    if failure is None:
        return []
    said = f" (git: {without_login(failure.said)})" if failure.said else ""
    if failure.ref_missing:
        why = f"the repository has no branch, tag or commit `{failure.ref}`{said}; check the ref after `@`"
    elif failure.repository_missing:
        why = (
            f"git could not fetch the repository{said}; check the URL (a private repository needs a login git"
            " can use: ~/.netrc or a credential helper, never one written in the URL)"
        )
    else:
        why = f"git could not fetch it{said}"
    wanted = _repository(failure.url)
    lines = [
        f"{env_relative(str(direct.where), request)}: `{public_vcs_url(direct.vcs_url)}`: {why}"
        for item in platforms
        for direct in item.pip.direct
        if direct.vcs_url is not None and _repository(direct.vcs_url) == wanted
    ]
    return list(dict.fromkeys(lines)) or [f"a dependency's git URL `{public_vcs_url(failure.url)}`: {why}"]


def _repository(url: str) -> str:
    """A repository URL compared without ``git+``, login, ref, fragment or ``.git``: the line's URL and
    the one uv hands git (``https://user:****@host/org/repo.git``) give the same key."""
    text = re.sub(r"^[a-z]+\+", "", url.split("#", 1)[0])
    scheme, _, rest = text.partition("://")
    host, _, path = rest.partition("/")
    path = path.rpartition("@")[0] if "@" in path else path
    return f"{scheme}://{host.rpartition('@')[2].lower()}/{path.rstrip('/').removesuffix('.git')}"


def _shown_location(location: str, base: Path) -> str:
    """A find-links folder relative to the environment file's folder when inside it; a URL without login."""
    if "://" in location:
        return strip_credentials(location)
    path = Path(location)
    return str(path.relative_to(base.resolve())) if path.is_relative_to(base.resolve()) else location


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
                env_relative(wanted.where.file, request),
                wanted.where.line,
            )
            if problem not in problems:
                problems.append(problem)
            continue
        result.append(replace(pin, hashes=kept))
    return tuple(result)


def _is_vcs(pin: Pin) -> bool:
    return pin.url is not None and pin.url.startswith(VCS_PREFIXES)
