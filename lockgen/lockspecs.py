"""``check`` of a platform lock beyond its hashes: the header lines and the package lines held to the inputs.

The digests on the input-hash line are plain sha256 anyone can recompute, so a pull request can
edit a lock and its digests together. What the files alone still prove, this checks with no
network: the ``# specs:``, ``# options:`` and ``# virtual-packages:`` lines are what the inputs and
options give (and agree with the input hash's own breakdown), every spec is met by a package
line (name, version and build), and no package appears twice. Whether each package's dependencies
are in the lock and nothing else is (a closed solution) needs repodata: ``lockgen verify``.
"""

from __future__ import annotations

from collections.abc import Sequence

from lockgen.lockfiles import ExplicitLock
from lockgen.lockfiles.header import short_digest
from lockgen.matchspec import spec_matches
from lockgen.models import dependency_name
from lockgen.plan import INPUT_PARTS, PlatformPlan
from lockgen.secrets import redact

__all__ = ["header_edits", "package_problems"]

_LINES = {"specs": "# specs:", "virtual": "# virtual-packages:", "options": "# options:"}


def _shown_specs(platform: PlatformPlan) -> tuple[str, ...]:
    return tuple(redact(s) if "://" in s else s for s in platform.request.specs)  # as the writer masks them


def _header_payload(lock: ExplicitLock) -> dict[str, dict[str, object]]:
    """Each header line's values as the input-hash payload held them (only the lines the lock has)."""
    found: dict[str, dict[str, object]] = {}
    if lock.specs is not None:
        found["specs"] = {"specs": list(lock.specs)}
    if lock.virtual is not None:
        found["virtual"] = {"virtual-packages": list(lock.virtual)}
    if lock.options is not None:
        values = dict(lock.options)
        keys = dict(INPUT_PARTS)["options"]
        payload: dict[str, object] = {key: None if values.get(key) == "none" else values.get(key) for key in keys}
        if isinstance(payload.get("format"), str) and str(payload["format"]).isdigit():
            payload["format"] = int(str(payload["format"]))
        found["options"] = payload
    return found


def header_edits(platform: PlatformPlan, lock: ExplicitLock) -> list[str]:
    """Header lines edited by hand: one that disagrees with the input hash's breakdown (``specs=``,
    ``virtual=``, ``options=``), or, when the input hash is the current one, with what the inputs give."""
    problems = []
    recorded = dict(lock.input_parts)
    for part, payload in _header_payload(lock).items():
        if part in recorded and short_digest(payload) != recorded[part]:
            problems.append(
                f"the `{_LINES[part]}` line does not match the input hash's {part}= part: edited after lockgen wrote it"
            )
    if problems or lock.input_hash != platform.input_hash:
        return problems
    now: dict[str, Sequence[object]] = {
        "specs": _shown_specs(platform),
        "virtual": tuple(str(v) for v in platform.request.virtual_packages),
        "options": platform.options,
    }
    was: dict[str, Sequence[object] | None] = {"specs": lock.specs, "virtual": lock.virtual, "options": lock.options}
    for part, value in now.items():
        before = was[part]
        if before is not None and tuple(before) != tuple(value):
            problems.append(f"the `{_LINES[part]}` line is not what the inputs give: edited after lockgen wrote it")
    return problems


def _spec_sources(platform: PlatformPlan) -> list[tuple[frozenset[str], str | None] | None]:
    """For each spec of ``platform``: the canonical URLs its ``channel::`` may name (``defaults``: any
    of Anaconda's) and its subdir, or None when it names no channel (the solver adds the channels a
    spec names to the platform's, so rattler's MatchSpec, which ignores a record's channel, cannot
    tell a package from another listed channel)."""
    from lockgen.channels import DEFAULTS_MAIN, DEFAULTS_WIN, split_channel_spec, with_spec_channels

    parsed = [split_channel_spec(text) for text in platform.request.specs]
    named = [channel for channel, _, _ in parsed if channel]
    if not named:
        return [None] * len(parsed)
    _, found = with_spec_channels(platform.request.channels, named, platform=platform.platform)
    sources: list[tuple[frozenset[str], str | None] | None] = []
    for channel, subdir, _ in parsed:
        if channel is None:
            sources.append(None)
            continue
        urls = {*DEFAULTS_MAIN, *DEFAULTS_WIN} if channel == "defaults" else {found[channel].canonical}
        sources.append((frozenset(u.rstrip("/") for u in urls), subdir))
    return sources


def package_problems(platform: PlatformPlan, lock: ExplicitLock) -> list[str]:
    """Each spec no package line meets (the spec and where it is written first), then each package
    listed twice."""
    by_name: dict[str, list[int]] = {}
    for index, entry in enumerate(lock.entries):
        by_name.setdefault(entry.name.lower(), []).append(index)  # conda's names: `NumPy` is numpy
    problems = []
    sources = _spec_sources(platform)
    for spec, origin, source in zip(_shown_specs(platform), platform.request.origins, sources, strict=False):
        name = dependency_name(spec.rpartition("::")[2] if "::" in spec else spec)
        found = by_name.get(name)
        if not found:
            problems.append(f"{name}: no package line, but `{spec}` ({origin}) asks for it")
            continue
        entry = lock.entries[found[0]]
        where = f"{entry.name} {entry.version} {entry.build} (line {entry.line})"
        if spec_matches(spec, entry.name.lower(), entry.version, entry.build, entry.subdir) is False:
            problems.append(f"{where} does not satisfy `{spec}` ({origin})")
        elif source is not None and (
            entry.package.channel.rstrip("/") not in source[0] or source[1] not in (None, entry.subdir)
        ):
            channel = redact(entry.package.channel)
            problems.append(f"{where} is from {channel}, not the channel `{spec}` names ({origin})")
    for name, indexes in by_name.items():
        if len(indexes) > 1:
            lines = ", ".join(str(lock.entries[i].line) for i in indexes)
            problems.append(f"{name} is listed more than once (lines {lines})")
    return problems
