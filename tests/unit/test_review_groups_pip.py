"""``check`` over several environments judges a group's pip agreement platform by platform, as
``lock`` resolves a group's pip sections: a pin counts on the platforms its marker selects, and
only platforms two members both lock are compared."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgen.environments import environment_targets, pip_disagreements
from lockgen.flags import Flags
from lockgen.lockfiles.requirements import Header, parse_compiled, render_requirements_lock
from lockgen.pypi.targets import pins_by_platform
from lockgen.review.groups import check_environments

PYPROJECT = """\
[tool.lockgen.environments]
a = { file = "a.yml", group = "g" }
b = { file = "b.yml", group = "g" }
"""
LINUX = '; sys_platform == "linux"'
WINDOWS = '; sys_platform == "win32"'


def _lock(platforms: tuple[str, ...], *lines: str) -> str:
    body = "".join(f"{line} --hash=sha256:{'0' * 64}\n" for line in lines)
    header = Header(("a.yml",), f"sha256:{'0' * 64} pip={'1' * 12}", platforms, (), "none")
    return render_requirements_lock(header, parse_compiled(body))


def _disagreement(root: Path, a: tuple[tuple[str, ...], list[str]], b: tuple[tuple[str, ...], list[str]]) -> list[str]:
    (root / "pyproject.toml").write_text(PYPROJECT)
    for name, (platforms, lines) in (("a", a), ("b", b)):
        listed = "".join(f"  - {p}\n" for p in platforms)
        (root / f"{name}.yml").write_text(
            f"channels: [conda-forge]\nplatforms:\n{listed}dependencies:\n  - python\n  - pip:\n    - helper\n"
        )
        (root / "locks" / name).mkdir(parents=True)
        (root / "locks" / name / "requirements.txt").write_text(_lock(platforms, *lines))
    targets = environment_targets((), Flags(output_dir=Path("locks")), ())
    assert targets is not None
    result = check_environments(targets, Path("locks"))
    return [s.detail for s in result.stale if s.reason == "disagree"]


BOTH = ("linux-64", "win-64")


def test_agreeing_on_one_platform_and_differing_on_another_names_that_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    found = _disagreement(tmp_path, (BOTH, ["helper==1.0"]), (BOTH, [f"helper==1.0 {LINUX}", f"helper==2.0 {WINDOWS}"]))
    assert found == ["pip: helper: a has 1.0; b has 2.0 (win-64); run `lockgen lock` to lock the group together"]


def test_the_same_versions_on_swapped_platforms_disagree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    a = (BOTH, [f"helper==1.0 {LINUX}", f"helper==2.0 {WINDOWS}"])
    b = (BOTH, [f"helper==2.0 {LINUX}", f"helper==1.0 {WINDOWS}"])
    [found] = _disagreement(tmp_path, a, b)
    assert "helper: a has 1.0; b has 2.0 (linux-64)" in found and "helper: a has 2.0; b has 1.0 (win-64)" in found


def test_a_platform_only_one_member_locks_is_not_compared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``a`` has helper 2.0 on win-64, which ``b`` does not lock: on linux-64, the one they share, they agree."""
    monkeypatch.chdir(tmp_path)
    a = (BOTH, [f"helper==1.0 {LINUX}", f"helper==2.0 {WINDOWS}"])
    assert _disagreement(tmp_path, a, (("linux-64",), ["helper==1.0"])) == []


def test_pins_by_platform_reads_the_markers_lockgen_writes() -> None:
    text = _lock(
        ("linux-64", "osx-arm64", "win-64"),
        f"helper==1.0 {LINUX}",
        'helper==2.0 ; sys_platform == "darwin" and platform_machine == "arm64"',
        f"helper==3.0 {WINDOWS}",
        "rich==13.0",
    )
    found = {p: {(pin.name, pin.version) for pin in pins} for p, pins in pins_by_platform(text).items()}
    assert found == {
        "linux-64": {("helper", "1.0"), ("rich", "13.0")},
        "osx-arm64": {("helper", "2.0"), ("rich", "13.0")},
        "win-64": {("helper", "3.0"), ("rich", "13.0")},
    }
    assert pins_by_platform("helper==1.0\n") == {}  # not lockgen's
    assert pip_disagreements({"a": pins_by_platform(text), "b": pins_by_platform(text)}) == []
