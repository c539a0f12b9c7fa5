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


class _Recording:
    """A fake solver of one linux-64 request that keeps the specs of every solve it was asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def solve(self, requests: Sequence[SolveRequest]) -> dict[str, tuple[LockedPackage, ...]]:
        (request,) = requests
        self.calls.append(request.specs)
        return {"linux-64": self.answer(request.specs)}

    def answer(self, specs: tuple[str, ...]) -> tuple[LockedPackage, ...]:
        raise NotImplementedError


class World(_Recording):
    """app 2.0 needs libc >=2; plugin needs libc <2: app >1 and plugin cannot be together. tool 1.1 is
    there for the asking."""

    def answer(self, specs: tuple[str, ...]) -> tuple[LockedPackage, ...]:
        newer = "app >=1,>1.0" in specs  # the environment file's `app >=1`, narrowed by the probe
        if newer and any(s.startswith("plugin") for s in specs):
            raise SolveError("no solution", ("linux-64",))
        packages = [_pkg("app", "2.0", "libc >=2") if newer else _pkg("app", "1.0", "libc")]
        packages.append(_pkg("libc", "2.1" if newer else "1.9"))
        if any(s.startswith("plugin") for s in specs):
            packages += [_pkg("plugin", "1.0", "helper"), _pkg("helper", "1.0", "libc <2")]
        if any(s.startswith("tool") for s in specs):
            packages.append(_pkg("tool", "1.1" if "tool >1.0" in specs else "1.0"))  # `tool`, narrowed
        return tuple(packages)


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
    assert found.version == "1.0" and found.newer is None and found.tried == 3  # plugin, tool and app's own `app >=1`
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


class PythonWorld(_Recording):
    """app 2.0 is published only for python 3.14: with `python=3.12`, app stays at 1.0 (a gap in the
    channel's builds). `other 1.0` works with any python but conflicts with app 2.0."""

    def __init__(self, gap: bool = True) -> None:
        super().__init__()
        self.gap = gap

    def answer(self, specs: tuple[str, ...]) -> tuple[LockedPackage, ...]:
        newer = "app >=1,>1.0" in specs or "app ==2.0" in specs
        pinned = "python=3.12" in specs
        if newer and pinned and (self.gap or len(specs) > 2):
            raise SolveError("no solution", ("linux-64",))
        python = "3.14.0" if newer and self.gap else "3.12.1"
        app = _pkg("app", "2.0", "python >=3.14,<3.15" if self.gap else "python") if newer else _pkg("app", "1.0")
        return (app, _pkg("python", python))


def _python_project(tmp_path: Path, world: PythonWorld) -> object:
    (tmp_path / "environment.yml").write_text(ENV.replace("  - plugin\n  - tool\n", "  - python=3.12\n"))
    options = build_options([tmp_path / "environment.yml"], flags(output_dir=tmp_path / "locks", cache_dir=tmp_path))
    (platform,) = plan(options).platforms
    (tmp_path / "locks").mkdir()
    solution = world.solve([platform.request])["linux-64"]
    (tmp_path / "locks" / "linux-64.txt").write_text(
        render_explicit("linux-64", solution, platform.input_hash, ["environment.yml"])
    )
    return options


def test_no_build_for_the_environments_python_is_a_gap_not_a_requirement(tmp_path: Path) -> None:
    world = PythonWorld()
    found = why_not_newer(_python_project(tmp_path, world), "app", "linux-64", world)  # type: ignore[arg-type]
    (blocker,) = found.blockers
    assert blocker.gap == "python 3.14.0"
    assert ("app ==2.0", "python=3.12") in world.calls  # the solve that shows no such build exists
    assert found.lines[1:] == [
        f"  `python=3.12` ({tmp_path / 'environment.yml'}:5): no build of app 2.0 in the channels installs with"
        " it on linux-64 (a gap in the channels' builds, not a conflict; without the spec, app 2.0 solves with"
        " python 3.14.0)"
    ]
    assert not any("needs `python" in line for line in found.lines)


class CappedWorld(_Recording):
    """lib 1.0 and 2.0 are published; the environment file itself asks for `lib <2`."""

    def answer(self, specs: tuple[str, ...]) -> tuple[LockedPackage, ...]:
        if "lib <2,>1.0" in specs:  # the file's own cap, narrowed by the probe: nothing between 1.0 and 2
            raise SolveError("no solution", ("linux-64",))
        return (_pkg("lib", "2.0" if "lib >1.0" in specs else "1.0"), _pkg("tool", "1.0"))


def test_the_environment_files_own_cap_is_named_as_the_cause(tmp_path: Path) -> None:
    """`lib <2` in the file holds lib at 1.0: that spec is the answer, not "no newer lib solves"."""
    (tmp_path / "environment.yml").write_text(ENV.replace("  - app >=1\n  - plugin\n", "  - lib <2\n"))
    options = build_options([tmp_path / "environment.yml"], flags(output_dir=tmp_path / "locks", cache_dir=tmp_path))
    world = CappedWorld()
    (platform,) = plan(options).platforms
    (tmp_path / "locks").mkdir()
    solution = world.solve([platform.request])["linux-64"]
    (tmp_path / "locks" / "linux-64.txt").write_text(
        render_explicit("linux-64", solution, platform.input_hash, ["environment.yml"])
    )
    found = why_not_newer(options, "lib", "linux-64", world)
    assert found.version == "1.0" and found.newer is None and found.tried == 2
    (blocker,) = found.blockers
    assert (blocker.spec, blocker.newer) == ("lib <2", "2.0")
    assert found.lines[1:] == [f"  `lib <2` ({tmp_path / 'environment.yml'}:4): without it, lib 2.0 solves"]
    assert ("tool", "lib >1.0") in world.calls  # the solve without the file's own spec that proves it
