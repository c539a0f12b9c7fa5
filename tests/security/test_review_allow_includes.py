"""A pull request cannot widen where a read-only command reads (brief: "Nothing a PR commits may change
where a read-only command looks").

The hostile pull request commits ``[tool.lockgen] allow-includes`` reaching outside the project (``/``,
``..``, or a folder inside the project that is a link out) and a pip ``-r`` line naming a file there.
``lock`` (the user's own command) honours pyproject.toml's allow-includes; ``check`` (and ``lock
--check``) honour only ``--allow-include`` given on their command line, and refuse, naming the line
and the fix, without opening the file; ``diff`` and ``explain`` never open it either. Each open is
seen by a Python audit hook (``open`` events), in this process and in the CLI's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lockgen.config import LockOptions, build_options
from lockgen.errors import InputError
from lockgen.lock import lock
from lockgen.review.check import check
from tests.faults.figures import count
from tests.support.options import flags
from tests.unit.test_lock import FakeMapping, FakePip, FakeSolver, env_text

VARIANTS = ("absolute", "dotdot", "link")

_WATCHED: list[Path] = []
_OPENED: list[str] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event != "open" or not _WATCHED or not args or not isinstance(args[0], str | bytes | os.PathLike):
        return
    path = os.path.realpath(os.fsdecode(args[0]))
    if any(path == str(w) or path.startswith(f"{w}{os.sep}") for w in _WATCHED):
        _OPENED.append(path)


sys.addaudithook(_audit)  # audit hooks stay for the process: this one records only while a test watches


@pytest.fixture
def opened() -> Iterator[list[str]]:
    """Paths under the watched folders opened in this process while the test runs."""
    _OPENED.clear()
    yield _OPENED
    _WATCHED.clear()
    _OPENED.clear()


@dataclass
class World:
    root: Path
    project: Path
    outside: Path
    line: int
    """The environment.yml line of the ``-r``."""

    @property
    def env(self) -> Path:
        return self.project / "environment.yml"

    def options(self, *, writes_locks: bool = False, allow: tuple[Path, ...] = ()) -> LockOptions:
        given = flags(
            output_dir=self.project / "locks",
            cache_dir=self.root / "cache",
            allow_includes=allow,
            writes_locks=writes_locks,
        )
        return build_options([self.env], given)


def _world(root: Path, variant: str) -> World:
    """A project locked the legitimate way: ``lock`` with pyproject.toml's allow-includes reaching the
    folder outside that holds the ``-r`` file."""
    outside = root / "outside"
    outside.mkdir()
    (outside / "reqs.txt").write_text("rich\n")
    project = root / "project"
    project.mkdir()
    include, allowed = {
        "absolute": (str(outside / "reqs.txt"), "/"),
        "dotdot": ("../outside/reqs.txt", ".."),
        "link": ("linked/reqs.txt", "linked"),
    }[variant]
    if variant == "link":
        (project / "linked").symlink_to(outside, target_is_directory=True)
    text = env_text(pip=(f"-r {include}",))
    (project / "environment.yml").write_text(text)
    pyproject = f'[project]\nname = "p"\n\n[tool.lockgen]\nallow-includes = ["{allowed}"]\n'
    (project / "pyproject.toml").write_text(pyproject)
    world = World(root, project, outside.resolve(), text.splitlines().index(f"    - -r {include}") + 1)
    solver = FakeSolver({"python": ["3.11.9"], "numpy": ["1.26.4"], "pip": ["24.2"]})
    done = lock(world.options(writes_locks=True), None, solver, pip_resolver=FakePip({"rich": ["13.0.0"]}),
                mapping_source=FakeMapping())  # fmt: skip
    assert "requirements.txt" in done.written
    return world


@pytest.fixture(params=VARIANTS)
def world(tmp_path: Path, request: pytest.FixtureRequest) -> World:
    return _world(tmp_path, request.param)


def test_check_refuses_an_include_only_pyproject_allows_without_opening_it(world: World, opened: list[str]) -> None:
    _WATCHED.append(world.outside)
    with pytest.raises(InputError) as caught:
        check(world.options())
    message = caught.value.message
    assert f"environment.yml:{world.line}: -r " in message
    assert "pyproject.toml:5: [tool.lockgen] allow-includes lists" in message
    assert "only `lockgen lock` honours" in message and "--allow-include" in message
    assert caught.value.exit_code == 3
    assert opened == []
    count("hostile review inputs refused")


def test_the_legitimate_flow_lock_with_pyproject_then_check_with_the_flag(world: World, opened: list[str]) -> None:
    """The positive control: with ``--allow-include`` the check reads the file (the hook sees it) and the
    locks lock made with pyproject.toml's allow-includes are up to date."""
    _WATCHED.append(world.outside)
    result = check(world.options(allow=(world.outside,)))
    assert result.ok, result.stale
    assert str(world.outside / "reqs.txt") in opened


def test_the_trusted_check_reads_an_included_file_once_per_reader_not_per_platform(
    tmp_path: Path, opened: list[str]
) -> None:
    """The platforms of a pip section without selectors share one reading of it (docs/performance.md,
    "Round 7: check"): the outside-include guard, the pip lines (options, pins held to them,
    requirements-unhashed.txt) and the ``pip=`` digest each open the file once, not once per target
    platform (15 opens for three platforms before); the ``# pip-lines:`` are read again only when the
    digest differs, to name what changed (4 opens before, "Round 8: check")."""
    world = _world(tmp_path, "absolute")
    _WATCHED.append(world.outside)
    result = check(world.options(allow=(world.outside,)))
    assert result.ok, result.stale
    assert len(result.checked) > 3  # three platform locks and requirements.txt: more than one platform read
    assert 1 <= opened.count(str(world.outside / "reqs.txt")) <= 3, opened


def test_an_edit_outside_is_seen_by_the_trusted_check(world: World) -> None:
    (world.outside / "reqs.txt").write_text("rich\nclick\n")
    result = check(world.options(allow=(world.outside,)))
    assert not result.ok and "pip" in result.stale_targets()


WATCHING_CLI = """
import os, runpy, sys
log = open(sys.argv[1], "a", buffering=1)
watched = os.path.realpath(sys.argv[2])
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if path == watched or path.startswith(watched + os.sep):
            log.write(path + "\\n")
sys.addaudithook(hook)
sys.argv = ["lockgen", *sys.argv[3:]]
runpy.run_module("lockgen", run_name="__main__", alter_sys=True)
"""


def _cli(world: World, *args: str | Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``lockgen ARGS`` in the project, with the files it opens under the outside folder."""
    log = world.root / "opened.log"
    log.write_text("")
    done = subprocess.run(
        [sys.executable, "-c", WATCHING_CLI, str(log), str(world.outside), *map(str, args)],
        cwd=world.project, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return done, log.read_text().splitlines()


@pytest.mark.parametrize("variant", VARIANTS)
def test_read_only_commands_never_open_it(tmp_path: Path, variant: str) -> None:
    world = _world(tmp_path, variant)
    for command in (("check",), ("lock", "--check")):
        done, opened = _cli(world, *command)
        assert done.returncode == 3, done.stderr
        assert f"environment.yml:{world.line}: -r " in done.stderr and "--allow-include" in done.stderr
        assert "up to date" not in done.stdout + done.stderr
        assert opened == []
        count("hostile review inputs refused")
    shutil.copytree(world.project / "locks", tmp_path / "before")
    done, opened = _cli(world, "diff", tmp_path / "before", "locks")  # diff reads locks, never -r files
    assert done.returncode == 0, done.stderr
    assert opened == []
    done, opened = _cli(world, "explain", "rich")  # the pip package: from the pip lock alone
    assert done.returncode == 0, done.stderr
    assert "rich==13.0.0" in done.stdout
    assert opened == []
    done, opened = _cli(world, "check", "--allow-include", world.outside)  # the workflow's own choice
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    assert set(opened) == {str(world.outside / "reqs.txt")}  # the positive control: the hook sees opens


def test_the_trusted_check_holds_the_pins_to_an_included_file(world: World) -> None:
    """With ``--allow-include`` the included requirements count like the others: their pins must be
    there (a lock that lost them is stale), not skipped because the file lies outside."""
    from lockgen.plan import pip_plan, plan
    from lockgen.review.pipcheck import expected_pip

    expectation = expected_pip(pip_plan(plan(world.options(allow=(world.outside,)))))
    assert expectation.options is not None
    assert expectation.direct is not None
    assert "rich" in repr(expectation.direct)
