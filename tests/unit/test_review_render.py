"""`diff` output: the packages environment.yml names are marked, and no section is empty."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lockgen.review.diff import diff_locks
from lockgen.review.render import render_json, render_markdown, render_text
from lockgen.review.sources import (
    DirectSpecs,
    LockSet,
    PackageState,
    direct_specs,
    environment_beside,
    read_directory,
    read_revision,
)

ENV = """\
channels: [conda-forge]
dependencies:
  - python=3.11
  - conda-forge::NumPy>=1.26  # [linux]
  - pip
  - pip:
    - Rich_Text>=13 ; sys_platform == "linux"
    - -r extra.txt
"""
PLATFORMS = ("linux-64", "osx-64")


def _side(
    label: str, numpy: str, six: str, extra: dict[str, str] | None = None, direct: DirectSpecs | None = None
) -> LockSet:
    conda = {
        p: {
            "numpy": PackageState(numpy, "0"),
            "six": PackageState(six, "0"),
            **{n: PackageState(v, "0") for n, v in (extra or {}).items() if p == "linux-64"},
        }
        for p in PLATFORMS
    }
    pip = {"rich-text": PackageState("13.9"), "mdurl": PackageState("0.1")}
    return LockSet(label, conda, pip, direct if direct is not None else DirectSpecs())


def test_direct_specs_are_read_from_every_platform_and_the_pip_section() -> None:
    found = direct_specs({"env/environment.yml": ENV})
    assert found == DirectSpecs(frozenset({"python", "numpy", "pip"}), frozenset({"rich-text"}), ("environment.yml",))
    assert direct_specs({"environment.yml": "dependencies: [python=3.11\n"}) == DirectSpecs()  # unparsable: nothing


def test_only_common_changes_leave_no_empty_sections_and_marks_direct_specs() -> None:
    direct = direct_specs({"environment.yml": ENV})
    result = diff_locks(_side("a", "1.26.0", "1.9"), _side("b", "1.26.4", "1.10", direct=direct))
    markdown = render_markdown(result)
    assert "<details>" not in markdown
    assert "Only the changes common" not in markdown
    assert "| **`numpy`** | upgraded | 1.26.0 | 1.26.4 |" in markdown
    assert "| `six` | upgraded | 1.9 | 1.10 |" in markdown
    assert "**Bold**: named in environment.yml" in markdown
    text = render_text(result)
    assert "  numpy*   upgraded  1.26.0  1.26.4" in text
    assert "  six      upgraded  1.9     1.10" in text
    data = json.loads(render_json(result))
    assert {c["name"]: c["direct"] for c in data["common"]["changes"]} == {"numpy": True, "six": False}


def test_a_platform_with_its_own_changes_keeps_its_section_and_pip_names_are_marked() -> None:
    direct = direct_specs({"environment.yml": ENV})
    old = _side("a", "1.26.0", "1.9")
    new = LockSet(
        "b",
        _side("b", "1.26.0", "1.9", {"libgcc": "14"}).conda,
        {"rich-text": PackageState("13.10"), "mdurl": PackageState("0.2")},
        direct,
    )
    markdown = render_markdown(diff_locks(old, new))
    assert markdown.count("<details>") == 2  # linux-64 and pip; osx-64 is unchanged
    assert "| `libgcc` | added | - | 14 |" in markdown
    assert "| **`rich-text`** | upgraded | 13.9 | 13.10 |" in markdown
    assert "| `mdurl` | upgraded | 0.1 | 0.2 |" in markdown


def test_no_environment_file_no_marks() -> None:
    result = diff_locks(_side("a", "1.26.0", "1.9"), _side("b", "1.26.4", "1.9"))
    assert "Bold" not in render_markdown(result)
    assert "*" not in render_text(result)


def test_a_directory_side_reads_the_environment_file_beside_it(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "environment.yml").write_text(ENV)
    assert environment_beside(tmp_path / "old", [Path("environment.yml")]) == [tmp_path / "environment.yml"]
    assert environment_beside(tmp_path / "none" / "old", [Path("env.yml")]) == [Path("env.yml")]
    side = read_directory(tmp_path / "old", "old", [tmp_path / "environment.yml"])
    assert side.direct.conda == {"python", "numpy", "pip"}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_git_revision_reads_the_environment_file_of_that_revision(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.org")
    git("config", "user.name", "t")
    (tmp_path / "locks").mkdir()
    (tmp_path / "locks" / "linux-64.txt").write_text("# platform: linux-64\n@EXPLICIT\n")
    (tmp_path / "environment.yml").write_text("dependencies: [scipy]\n")
    git("add", ".")
    git("commit", "-qm", "one")
    (tmp_path / "environment.yml").write_text(ENV)  # the working tree's names differ from the revision's
    side = read_revision("HEAD", tmp_path / "locks", [tmp_path / "environment.yml"])
    assert side.direct.conda == {"scipy"}
    assert read_directory(tmp_path / "locks", "tree", [tmp_path / "environment.yml"]).direct.conda == {
        "python",
        "numpy",
        "pip",
    }


def test_markdown_fits_a_pull_request_comment_by_default() -> None:
    from lockgen.review.diff import diff_locks
    from lockgen.review.render import render
    from lockgen.review.sources import LockSet, PackageState

    many = {f"package-number-{i:04d}": PackageState(f"1.{i}.0", f"h{i:08x}_0") for i in range(700)}
    old = LockSet("main", {"linux-64": {"python": PackageState("3.11.9", "h0_0")}})
    python = {"python": PackageState("3.11.9", "h0_0")}
    new = LockSet("pr", {p: {**many, **python} for p in ("linux-64", "osx-64", "win-64")})
    full = render(diff_locks(old, new), "markdown", 0, verbose=True)  # -v: the new locks' rows too
    assert len(full) > 65_536
    fitted = render(diff_locks(old, new), "markdown", verbose=True)
    assert len(fitted) <= 60_000
    assert "> Summarised to fit 60,000 characters: the largest tables are left out" in fitted
    assert "rows left out to fit the comment" in fitted
    assert fitted.splitlines()[2] == full.splitlines()[2]  # the headline stays


def test_why_not_newer_lines_in_markdown_cannot_become_markup() -> None:
    from lockgen.review.diff import DiffResult
    from lockgen.review.render import render_markdown

    hostile = (
        "why not newer than app 1.0 on linux-64:",
        "  `evil<img src=x>[a](http://x)` (environment.yml:3): without it, app 2.0 solves",
        "    evil 1.0 → <b>x</b>",
    )
    text = render_markdown(DiffResult("a", "b", (), (), why=(hostile,)))
    # a spec is a code span (where nothing renders as markup); text around it is escaped
    assert "- `evil<img src=x>[a](http://x)` (environment.yml:3): without it, app 2.0 solves" in text
    assert "  - evil 1.0 → \\<b\\>x\\</b\\>" in text
