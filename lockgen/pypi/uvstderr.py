"""What uv's stderr says, read: which packages need a build from source, which names no index has,
whether an index could not be reached, which requirement clashes with what conda installs, and the
message lockgen shows for a failed ``uv pip compile`` (several platforms' failures said once).

uv's stderr is human text, not an API: these patterns read the wording of the uv versions
pyproject.toml allows. ``tests/data/uv-output/`` keeps what each of them printed, read by
``tests/unit/test_uv_output.py``; ``tests/integration/test_uv_wording.py`` runs the installed uv
(docs/pip.md, "uv versions": what to do when bumping uv).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from lockgen.errors import ChannelError, LockgenError, PypiResolutionError
from lockgen.pypi.stubs import LOCAL_LABEL, ProvidedPackage
from lockgen.pypi.targets import PipTarget
from lockgen.records import dataclass

NETWORK = re.compile(
    r"(error sending request|dns error|failed to lookup address|Could not connect|connection refused|"
    r"tcp connect error|operation timed out|Request failed after \d+ retr|Network is unreachable|"
    r"client error \(Connect\)|HTTP status server error|status code 5\d\d|too many redirects|"
    r"Missing `?Content-Type`? header|error decoding response body)",
    re.IGNORECASE,
)
_SPEC = r"(?:[=<>!~]=?[^\s,]*)(?:,[=<>!~]=?[^\s,]+)*"
_DEPENDS = re.compile(
    rf"(?P<all>all versions of )?(?P<who>[A-Za-z0-9][A-Za-z0-9._\-]*(?:\[[^\]]*\])?(?:{_SPEC})?)"
    rf" depends? on (?P<dep>[A-Za-z0-9][A-Za-z0-9._\-]*)(?P<spec>{_SPEC})?"
)
_REQUIRE = re.compile(
    r"you require (?P<req>(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*)(?:\[[^\]]*\])?[^\s,]*) and "
    r"(?P=name)==[^\s,]*\+" + LOCAL_LABEL
)
_BUILD_FAILED = re.compile(r"Failed to (?:download and )?build `(?P<what>[^`]+)`")
_WHEELS_REQUIRED = re.compile(r"Wheels are required for `(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*)(?:\[[^\]]*\])?`")
_BUILD_DISABLED = re.compile(
    r"Building source distributions (?:for `?(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*)`? )?is disabled"
)
NO_SDIST = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*)(?:[=<>!~]=?[^\s,]+)? has no source distribution")
_NO_WHEEL = re.compile(
    r"(?P<what>[A-Za-z0-9][A-Za-z0-9._\-]*(?:[=<>!~]=?[^\s,]+)?) has no (?:usable )?wheels"
    r"(?P<rest> with a matching (?:platform|Python ABI|Python implementation) tag)?"
)

NOT_IN_REGISTRY = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*) was not found in the (?:package registry|provided package locations)"
)
NOT_FOUND = re.compile(r"not found in the package registry|there (?:are|is) no versions of", re.IGNORECASE)
_YANKED = re.compile(
    r"^warning: `(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*)==(?P<version>[^`\s]+)` is yanked(?: \(reason: (?P<why>.*)\))?$",
    re.MULTILINE,
)
_NO_EXTRA = re.compile(
    r"^warning: The package `(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*)==(?P<version>[^`\s]+)` does not have an extra"
    r" named `(?P<extra>[^`]+)`$",
    re.MULTILINE,
)


_BOX = re.compile(r"[│├╰─▶×]")
_GIT_FETCH = re.compile(r"git fetch [^`]*?'(?P<url>[^'\s]+)' '[^'\s]+'")
_GIT_REF = re.compile(r"failed to fetch (?:branch or tag|branch|tag|commit) `(?P<ref>[^`]+)`")
_GIT_FATAL = re.compile(r"^(?P<indent>.*?)fatal: (?P<why>\S.*)$", re.MULTILINE)
_GIT_CACHE = re.compile(r"^.*failed to (?:clone|fetch) into: \S+\n", re.MULTILINE)
"""uv's line naming its git cache folder: "clone" for the first platform's run, "fetch" for the next."""
_NO_REF = re.compile(r"couldn't find remote ref|not our ref|did not match any|unknown revision", re.IGNORECASE)
_NO_REPO = re.compile(
    r"does not appear to be a git repository|repository .*not found|returned error: 40[134]|"
    r"Authentication failed|could not read Username|terminal prompts disabled",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class GitFailure:
    """A git fetch uv ran that failed: the repository URL as uv passed it to git (a password masked
    by uv and by the secret registry), the ref asked for, and git's own reason."""

    url: str
    ref: str | None
    said: str
    """git's first ``fatal:`` message, on one line (empty when there is none)."""

    @property
    def ref_missing(self) -> bool:
        return self.ref is not None and _NO_REF.search(self.said) is not None

    @property
    def repository_missing(self) -> bool:
        return _NO_REPO.search(self.said) is not None


def git_failure(stderr: str) -> GitFailure | None:
    """The git fetch a failed uv run names (``Git operation failed``), None when there is none."""
    if "Git operation failed" not in stderr:
        return None
    flat = " ".join(_BOX.sub(" ", stderr).split())
    fetch = _GIT_FETCH.search(flat)
    if fetch is None:
        return None
    ref = _GIT_REF.search(flat)
    fatal = _GIT_FATAL.search(stderr)
    said = _git_said(stderr, fatal) if fatal else ""
    return GitFailure(fetch.group("url"), ref.group("ref") if ref else None, said)


def _git_said(stderr: str, fatal: re.Match[str]) -> str:
    """git's ``fatal:`` message, with the lines uv before 0.13 wrapped it onto (same indent, up to a
    blank line or the next ``fatal:``), on one line."""
    said = [fatal.group("why").strip()]
    indent = " " * len(fatal.group("indent"))
    for line in stderr[fatal.end() :].splitlines()[1:]:
        if not line.startswith(indent) or not line[len(indent) :].strip() or line[len(indent)] == " ":
            break
        if line[len(indent) :].startswith("fatal:"):
            break
        said.append(line.strip())
    return " ".join(said)[:200]


def needs_build(stderr: str) -> list[str]:
    """Canonical names of the packages a wheels-only uv run failed on because none of their wheels fits."""
    from packaging.utils import canonicalize_name

    flat = " ".join(stderr.split())
    names = [m.group("name") for m in _WHEELS_REQUIRED.finditer(flat)]
    names += [m.group("name") for m in _BUILD_DISABLED.finditer(flat) if m.group("name")]
    for match in _NO_WHEEL.finditer(flat):
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._\-]*", match.group("what"))
        if name:
            names.append(name.group(0))
    return list(dict.fromkeys(str(canonicalize_name(n)) for n in names))


_CAUSE = re.compile(r"^\s*(?:[A-Za-z_.]*(?:Error|Exception|Exit)|error): \S.*$")


def _build_cause(stderr: str) -> str | None:
    """The last error line a failed build printed (``ModuleNotFoundError: No module named 'distutils'``)."""
    found = [line.strip() for line in stderr.splitlines() if _CAUSE.match(line) and "Failed to build" not in line]
    if not found:
        return None
    cause = found[-1]
    return cause if len(cause) <= 200 else cause[:200] + "..."


def matched_names(pattern: re.Pattern[str], stderr: str) -> list[str]:
    from packaging.utils import canonicalize_name

    return [str(canonicalize_name(m.group("name"))) for m in pattern.finditer(" ".join(stderr.split()))]

def combine_failures(failures: list[LockgenError]) -> LockgenError:
    """One error for the failures of several platforms' runs (a network failure first)."""
    network = [f for f in failures if isinstance(f, ChannelError)]
    if network:
        return ChannelError(said_once([f.message for f in network], "\n"))
    other = [f for f in failures if not isinstance(f, PypiResolutionError)]
    if other or len(failures) == 1:
        return (other or failures)[0]
    missing = tuple(dict.fromkeys(n for f in failures if isinstance(f, PypiResolutionError) for n in f.missing))
    return PypiResolutionError(said_once([f.message for f in failures], "\n\n"), missing)



def said_once(messages: Sequence[str], separator: str) -> str:
    """Per-platform messages (each starting ``<platform>: ``) with the same text said once, for the
    platforms it concerns: ``linux-64, osx-64, win-64: the pip section cannot be resolved ...``."""
    groups: dict[str, list[str]] = {}
    for message in messages:
        platform = message.split(":", 1)[0]
        key = message.replace(platform, "\0") if platform and " " not in platform else message
        groups.setdefault(key, []).append(platform)
    return separator.join(key.replace("\0", ", ".join(ps)) for key, ps in groups.items())


def indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.strip().splitlines())


_NO_VERSION = re.compile(
    r"(?:there is no version of|only (?P<only>[A-Za-z0-9][A-Za-z0-9._\-]*[<>=!~]=?[^\s,]+) is available and you"
    r" require) (?P<req>(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*)(?:\[[^\]]*\])?[=<>!~]\S*)"
)
_FAILURE_START = re.compile(r"^(?:error: |\s*× )", re.MULTILINE)


def failure_said(stderr: str) -> str:
    """A failed run's stderr from its error on: without the warnings and progress lines uv prints
    before it when not ``--quiet`` (``Requirements file ... does not contain any dependencies``,
    ``Updating <git url>``), as ``--quiet`` would have printed it (the whole text if no error line)."""
    start = _FAILURE_START.search(stderr)
    return stderr[start.start() :] if start else stderr


def resolved_warnings(stderr: str, origins: Mapping[str, str]) -> list[str]:
    """What a ``uv pip compile`` that succeeded warned about and the lock must not hide (uv prints it
    only without ``--quiet``): a yanked version it locked, an extra the package does not have (pip
    ignores it, so nothing is locked for it; a stub of what conda installs lists no extras: not said).
    Each names the pip line (``origins``) where known; the platforms that say the same are not named."""
    from packaging.utils import canonicalize_name

    found = []
    for match in _YANKED.finditer(stderr):
        where = origins.get(canonicalize_name(match.group("name")))
        why = (match.group("why") or "").strip().strip('"')
        reason = f" (reason: {why})" if why else ""
        found.append(
            f"{where + ': ' if where else ''}{match.group('name')} {match.group('version')} is yanked"
            f" on the index{reason}; the lock pins it with `==`, so pip installs it (with a warning): pin a version"
            f" that is not yanked (`--update {match.group('name')}` if the earlier lock kept it)"
        )
    for match in _NO_EXTRA.finditer(stderr):
        if match.group("version").endswith(f"+{LOCAL_LABEL}"):
            continue
        where = origins.get(canonicalize_name(match.group("name")))
        found.append(
            f"{where + ': ' if where else ''}{match.group('name')} {match.group('version')} has no"
            f" extra `{match.group('extra')}`: nothing is locked for it (pip ignores it too, with a warning);"
            " check the extra's name"
        )
    return found


def _conda_side(package: ProvidedPackage, platform: str) -> str:
    alias = "" if package.conda_name == package.name else f" (as {package.conda_name})"
    return f"conda provides {package.name} {package.conda_version}{alias} on {platform}"


def _conda_hint(package: ProvidedPackage, spec: str, origin: str | None) -> str:
    """The constraint to add to the conda dependencies so conda picks a version pip accepts."""
    constraint = spec.replace("===", "==").replace(" ", "")
    where = f" (pip requirement at {origin})" if origin else ""
    if not constraint:
        return f"    hint: {package.conda_name} comes from conda; remove the pip requirement or the conda one{where}"
    return (
        f"    hint: add `{package.conda_name}{constraint}` to the conda dependencies, so conda installs"
        f" a {package.name} version the pip requirement accepts{where}"
    )


def explain_failure(
    stderr: str,
    target: PipTarget,
    provided: Mapping[str, ProvidedPackage],
    origins: Mapping[str, str] | None = None,
    *,
    only_binary: bool = True,
    builder: str | None = None,
) -> str:
    """A message naming both sides of each conflict with conda, with the conda constraint that
    fixes it (and where the pip requirement is written), then uv's own explanation. ``builder``
    names the interpreter sdist metadata is built with (:meth:`UvResolver.builder`)."""
    from packaging.utils import canonicalize_name

    platform = target.platform
    origins = origins or {}
    findings: list[str] = []
    flat = " ".join(stderr.split())
    for match in _DEPENDS.finditer(flat):
        dep = canonicalize_name(match.group("dep"))
        if dep in provided:
            spec = (match.group("spec") or "").rstrip(".")
            who = f"every version of {match.group('who')}" if match.group("all") else match.group("who")
            name = re.match(r"[A-Za-z0-9][A-Za-z0-9._\-]*", match.group("who"))
            origin = origins.get(canonicalize_name(name.group(0))) if name else None
            findings.append(
                f"{who} needs {dep}{spec}; {_conda_side(provided[dep], platform)}\n"
                + _conda_hint(provided[dep], spec, origin)
            )
    for match in _REQUIRE.finditer(flat):
        dep = canonicalize_name(match.group("name"))
        if dep in provided:
            spec = match.group("req")[len(match.group("name")) :]
            spec = re.sub(r"^\[[^\]]*\]", "", spec)
            findings.append(
                f"pip: asks for {match.group('req')}; {_conda_side(provided[dep], platform)}\n"
                + _conda_hint(provided[dep], spec, origins.get(dep))
            )
    for match in _NO_WHEEL.finditer(flat):
        where = f"{target.python_platform}, Python {target.python_version}"
        why = "--only-binary refuses its sdist" if only_binary else "it has no sdist to build from"
        findings.append(f"{match.group('what')} has no wheel for {platform} ({where}), and {why}")
    for match in _NO_VERSION.finditer(flat):
        missing = canonicalize_name(match.group("name"))
        if missing in provided:
            continue  # a clash with conda, said above
        only = f" (the index has {match.group('only')})" if match.group("only") else ""
        where = f" (pip requirement at {origins[missing]})" if missing in origins else ""
        findings.append(
            f"{match.group('req').rstrip(',.')}: no version on the index matches{only}; pin a version it has"
            f" (`pip index versions {match.group('name')}` lists them){where}"
        )
    git = git_failure(stderr) is not None
    building = [] if git else list(_BUILD_FAILED.finditer(flat))  # a failed git fetch built nothing
    if git:  # the same failure on every platform reads the same, so it is said once
        stderr = _GIT_CACHE.sub("", stderr)
    for match in building:
        cause = _build_cause(stderr)
        findings.append(
            f"{match.group('what')}: building its sdist for metadata failed on this machine"
            + (f" with {builder}" if builder else "")
            + (f": {cause}" if cause else "")
            + " (uv's output below); pin a version that has a wheel for the target, or fix the build (its build"
            " requirements come from the index)"
        )
    head = f"{platform}: the pip section cannot be resolved"
    lines = [head + (":" if findings else " (uv's explanation below)")]
    lines += [f"  - {f}" for f in dict.fromkeys(findings)]
    lines.append(f"  uv says (`+{LOCAL_LABEL}` versions are what conda installs):")
    lines.append(indent(stderr.replace("error: ", "", 1)))
    return "\n".join(lines)
