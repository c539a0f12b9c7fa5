"""`make test-fast` runs the unit and in-process tests; `make test` (what CI runs) runs them all."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, pytest_collection_modifyitems


def _recipe(target: str) -> tuple[str, list[str]]:
    """The prerequisites and command lines of a Makefile target."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(target)}:(?P<deps>[^\n]*)\n(?P<body>(?:\t[^\n]*\n)+)", text, re.MULTILINE)
    assert match, f"no `{target}` target in the Makefile"
    return match.group("deps"), [line.strip() for line in match.group("body").splitlines()]


def test_test_fast_refreshes_the_venv_and_leaves_slow_tests_out() -> None:
    deps, commands = _recipe("test-fast")
    assert "$(STAMP)" in deps  # creates or refreshes .venv from pyproject.toml like the other targets
    assert any("pytest" in c and '-m "not slow"' in c for c in commands)
    assert "test-fast" in (ROOT / "Makefile").read_text(encoding="utf-8").split(".PHONY:", 1)[1].splitlines()[0]


def test_make_test_stays_the_full_suite_and_ci_runs_it() -> None:
    deps, commands = _recipe("test")
    assert "$(STAMP)" in deps
    pytest_lines = [c for c in commands if "pytest" in c]
    assert pytest_lines and not any(re.search(r"pytest.*\s-m\s", c) for c in pytest_lines)  # no marker filter
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(encoding="utf-8"), re.MULTILINE)


class _Item:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.markers: list[Any] = []

    def add_marker(self, marker: Any) -> None:
        self.markers.append(marker)


@pytest.mark.parametrize(
    ("where", "slow"),
    [
        ("integration/test_lock_small_channel.py", True),
        ("faults/test_network.py", True),
        ("unit/test_spec.py", False),
        ("support/channel.py", False),
    ],
)
def test_subprocess_suites_are_marked_slow_by_directory(where: str, slow: bool) -> None:
    item = _Item(ROOT / "tests" / where)
    pytest_collection_modifyitems(None, [item])  # type: ignore[arg-type, list-item]
    assert [m.name for m in item.markers] == (["slow"] if slow else [])


def test_every_test_directory_is_either_fast_or_slow() -> None:
    """A new directory of tests must be placed on purpose (unit: fast; end to end: SLOW_DIRS)."""
    from tests.conftest import SLOW_DIRS

    folders = {p.parent.name for p in (ROOT / "tests").glob("*/test_*.py")}
    # security: in-process review-integrity tests (its few subprocess tests are marked slow one by one)
    assert folders <= {"unit", "security", *SLOW_DIRS}


class _Option:
    def __init__(self, markexpr: str) -> None:
        self.markexpr = markexpr


class _Config:
    def __init__(self, markexpr: str) -> None:
        self.option = _Option(markexpr)


@pytest.mark.parametrize(
    ("markexpr", "where", "ignored"),
    [
        ("not slow", "integration", True),
        ("not slow", "security", True),
        ("not slow", "unit", None),
        ("not slow", "support", None),
        ("", "integration", None),  # make test: everything is collected
        ("slow", "integration", None),
        ("not slow and not network", "integration", None),  # any other expression: collected, then deselected
    ],
)
def test_test_fast_does_not_collect_the_slow_folders(markexpr: str, where: str, ignored: bool | None) -> None:
    from tests.conftest import pytest_ignore_collect

    assert pytest_ignore_collect(ROOT / "tests" / where, _Config(markexpr)) is ignored  # type: ignore[arg-type]


def test_pre_commit_runs_what_make_lint_runs() -> None:
    import subprocess
    import sys

    import yaml

    _, lint = _recipe("lint")
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    [repo] = config["repos"]
    assert repo["repo"] == "local"  # the tools of .venv, the versions make lint uses
    entries = {hook["id"]: hook["entry"] for hook in repo["hooks"]}
    assert entries == {"ruff": ".venv/bin/ruff check", "mypy": ".venv/bin/mypy"}
    assert lint == ["$(BIN)/ruff check lockgen tests bench action", "$(BIN)/mypy"]
    ruff_files = next(hook["files"] for hook in repo["hooks"] if hook["id"] == "ruff")
    assert ruff_files == "^(" + "|".join(lint[0].split()[2:]) + ")/"
    bin_dir = Path(sys.executable).parent
    done = subprocess.run(
        [str(bin_dir / "pre-commit"), "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
