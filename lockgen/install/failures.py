"""How ``install`` words the package files it could not fetch or verify: failures that share their
reason and where they come from (a mirror, a channel) are one line with their count, so a mirror
holding repodata but no package files reads as one line, not one per package."""

from __future__ import annotations

from collections.abc import Sequence

from lockgen.channels import Mirror
from lockgen.install.download import DownloadFailure
from lockgen.models import PackageUrl

__all__ = ["describe_failures"]

GROUP_AT = 3
"""This many failures with the same reason and source are said in one line."""
MOST_LINES = 20


def _source(url: str, mirrors: Sequence[Mirror]) -> tuple[str, bool]:
    """Where ``url`` (a fetch URL, masked) comes from: the mirror serving it, else its channel folder."""
    for mirror in mirrors:
        if url.startswith(mirror.replacement.rstrip("/") + "/"):
            return f"the mirror {mirror.replacement} (for {mirror.canonical})", True
    return PackageUrl.parse(url).channel, False


def describe_failures(failures: Sequence[DownloadFailure], total: int, mirrors: Sequence[Mirror] = ()) -> list[str]:
    """The lines for ``failures`` (of ``total`` packages): grouped by reason and source, at most
    :data:`MOST_LINES`, with the fix when a mirror lacks the files."""
    groups: dict[tuple[str, str], list[DownloadFailure]] = {}
    mirrored: set[str] = set()
    for failure in sorted(failures, key=lambda f: f.entry.line):
        source, is_mirror = _source(failure.url, mirrors)
        if is_mirror:
            mirrored.add(source)
        groups.setdefault((failure.problem, source), []).append(failure)
    lines: list[str] = []
    for (problem, source), items in groups.items():
        if len(items) >= GROUP_AT:
            first = items[0]
            lines.append(
                f"{len(items)} of {total} packages from {source}: {problem}"
                f" (first: line {first.entry.line}, {first.entry.name}, {first.url})"
            )
        else:
            lines += [str(f) for f in items]
    if len(lines) > MOST_LINES:
        lines[MOST_LINES - 1 :] = [f"... and {len(lines) - MOST_LINES + 1} more lines like these"]
    missing = any("missing" in f.problem or "cannot read the file" in f.problem for f in failures)
    if mirrored and missing:
        lines.append(
            "hint: a mirror that holds the repodata but not the package files can lock but not install;"
            " point --mirror at a copy that has the files, or leave --mirror out to fetch them from the channels"
        )
    return lines
