"""Item 17 and issue 15 item 6: check follows nested ``-r`` files as lock does, and its reasons
name the option (from → to) and the spec (file:line) that changed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lockgen.lockfiles.requirements import Header, Pin
from lockgen.plan import pip_request, plan
from lockgen.pypi.digests import pip_sources_digest
from lockgen.pypi.render import render_requirements
from lockgen.review.check import check
from tests.faults.figures import count
from tests.security.conftest import options


def _pip_lock(project: Path, channel_root: Path, pip_lines: str) -> None:
    env = project / "environment.yml"
    env.write_text(env.read_text() + "  - pip:\n" + pip_lines)
    digest = pip_sources_digest(pip_request(plan(options(project, channel_root))))
    header = Header(("environment.yml",), f"sha256:{'0' * 64} pip={digest}", ("linux-64", "osx-64"), (), "test")
    pins = [Pin("rich", "13.0", None, ("sha256:" + "a" * 64,))]
    (project / "locks" / "requirements.txt").write_text(render_requirements(header, {"linux-64": pins, "osx-64": pins}))
    assert check(options(project, channel_root)).ok


def test_check_sees_an_edit_in_a_nested_requirements_file(project: Path, channel_root: Path) -> None:
    (project / "a.txt").write_text("-r b.txt\n")
    (project / "b.txt").write_text("rich\n")
    _pip_lock(project, channel_root, "    - -r a.txt\n")
    (project / "b.txt").write_text("rich\nclick\n")
    stale = check(options(project, channel_root)).stale
    count("hostile review inputs refused")
    assert [(s.target, s.reason) for s in stale] == [("pip", "specs")]
    (project / "b.txt").write_text("rich\n")
    (project / "a.txt").write_text("-r c.txt\n")
    (project / "c.txt").write_text("rich\n")  # same requirements, another file: lock re-reads it too
    assert [s.reason for s in check(options(project, channel_root)).stale] == ["specs"]


def test_relocking_one_platform_is_not_a_pip_change(project: Path, channel_root: Path) -> None:
    """`lock -p linux-64` digests the pip section over the platforms it resolves for; check over all."""
    _pip_lock(project, channel_root, "    - rich\n")
    full = plan(options(project, channel_root))
    one = replace(full, platforms=full.platforms[:1])
    assert pip_sources_digest(pip_request(one)) == pip_sources_digest(pip_request(full))


def test_a_pip_lock_for_fewer_platforms_says_platforms_not_specs(project: Path, channel_root: Path) -> None:
    _pip_lock(project, channel_root, "    - rich\n")
    env = project / "environment.yml"
    env.write_text(env.read_text().replace("[linux-64, osx-64]", "[linux-64, osx-64, win-64]"))
    stale = [s for s in check(options(project, channel_root)).stale if s.target == "pip"]
    assert [s.reason for s in stale] == ["platforms"]


def test_option_change_names_the_option_and_both_values(project: Path, channel_root: Path) -> None:
    stale = check(options(project, channel_root, hash_kind="sha256")).stale
    assert {s.detail for s in stale} == {"option changed: --hash from md5 to sha256"}
    stale = check(options(project, channel_root, exclude_newer="2024-01-02")).stale
    assert {s.detail for s in stale} == {"option changed: --exclude-newer from none to 2024-01-02T00:00:00+00:00"}


def test_adding_a_spec_that_is_already_a_dependency_names_it(project: Path, channel_root: Path) -> None:
    env = project / "environment.yml"
    env.write_text(env.read_text() + "  - libcore >=2\n")  # libcore is already in the lock, through app
    stale = check(options(project, channel_root)).stale
    assert [(s.target, s.reason) for s in stale] == [("linux-64", "specs"), ("osx-64", "specs")]
    assert stale[0].detail == f"spec changed: `libcore >=2` added ({env}:8)"


def test_removed_and_edited_specs_are_named(project: Path, channel_root: Path) -> None:
    env = project / "environment.yml"
    env.write_text(env.read_text().replace("  - app >=1.0\n", "  - app >=1.1\n"))
    assert check(options(project, channel_root)).stale[0].detail == (
        f"spec changed: `app >=1.0` became `app >=1.1` ({env}:6)"
    )
    env.write_text(env.read_text().replace("  - app >=1.1\n", "  - pydata\n"))
    detail = check(options(project, channel_root)).stale[0].detail
    assert detail == f"spec changed: `pydata` added ({env}:6); `app >=1.0` removed from environment.yml"
