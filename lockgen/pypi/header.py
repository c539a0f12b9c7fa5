"""What requirements.txt's header says about the pip lock: the options lines, the platforms resolved
against what, the sources and digests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.pypi.digests import pip_source_lines
from lockgen.pypi.pipinput import PipInput
from lockgen.secrets import strip_credentials

if TYPE_CHECKING:
    from lockgen.lockfiles.requirements import Header
    from lockgen.plan import PipRequest
    from lockgen.pypi.inputs import PlatformInputs


def option_lines(inputs: Iterable[PipInput]) -> tuple[str, ...]:
    """The pip options lines requirements.txt carries for these platforms' pip sections (credentials removed)."""
    options: list[str] = []
    for pip in inputs:
        lines = [f"--index-url {strip_credentials(pip.index_url)}"] if pip.index_url else []
        lines += [f"--extra-index-url {strip_credentials(u)}" for u in pip.extra_index_urls]
        lines += [f"--find-links {strip_credentials(u)}" for u in pip.find_links if "://" in u]
        options += [line for line in lines if line not in options]
    return tuple(options)


def pip_header(request: PipRequest, platforms: Sequence[PlatformInputs], mapping: str, input_hash: str) -> Header:
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
