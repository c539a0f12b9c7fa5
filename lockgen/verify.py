"""``lockgen verify``: check lock files against their channels' repodata, without installing.

For each ``@EXPLICIT`` file: every URL is a file in the channel's repodata, every hash equals the
record's, no package name appears twice, every line's subdir is the header's platform or
``noarch``, every dependency (virtual packages ``__*`` aside) is satisfied by another line of the
same file, ``constrains`` hold, and dependencies come before their dependents (members of a
dependency cycle may appear in either order), and the package lines still have the digest
``lock`` recorded in the header (a hand edit shows). The lock is the solution of its ``# specs:``
line: each spec is met by its package line, and every package is a spec's or another package's
dependency (a line a pull request added for nothing shows). ``check`` holds that line to the
environment file. Each problem is a :class:`Finding` naming the file,
line and package; the caller decides how to show them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.channels import Mirror, resolve_channel
from lockgen.errors import ChannelError, ConfigError, VerifyError
from lockgen.lockfiles import ExplicitEntry, ExplicitLock
from lockgen.lockfiles.lockdir import REQUIREMENTS_NAME, UNHASHED_NAME, LockProblem, read_lock_file
from lockgen.lockfiles.requirements import input_hash_of
from lockgen.lockfiles.unhashed import read_unhashed, unhashed_problems
from lockgen.models import dependency_name
from lockgen.platforms import check_platform, lock_file_names
from lockgen.progress import ReadingRepodata
from lockgen.records import dataclass
from lockgen.repodata.failures import fetch_failure, offline_miss
from lockgen.repodata.gateway import make_gateway
from lockgen.repodata.lookup import ChannelLookup, LookupResult, hash_of
from lockgen.reporting import NullReporter, Reporter
from lockgen.secrets import SecretRegistry, strip_credentials

if TYPE_CHECKING:
    from rattler import RepoDataRecord

__all__ = ["Finding", "LockReport", "VerifyOptions", "VerifyReport", "check_lock", "verify_locks"]


@dataclass(frozen=True, slots=True)
class Finding:
    file: Path
    line: int | None
    package: str | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else str(self.file)
        return f"{where}: {self.package}: {self.problem}" if self.package else f"{where}: {self.problem}"


@dataclass(frozen=True, slots=True)
class LockReport:
    path: Path
    platform: str | None
    packages: int
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    locks: tuple[LockReport, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for lock in self.locks for f in lock.findings)

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    lock_dir: Path
    cache_dir: Path
    platforms: tuple[str, ...] = ()
    """Empty: every ``@EXPLICIT`` ``*.txt`` file in ``lock_dir``."""
    mirrors: tuple[Mirror, ...] = ()
    filename_template: str = "{platform}.txt"
    offline: bool = False
    timeout_s: int = 60
    retries: int = 3


def _lock_paths(options: VerifyOptions) -> list[tuple[Path, str | None]]:
    """Each lock to check, with the platform its name promises (None for another ``@EXPLICIT`` file).

    Listing: every file the filename template names (one that is not valid UTF-8 is a finding, not
    skipped) and any other ``*.txt`` holding ``@EXPLICIT``.
    """
    if options.platforms:
        try:
            chosen = [check_platform(p) for p in options.platforms]
        except ValueError as exc:
            raise ConfigError(f"-p: {exc}") from None
        return [(options.lock_dir / options.filename_template.format(platform=p), p) for p in chosen]
    names = lock_file_names(options.filename_template)
    paths: list[tuple[Path, str | None]] = []
    for path in sorted(options.lock_dir.glob("*.txt")):
        try:
            data = path.read_bytes()
        except OSError:
            data = b"@EXPLICIT" if path.name in names else b""
        if path.name in names or b"@EXPLICIT" in data:
            paths.append((path, names.get(path.name)))
    if not paths:
        raise ConfigError(  # nothing to read: exit 2, as `diff` with no locks (never "ok" of nothing)
            f"no @EXPLICIT lock files in {options.lock_dir}: run `lockgen lock` first, or name the locks folder"
            " with -o"
        )
    return paths


def verify_locks(options: VerifyOptions, reporter: Reporter | None = None) -> VerifyReport:
    """Check every selected lock; raises ChannelError when a channel's repodata cannot be read."""
    reporter = reporter or NullReporter()
    parsed: list[tuple[Path, ExplicitLock | None, list[Finding]]] = []
    for path, platform in _lock_paths(options):
        read = read_lock_file(path, platform)
        if read.lock is not None:
            note = [Finding(path, None, None, f"header says platform {read.lock.platform}, expected {platform}")]
            parsed.append((path, read.lock, note if read.wrong_platform else []))
        elif read.problem is LockProblem.MISSING:
            parsed.append((path, None, [Finding(path, None, None, "no such lock file")]))
        elif read.problem is LockProblem.NOT_UTF8:
            problem = f"not valid UTF-8 (byte {read.bad_byte}): not a lock lockgen wrote"
            parsed.append((path, None, [Finding(path, None, None, problem)]))
        else:
            parsed.append((path, None, [Finding(path, None, None, f"cannot read: {read.error}")]))
    entries = [e for _, lock, _ in parsed if lock is not None for e in lock.entries]
    _refuse_unasked_channels(options, [(path, lock) for path, lock, _ in parsed if lock is not None])
    reporter.report(ReadingRepodata(len(entries)))
    found = asyncio.run(_lookup(options, entries))
    if found.failures:
        raise ChannelError(_fetch_failures(options, found.failures))
    reports = []
    for path, parsed_lock, findings in parsed:
        if parsed_lock is not None:
            findings.extend(check_lock(path, parsed_lock, found.records, found.removed))
        count = len(parsed_lock.entries) if parsed_lock else 0
        reports.append(LockReport(path, parsed_lock.platform if parsed_lock else None, count, tuple(findings)))
    unhashed = _unhashed_report(options.lock_dir)
    return VerifyReport(tuple(reports) + unhashed)


def _refuse_unasked_channels(options: VerifyOptions, locks: Sequence[tuple[Path, ExplicitLock]]) -> None:
    """VerifyError, before anything is fetched, when a lock line names a channel verify may not read on
    its own (:func:`~lockgen.channels.unasked_channels`): a lock line can name any host."""
    from lockgen.channels import PUBLIC_CHANNEL_HOSTS, unasked_channels
    from lockgen.secrets import strip_credentials

    lines: dict[str, list[str]] = {}
    for path, lock in locks:
        for entry in lock.entries:
            lines.setdefault(entry.package.channel, []).append(f"{path}:{entry.line}")
    refused = unasked_channels(lines, options.mirrors)
    if not refused:
        return
    shown = [
        f"  {strip_credentials(c)} ({lines[c][0]}{f' and {len(lines[c]) - 1} more lines' if len(lines[c]) > 1 else ''}"
        f"{'; its URL holds a backslash, which ends the host for rattler' if chr(92) in c else ''})"
        for c in refused
    ]
    raise VerifyError(
        "cannot verify: lock lines name channels verify does not read unless told to:\n" + "\n".join(shown) + "\n"
        f"  verify reads only {', '.join(sorted(PUBLIC_CHANNEL_HOSTS))} (https) and what a --mirror on its own"
        " command line names: a lock line, like anything a pull request commits, can name any host. If you"
        " trust such a channel, pass `--mirror CHANNEL=WHERE` (`--mirror CHANNEL=CHANNEL` reads it where it is)",
        [line.strip() for line in shown],
    )


def _unhashed_report(lock_dir: Path) -> tuple[LockReport, ...]:
    """requirements-unhashed.txt (VCS URLs, local projects): no hash to check, so its form: every VCS
    line at a full commit without a login, every path inside the project, written with requirements.txt."""
    path = lock_dir / UNHASHED_NAME
    if not path.is_file():
        return ()
    try:
        lock = read_unhashed(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return (LockReport(path, None, 0, (Finding(path, None, None, f"cannot read: {exc}"),)),)
    findings = [Finding(path, number, None, why) for number, why in unhashed_problems(lock)]
    if input_hash_of(lock_dir / REQUIREMENTS_NAME) != lock.input_hash:
        findings.append(Finding(path, None, None, "not written with requirements.txt (their input-hash lines differ)"))
    return (LockReport(path, None, len(lock.lines), tuple(findings)),)


def _fetch_failures(options: VerifyOptions, failures: Mapping[tuple[str, str], str]) -> str:
    """One line per channel/subdir whose repodata could not be read, worded as `lock` words them, then
    the fix for each channel once (the --mirror that would serve it)."""
    head = "cannot verify: repodata could not be read"
    if options.offline:
        listed = ", ".join(f"{channel}/{subdir}" for channel, subdir in sorted(failures))
        return f"{head}\n  {offline_miss(options.cache_dir, listed, mirrored=bool(options.mirrors))}"
    secrets = SecretRegistry()
    lines = [head]
    hints: list[str] = []
    for (channel, subdir), why in sorted(failures.items()):
        resolved = resolve_channel(channel, options.mirrors)
        secrets.add_url(resolved.fetch)
        where = secrets.redact(f"{resolved.fetch}/{subdir}")
        line = fetch_failure(where, why, channel=resolved, timeout_s=options.timeout_s, retries=options.retries)
        lines.append(f"  {line}")
        hint = f"  hint: {secrets.redact(resolved.mirror_hint())}"
        if hint not in hints:
            hints.append(hint)
    return "\n".join(lines + hints)


async def _lookup(options: VerifyOptions, entries: Sequence[ExplicitEntry]) -> LookupResult:
    secrets = SecretRegistry()
    for mirror in options.mirrors:
        secrets.add_url(mirror.replacement)
    gateway = make_gateway(
        options.cache_dir, offline=options.offline, timeout_s=options.timeout_s, retries=options.retries
    )
    return await ChannelLookup(gateway, options.mirrors, secrets).lookup(entries)


def check_lock(
    path: Path, lock: ExplicitLock, records: Mapping[str, RepoDataRecord], removed: frozenset[str] = frozenset()
) -> list[Finding]:
    """Every finding for one parsed lock, given the repodata records found for its URLs.

    ``removed``: URLs the channel lists as removed (yanked), for a more precise message.
    """
    findings = _header_findings(path, lock)
    first: dict[str, ExplicitEntry] = {}
    for entry in lock.entries:
        findings += _record_findings(path, lock, entry, records.get(entry.url), entry.url in removed)
        if entry.name in first:
            problem = f"duplicate package (also on line {first[entry.name].line})"
            findings.append(Finding(path, entry.line, entry.name, problem))
        else:
            first[entry.name] = entry
    findings += _closure_findings(path, first, records)
    findings += _solution_findings(path, lock, first, records)
    return sorted(findings, key=lambda f: (f.line or 0, f.problem))


def _solution_findings(
    path: Path, lock: ExplicitLock, by_name: Mapping[str, ExplicitEntry], records: Mapping[str, RepoDataRecord]
) -> list[Finding]:
    """The lock as the solution of its ``# specs:``: each spec met by its package line, and every
    package reached from the specs through the records' dependencies (nothing else was asked for)."""
    from lockgen.matchspec import spec_matches

    if lock.specs is None or any(entry.url not in records for entry in by_name.values()):
        return []  # an older lock, or lines the channel does not list (reported above)
    findings = []
    roots = []
    for spec in lock.specs:
        name = dependency_name(spec.rpartition("::")[2])
        roots.append(name)
        entry = by_name.get(name)
        if entry is None:
            findings.append(
                Finding(path, None, name, f"no package line, but the header's `# specs:` asks for `{spec}`")
            )
        elif spec_matches(spec, entry.name, entry.version, entry.build, entry.subdir) is False:
            have = f"{entry.version} {entry.build}"
            findings.append(
                Finding(path, entry.line, name, f"{have} does not satisfy `{spec}` (the header's `# specs:`)")
            )
    graph = _dependency_graph(by_name, records)
    reached = set(roots)
    stack = [name for name in roots if name in graph]
    while stack:
        for dep in graph[stack.pop()] - reached:
            reached.add(dep)
            stack.append(dep)
    for name, entry in by_name.items():
        if name not in reached:
            problem = f"{entry.version} {entry.build}: neither a spec nor a dependency of a package of the lock"
            findings.append(Finding(path, entry.line, name, f"not needed: {problem}"))
    return findings


def _header_findings(path: Path, lock: ExplicitLock) -> list[Finding]:
    findings = []
    if not lock.platform:
        findings.append(Finding(path, None, None, "no `# platform:` line before @EXPLICIT"))
    if not lock.entries:
        findings.append(Finding(path, None, None, "no packages after @EXPLICIT"))
    recorded = lock.recorded_packages_digest
    if recorded and recorded != lock.packages_digest():
        findings.append(
            Finding(
                path,
                None,
                None,
                f"package lines were edited after lockgen wrote them (header packages={recorded},"
                f" lines now {lock.packages_digest()})",
            )
        )
    return findings


def _record_findings(
    path: Path, lock: ExplicitLock, entry: ExplicitEntry, record: RepoDataRecord | None, removed: bool
) -> list[Finding]:
    def finding(problem: str) -> Finding:
        return Finding(path, entry.line, entry.name, problem)

    out = []
    if strip_credentials(entry.url) != entry.url:  # lockgen never writes a login or token into a lock
        out.append(finding("URL carries credentials (a login or a /t/ token): lockgen never writes them"))
    allowed = {lock.platform, "noarch"} if lock.platform else None
    if allowed and entry.subdir not in allowed:
        out.append(finding(f"URL is in subdir {entry.subdir}, but the lock is for {lock.platform}"))
    if record is None:
        channel = f"{entry.package.channel}/{entry.subdir}"
        if removed:
            return [*out, finding(f"{entry.file_name} was removed from {channel} (listed under `removed`)")]
        return [*out, finding(f"{entry.file_name} is not in the repodata of {channel}")]
    if allowed and record.subdir not in allowed:
        out.append(finding(f"record's subdir is {record.subdir}, but the lock is for {lock.platform}"))
    kind, expected = ("sha256", entry.sha256) if entry.sha256 else ("md5", entry.md5)
    actual = hash_of(record, kind)
    if actual is None:
        out.append(finding(f"the channel's record has no {kind} to compare with"))
    elif actual != expected:
        out.append(finding(f"{kind} mismatch: the lock says {expected}, the channel's repodata says {actual}"))
    return out


def _closure_findings(
    path: Path, by_name: Mapping[str, ExplicitEntry], records: Mapping[str, RepoDataRecord]
) -> list[Finding]:
    from rattler import MatchSpec

    findings = []
    graph = _dependency_graph(by_name, records)
    for name, entry in by_name.items():
        record = records.get(entry.url)
        if record is None:
            continue
        for kind, specs in (("depends on", record.depends), ("constrains", record.constrains)):
            for spec in specs:
                dep = dependency_name(spec)
                if dep.startswith("__"):
                    continue
                provider = by_name.get(dep)
                if provider is None:
                    if kind == "depends on":
                        findings.append(
                            Finding(path, entry.line, name, f"depends on `{spec}`, which no line of this lock provides")
                        )
                    continue
                provider_record = records.get(provider.url)
                try:
                    ok = provider_record is None or provider_record.matches(MatchSpec(spec, strict=False))
                except Exception:  # an unparsable spec in repodata: the solver would have skipped it too
                    ok = True
                if not ok:
                    have = f"{provider.name} {provider.version} {provider.build}"
                    findings.append(
                        Finding(path, entry.line, name, f"{kind} `{spec}`, but line {provider.line} has {have}")
                    )
                if kind == "depends on" and provider.line > entry.line and not _reaches(graph, dep, name):
                    findings.append(
                        Finding(
                            path,
                            entry.line,
                            name,
                            f"out of dependency order: needs {dep} (line {provider.line}), which must come first",
                        )
                    )
    return findings


def _dependency_graph(
    by_name: Mapping[str, ExplicitEntry], records: Mapping[str, RepoDataRecord]
) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, entry in by_name.items():
        record = records.get(entry.url)
        depends = record.depends if record is not None else []
        graph[name] = {d for d in map(dependency_name, depends) if d in by_name and d != name}
    return graph


def _reaches(graph: Mapping[str, set[str]], start: str, goal: str) -> bool:
    """Whether ``start`` depends, directly or not, on ``goal`` (then the two form a cycle)."""
    seen = {start}
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False
