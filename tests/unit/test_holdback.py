"""`why not newer`: the causes are the specs whose removal lets a newer version solve; the chain is
where their dependencies meet the newer version's (a fake solver with a tiny dependency world)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from lockgen.config import build_options
from lockgen.errors import SolveError
from lockgen.holdback import why_not_newer
from lockgen.lockfiles import render_explicit
from lockgen.models import LockedPackage
from lockgen.plan import plan
from lockgen.solverequest import SolveRequest
from tests.support.options import flags

CHANNEL = "https://conda.anaconda.org/conda-forge"
ENV = "channels: [conda-forge]\nplatforms: [linux-64]\ndependencies:\n  - app >=1\n  - plugin\n  - tool\n"


def _pkg(name: str, version: str, *depends: str) -> LockedPackage:
    url = f"{CHANNEL}/linux-64/{name}-{version}-0.conda"
    return LockedPackage(name, version, "0", "linux-64", url, hashlib.md5(url.encode()).hexdigest(), depends=depends)


class World:
    """app 2.0 needs libc >=2; plugin needs libc <2: app >1 and plugin cannot be together. tool 1.1 is
    there for the asking."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def solve(self, requests: Sequence[SolveRequest]) -> dict[str, tuple[LockedPackage, ...]]:
        (request,) = requests
        specs = request.specs
        self.calls.append(specs)
        newer = "app >=1,>1.0" in specs  # the environment file's `app >=1`, narrowed by the probe
        if newer and any(s.startswith("plugin") for s in specs):
            raise SolveError("no solution", ("linux-64",))
        packages = [_pkg("app", "2.0", "libc >=2") if newer else _pkg("app", "1.0", "libc")]
        packages.append(_pkg("libc", "2.1" if newer else "1.9"))
        if any(s.startswith("plugin") for s in specs):
            packages += [_pkg("plugin", "1.0", "helper"), _pkg("helper", "1.0", "libc <2")]
        if any(s.startswith("tool") for s in specs):
            packages.append(_pkg("tool", "1.1" if "tool >1.0" in specs else "1.0"))  # `tool`, narrowed
        return {"linux-64": tuple(packages)}


def _project(tmp_path: Path) -> tuple[object, World]:
    (tmp_path / "environment.yml").write_text(ENV)
    options = build_options([tmp_path / "environment.yml"], flags(output_dir=tmp_path / "locks", cache_dir=tmp_path))
    world = World()
    (platform,) = plan(options).platforms
    solution = world.solve([platform.request])["linux-64"]
    (tmp_path / "locks").mkdir()
    (tmp_path / "locks" / "linux-64.txt").write_text(
        render_explicit("linux-64", solution, platform.input_hash, ["environment.yml"])
    )
    return options, world


def test_the_cause_is_the_spec_whose_removal_lets_a_newer_version_solve(tmp_path: Path) -> None:
    options, world = _project(tmp_path)
    found = why_not_newer(options, "app", "linux-64", world)  # type: ignore[arg-type]
    assert found.version == "1.0" and found.newer is None and found.tried == 2
    (blocker,) = found.blockers
    assert (blocker.spec, blocker.origin, blocker.newer) == ("plugin", f"{tmp_path / 'environment.yml'}:5", "2.0")
    assert blocker.chain == ("plugin 1.0", "helper 1.0", "libc 1.9")
    assert blocker.newer_chain == ("app 2.0", "libc >=2")
    assert found.lines[1:] == [
        f"  `plugin` ({tmp_path / 'environment.yml'}:5): without it, app 2.0 solves",
        "    plugin 1.0 → helper 1.0 → libc 1.9",
        "    but app 2.0 needs `libc >=2`",
    ]
    assert ("app >=1,>1.0", "tool") in world.calls  # the second solve that proves it


def test_nothing_holds_back_a_package_a_newer_version_of_which_solves(tmp_path: Path) -> None:
    options, world = _project(tmp_path)
    found = why_not_newer(options, "tool", "linux-64", world)  # type: ignore[arg-type]
    assert found.newer == "1.1" and found.blockers == ()
    assert "a solve takes tool 1.1; locks move only when asked: `lockgen lock --update tool`" in found.lines[1]
