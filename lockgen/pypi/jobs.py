"""One platform's ``uv pip compile`` job written to files: requirements, stub wheels and constraints,
the group's agreed pins, earlier pins to keep.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.lockfiles.requirements import PreviousLock
from lockgen.pypi.inputs import env_relative

if TYPE_CHECKING:
    from lockgen.plan import PipRequest
    from lockgen.pypi.inputs import PlatformInputs
    from lockgen.pypi.uv import CompileJob


def write_job(root: Path, item: PlatformInputs, previous: PreviousLock | None, request: PipRequest) -> CompileJob:
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
    probe = folder / "named.in" if named and not item.pip.prefer_binary else None  # --prefer-binary: wheels win
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
        origins={name: env_relative(str(where), request) for name, where in item.pip.names},
    )
