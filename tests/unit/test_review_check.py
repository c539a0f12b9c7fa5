"""`check` core: each stale reason, from locks rendered for a plan (no solve, no network)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lockgen.config import build_options
from lockgen.lockfiles import parse_explicit, render_explicit
from lockgen.lockfiles.explicit import packages_digest
from lockgen.lockfiles.header import short_digest
from lockgen.lockfiles.requirements import Header, body_digest, parse_compiled, render_requirements_lock
from lockgen.models import LockedPackage, dependency_name
from lockgen.plan import pip_plan, pip_request, plan
from lockgen.review.check import CheckResult, check
from lockgen.review.pipcheck import check_pip_lock
from tests.support.options import flags

ENV = """\
name: demo
channels:
  - conda-forge
platforms: [linux-64, osx-64]
dependencies:
  - numpy >=1.20
  - libzlib
"""


def _options(root: Path, **cli: Any) -> Any:
    return build_options([root / "environment.yml"], flags(output_dir=root / "locks", cache_dir=root / "c", **cli))


Edit = Callable[[list[LockedPackage]], list[LockedPackage]]


def _package(platform: str, name: str, version: str = "2.0") -> LockedPackage:
    url = f"https://conda.anaconda.org/conda-forge/{platform}/{name}-{version}-h0_0.conda"
    return LockedPackage(name, version, "h0_0", platform, url, md5="d" * 32, sha256="a" * 64)


def _write_locks(
    root: Path,
    edit: Edit | None = None,
    specs: tuple[str, ...] | None = None,
    lock_options: tuple[tuple[str, str], ...] | None = None,
    **cli: Any,
) -> None:
    """Locks as `lockgen lock` would write them for the current inputs (fake but well-formed packages).

    ``edit``, ``specs`` and ``lock_options`` change linux-64's packages or header lines as a pull request
    could, every digest recomputed (anyone can: they are not keyed)."""
    options = _options(root, **cli)
    the_plan = plan(options)
    (root / "locks").mkdir(exist_ok=True)
    for p in the_plan.platforms:
        packages = [_package(p.platform, name) for name in map(dependency_name, p.request.specs)]  # with pip
        crafted = p.platform == "linux-64"
        if edit is not None and crafted:
            packages = edit(packages)
        header_specs = specs if specs is not None and crafted else p.request.specs
        header_options = lock_options if lock_options is not None and crafted else p.options
        parts = dict(p.input_parts)
        parts["specs"] = short_digest({"specs": list(header_specs)})
        if header_options != p.options:
            values = {k: None if v == "none" else v for k, v in header_options}
            parts["options"] = short_digest({**values, "format": int(str(values["format"]))})
        text = render_explicit(
            p.platform,
            packages,
            p.input_hash,
            the_plan.source_names,
            options.hash_kind,
            input_parts=tuple(parts.items()),
            specs=header_specs,
            options=header_options,
        )
        (root / "locks" / p.lock_name).write_text(text)


def _reasons(result: CheckResult) -> set[tuple[str, str]]:
    return {(s.target, s.reason) for s in result.stale}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "environment.yml").write_text(ENV)
    _write_locks(tmp_path)
    return tmp_path


def test_fresh_locks_are_up_to_date(root: Path) -> None:
    result = check(_options(root))
    assert result.ok, result.stale
    assert result.checked == ("linux-64.txt", "osx-64.txt")


def test_header_carries_a_readable_breakdown(root: Path) -> None:
    lock = parse_explicit((root / "locks" / "linux-64.txt").read_text())
    assert [key for key, _ in lock.input_parts] == ["specs", "channels", "virtual", "options", "packages"]
    assert all(len(value) == 12 for _, value in lock.input_parts)
    assert lock.recorded_packages_digest == lock.packages_digest()


def test_new_spec_is_named_with_its_line(root: Path) -> None:
    (root / "environment.yml").write_text(ENV + "  - requests\n")
    result = check(_options(root))
    assert _reasons(result) == {("linux-64", "specs"), ("osx-64", "specs")}
    assert "`requests` added (" in result.stale[0].detail and "environment.yml:8" in result.stale[0].detail


def test_edited_constraint_is_a_spec_change(root: Path) -> None:
    (root / "environment.yml").write_text(ENV.replace("numpy >=1.20", "numpy >=1.22"))
    result = check(_options(root))
    assert _reasons(result) == {("linux-64", "specs"), ("osx-64", "specs")}
    assert "`numpy >=1.20` became `numpy >=1.22` (" in result.stale[0].detail
    assert "environment.yml:6)" in result.stale[0].detail


def test_channel_change(root: Path) -> None:
    (root / "environment.yml").write_text(ENV.replace("  - conda-forge\n", "  - conda-forge\n  - bioconda\n"))
    assert _reasons(check(_options(root))) == {("linux-64", "channels"), ("osx-64", "channels")}


@pytest.mark.parametrize(
    ("cli", "reason"),
    [
        ({"exclude_newer": "2026-01-01"}, "options"),
        ({"hash_kind": "sha256"}, "options"),
        ({"channel_priority": "flexible"}, "options"),
        ({"cuda": "12.0"}, "virtual"),
        ({"virtual_packages": ("osx-64:__osx=13.0",)}, "virtual"),
    ],
)
def test_option_changes(root: Path, cli: dict[str, Any], reason: str) -> None:
    result = check(_options(root, **cli))
    assert result.stale and all(s.reason == reason for s in result.stale)
    assert all("option changed" in s.detail for s in result.stale)
    _write_locks(root, **cli)
    assert check(_options(root, **cli)).ok


def test_platform_added_and_removed(root: Path) -> None:
    (root / "environment.yml").write_text(ENV.replace("[linux-64, osx-64]", "[linux-64, win-64]"))
    result = check(_options(root))
    assert _reasons(result) == {("win-64", "missing"), ("osx-64", "removed")}
    assert "platform removed" in next(s.detail for s in result.stale if s.target == "osx-64")


def test_explicit_platform_subset_does_not_flag_the_others(root: Path) -> None:
    assert check(_options(root, platforms=("linux-64",))).ok


def test_platform_removed_in_pyproject_is_stale_as_in_environment_yml(root: Path) -> None:
    """[tool.lockgen] platforms are the targets (as environment.yml's `platforms:`), not a -p subset:
    a platform taken out is stale, and requirements.txt is no longer resolved for it."""
    (root / "pyproject.toml").write_text('[tool.lockgen]\nplatforms = ["linux-64"]\n')
    result = check(_options(root))
    assert _reasons(result) == {("osx-64", "removed")}
    assert "platform removed" in result.stale[0].detail
    the_plan = plan(_options(root))
    assert not the_plan.explicit_platforms
    assert [p.platform for p in pip_plan(the_plan).platforms] == ["linux-64"]
    assert [p.platform for p in pip_request(pip_plan(the_plan)).platforms] == ["linux-64"]
    # -p still picks a subset of those targets: the others' locks stay, requirements.txt keeps covering
    # them; a lock that is no target (osx-64.txt here) is not covered
    assert check(_options(root, platforms=("linux-64",))).ok
    assert [p.platform for p in pip_plan(plan(_options(root, platforms=("linux-64",)))).platforms] == ["linux-64"]
    (root / "pyproject.toml").write_text('[tool.lockgen]\nplatforms = ["linux-64", "osx-64", "win-64"]\n')
    chosen = pip_plan(plan(_options(root, platforms=("linux-64",))))
    assert chosen.explicit_platforms and [p.platform for p in chosen.platforms] == ["linux-64", "osx-64"]


def test_malformed_lock(root: Path) -> None:
    (root / "locks" / "linux-64.txt").write_text("# platform: linux-64\nhttps://x/y/a-1-0.conda#abc\n")
    result = check(_options(root))
    assert _reasons(result) == {("linux-64", "malformed")}
    assert "before @EXPLICIT" in result.stale[0].detail


def test_lock_without_input_hash(root: Path) -> None:
    path = root / "locks" / "linux-64.txt"
    path.write_text("".join(line for line in path.read_text().splitlines(True) if "input-hash" not in line))
    result = check(_options(root))
    assert _reasons(result) == {("linux-64", "malformed")}
    assert "no `# input-hash:` line" in result.stale[0].detail


def test_header_for_another_platform(root: Path) -> None:
    text = (root / "locks" / "linux-64.txt").read_text()
    (root / "locks" / "osx-64.txt").write_text(text)
    result = check(_options(root))
    assert _reasons(result) == {("osx-64", "malformed")}
    assert "expected osx-64" in result.stale[0].detail


def test_hand_edited_package_line(root: Path) -> None:
    path = root / "locks" / "linux-64.txt"
    path.write_text(path.read_text().replace("numpy-2.0-h0_0", "numpy-2.1-h0_0"))
    result = check(_options(root))
    assert _reasons(result) == {("linux-64", "hand-edited")}


def test_deleted_package_line_is_a_hand_edit(root: Path) -> None:
    path = root / "locks" / "osx-64.txt"
    path.write_text("".join(line for line in path.read_text().splitlines(True) if "libzlib" not in line))
    assert _reasons(check(_options(root))) == {("osx-64", "hand-edited")}


def test_lock_without_breakdown_still_checks_its_hash(root: Path) -> None:
    path = root / "locks" / "linux-64.txt"
    lines = path.read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("# input-hash:"))
    lines[n] = " ".join(lines[n].split()[:3])  # `# input-hash: sha256:...` as older lockgen wrote it
    path.write_text("\n".join(lines) + "\n")
    assert check(_options(root)).ok
    (root / "environment.yml").write_text(ENV + "  - requests\n")
    stale = [s for s in check(_options(root)).stale if s.target == "linux-64"]
    assert [s.reason for s in stale] == ["inputs"]
    assert "predates the input breakdown" in stale[0].detail


def test_pip_lock_presence_follows_the_pip_section(root: Path) -> None:
    (root / "environment.yml").write_text(ENV + "  - pip:\n    - rich==13.0\n")
    result = check(_options(root))
    assert ("pip", "missing") in _reasons(result)
    assert "requirements.txt" in result.checked


def test_pip_lock_without_pip_section_is_extra(root: Path) -> None:
    (root / "locks" / "requirements.txt").write_text("# input-hash: sha256:00\nrich==13.0\n")
    assert _reasons(check(_options(root))) == {("pip", "extra")}


def test_check_pip_lock_form(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    assert [s.reason for s in check_pip_lock(True, path)] == ["missing"]
    assert check_pip_lock(False, path) == []
    path.write_text("rich==13.0\n")
    assert [s.reason for s in check_pip_lock(True, path)] == ["malformed"]
    body = "rich==13.0 \\\n    --hash=sha256:aa\n"
    path.write_text(f"# Generated by lockgen\n# input-hash: sha256:{'0' * 64} body={body_digest(body)}\n{body}")
    assert check_pip_lock(True, path) == []


def test_pip_lock_platforms_follow_the_targets(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    body = "".join(f"{name} \\\n    --hash=sha256:{'b' * 64}\n" for name in ("click==8.0", "rich==13.0", "tqdm==4.0"))
    path.write_text(
        f"# Generated by lockgen\n# input-hash: sha256:{'0' * 64} body={body_digest(body)}\n"
        f"# platforms: linux-64, osx-64\n{body}"
    )
    assert check_pip_lock(True, path, ("osx-64", "linux-64")) == []
    stale = check_pip_lock(True, path, ("linux-64", "win-64"))
    assert [s.reason for s in stale] == ["platforms"]
    assert "resolved for linux-64, osx-64; targets are linux-64, win-64" in stale[0].detail


def test_edited_pip_section_or_included_file_is_a_spec_change(root: Path) -> None:
    (root / "extra.txt").write_text("tqdm\n")
    (root / "environment.yml").write_text(ENV + "  - pip:\n    - rich==13.0\n    - -r extra.txt\n")
    _write_locks(root)  # the conda locks now carry pip, which the pip section needs
    from lockgen.pypi.digests import pip_sources_digest

    digest = pip_sources_digest(pip_request(plan(_options(root))))
    body = "".join(f"{name} \\\n    --hash=sha256:{'b' * 64}\n" for name in ("click==8.0", "rich==13.0", "tqdm==4.0"))
    header = (
        f"# Generated by lockgen\n# input-hash: sha256:{'0' * 64} pip={digest} body={body_digest(body)}\n"
        "# platforms: linux-64, osx-64\n"
    )
    (root / "locks" / "requirements.txt").write_text(header + body)
    assert check(_options(root)).stale == ()
    (root / "extra.txt").write_text("tqdm\nclick\n")
    stale = check(_options(root)).stale
    assert [(s.target, s.reason) for s in stale] == [("pip", "specs")]
    assert "pip: section" in stale[0].detail
    (root / "extra.txt").write_text("tqdm\n")
    (root / "environment.yml").write_text(ENV + "  - pip:\n    - rich==14.0\n    - -r extra.txt\n")
    assert [s.reason for s in check(_options(root)).stale] == ["specs"]


def _pip_lock_for_now(root: Path, body: str | None = None) -> None:
    """requirements.txt as `lockgen lock` writes its header for the current pip section (pins faked;
    ``body`` as a pull request could write it: body= is recomputed)."""
    from lockgen.pypi.digests import pip_source_lines, pip_sources_digest

    request = pip_request(plan(_options(root)))
    if body is None:
        body = "".join(
            f"{name} \\\n    --hash=sha256:{'b' * 64}\n" for name in ("click==8.0", "rich==13.0", "tqdm==4.0")
        )
    header = Header(("environment.yml",), f"sha256:{'0' * 64} pip={pip_sources_digest(request)}",
                    ("linux-64", "osx-64"), (), "none", pip_lines=pip_source_lines(request))  # fmt: skip
    text = render_requirements_lock(header, parse_compiled(body))
    (root / "locks" / "requirements.txt").write_text(text)


def test_an_edited_pip_line_or_included_file_is_named_with_its_place(root: Path) -> None:
    (root / "extra.txt").write_text("tqdm\n")
    (root / "environment.yml").write_text(ENV + "  - pip:\n    - rich==13.0\n    - -r extra.txt\n")
    _write_locks(root)  # the pip: section brings conda's pip in
    _pip_lock_for_now(root)
    assert check(_options(root)).stale == ()
    (root / "environment.yml").write_text(ENV + "  - pip:\n    - rich==14.0\n    - -r extra.txt\n    - tqdm\n")
    (stale,) = [s for s in check(_options(root)).stale if s.file == "requirements.txt"]
    env = root / "environment.yml"
    assert stale.detail == (f"spec changed: `rich==13.0` became `rich==14.0` ({env}:9); `tqdm` added ({env}:11)")
    (root / "environment.yml").write_text(ENV + "  - pip:\n    - rich==13.0\n    - -r extra.txt\n")
    (root / "extra.txt").write_text("tqdm\nclick\n")
    (stale,) = [s for s in check(_options(root)).stale if s.file == "requirements.txt"]
    assert stale.detail == f"spec changed: `extra.txt`: its contents changed ({env}:10)"


def test_check_walks_the_pip_locks_body_once(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its pins and its options lines come from one walk of requirements.txt's body (two before:
    docs/performance.md, "Round 8: check"); an added options line is still found
    (tests/security/test_review_body.py)."""
    from lockgen.lockfiles import requirements

    (root / "environment.yml").write_text(ENV + "  - pip:\n    - rich==13.0\n")
    _write_locks(root)
    _pip_lock_for_now(root)
    path = root / "locks" / "requirements.txt"
    body = requirements.parse_requirements_lock(path.read_text()).body
    walked: list[str] = []
    walk = requirements.logical_lines

    def counted(text: str) -> list[tuple[int, str]]:
        walked.append(text)
        return walk(text)

    monkeypatch.setattr(requirements, "logical_lines", counted)
    parse_compiled.cache_clear()  # the memos: this process read that body before
    getattr(requirements, "_logical", parse_compiled).cache_clear()
    assert check(_options(root)).stale == ()
    assert walked.count(body) == 1


def test_tool_tables_of_an_editable_project_do_not_stale_the_pip_lock(root: Path) -> None:
    pyproject = '[project]\nname = "mine"\nversion = "1.0"\ndependencies = ["rich"]\n'
    (root / "pyproject.toml").write_text(pyproject)
    (root / "environment.yml").write_text(ENV + "  - pip:\n    - -e .\n")
    _pip_lock_for_now(root)
    pip_stale = [s for s in check(_options(root)).stale if s.file == "requirements.txt"]
    assert pip_stale == []
    (root / "pyproject.toml").write_text(pyproject + "\n[tool.lockgen]\nstrict = true\n[tool.ruff]\nline-length = 99\n")
    assert [s for s in check(_options(root)).stale if s.file == "requirements.txt"] == []
    (root / "pyproject.toml").write_text(pyproject.replace('["rich"]', '["rich", "click"]'))
    (stale,) = [s for s in check(_options(root)).stale if s.file == "requirements.txt"]
    assert stale.detail == f"spec changed: `-e .`: its dependency metadata changed ({root / 'environment.yml'}:9)"


# A pull request can edit a lock and recompute every digest of its header (they are plain sha256):
# check holds the package lines to the specs and the header lines to the inputs instead.


def _stale_lines(root: Path) -> list[str]:
    return [s.detail.split(": ", 1)[1] for s in check(_options(root)).stale]


def test_a_package_line_that_breaks_its_spec_is_stale(root: Path) -> None:
    _write_locks(root, lambda ps: [_package("linux-64", "numpy", "1.19") if p.name == "numpy" else p for p in ps])
    lines = _stale_lines(root)
    assert len(lines) == 1 and lines[0].startswith("numpy 1.19 h0_0 (line "), lines
    assert "does not satisfy `numpy >=1.20` (" in lines[0] and "environment.yml:6)" in lines[0]
    assert _reasons(check(_options(root))) == {("linux-64", "hand-edited")}


def test_a_package_line_without_version_or_build_is_not_taken_as_meeting_its_spec(root: Path) -> None:
    """``.../numpy.conda``, its packages= digest recomputed: no version to compare with ``numpy >=1.20``,
    so it was taken as meeting it; it is a malformed lock."""
    path = root / "locks" / "linux-64.txt"
    lock = parse_explicit(path.read_text())
    [numpy] = [e for e in lock.entries if e.name == "numpy"]
    edited = numpy.url.replace(numpy.file_name, "numpy.conda")
    body = [e.hash_line.replace(numpy.url, edited) for e in lock.entries]
    text = path.read_text().replace(numpy.url, edited)
    path.write_text(text.replace(f"packages={lock.recorded_packages_digest}", f"packages={packages_digest(body)}"))
    lines = _stale_lines(root)
    assert len(lines) == 1 and "not a package file name NAME-VERSION-BUILD" in lines[0], lines


def test_a_package_line_from_another_listed_channel_than_its_spec_names_is_stale(tmp_path: Path) -> None:
    """`conda-forge::libzlib` met by a line from pytorch (listed too): rattler's MatchSpec ignores a
    record's channel, so the name, version and build matched and check said up to date."""
    env = ENV.replace("  - conda-forge\n", "  - conda-forge\n  - pytorch\n").replace(
        "  - libzlib", "  - conda-forge::libzlib"
    )
    (tmp_path / "environment.yml").write_text(env)
    _write_locks(tmp_path)
    assert _stale_lines(tmp_path) == []

    def to_pytorch(packages: list[LockedPackage]) -> list[LockedPackage]:
        return [
            dataclasses.replace(p, url=p.url.replace("/conda-forge/", "/pytorch/")) if p.name == "libzlib" else p
            for p in packages
        ]

    _write_locks(tmp_path, to_pytorch)
    lines = _stale_lines(tmp_path)
    assert len(lines) == 1 and lines[0].startswith("libzlib 2.0 h0_0 (line "), lines
    assert lines[0].endswith(
        " is from https://conda.anaconda.org/pytorch, not the channel `conda-forge::libzlib` names"
        f" ({tmp_path / 'environment.yml'}:8)"
    ), lines


def test_a_spec_without_its_package_line_is_stale(root: Path) -> None:
    _write_locks(root, lambda ps: [p for p in ps if p.name != "libzlib"])
    lines = _stale_lines(root)
    assert len(lines) == 1 and lines[0].startswith("libzlib: no package line, but `libzlib` ("), lines


def test_a_package_listed_twice_is_stale(root: Path) -> None:
    _write_locks(root, lambda ps: [*ps, _package("linux-64", "numpy", "2.1")])
    assert any(line.startswith("numpy is listed more than once (lines ") for line in _stale_lines(root))


def test_a_package_listed_twice_under_another_case_is_stale(root: Path) -> None:
    """conda reads `NumPy` as numpy (rattler normalises names): a second line so named installs over the first."""
    _write_locks(root, lambda ps: [*ps, _package("linux-64", "NumPy", "1.0")])
    assert any(line.startswith("numpy is listed more than once (lines ") for line in _stale_lines(root))
    _write_locks(root, lambda ps: [_package("linux-64", "NumPy", "1.0") if p.name == "numpy" else p for p in ps])
    assert any(
        line.startswith("NumPy 1.0 h0_0 (line ") and "does not satisfy `numpy >=1.20`" in line
        for line in _stale_lines(root)
    )


def test_an_edited_options_line_is_stale(root: Path) -> None:
    path = root / "locks" / "linux-64.txt"
    path.write_text(path.read_text().replace("channel-priority=strict", "channel-priority=flexible"))
    assert _stale_lines(root) == [
        "the `# options:` line does not match the input hash's options= part: edited after lockgen wrote it"
    ]
    pairs = plan(_options(root)).platforms[0].options
    _write_locks(root, lock_options=tuple((k, "flexible" if k == "channel-priority" else v) for k, v in pairs))
    assert _stale_lines(root) == ["the `# options:` line is not what the inputs give: edited after lockgen wrote it"]


def test_an_edited_specs_line_is_stale_and_its_newline_never_starts_a_line(root: Path) -> None:
    _write_locks(root, specs=("numpy >=1.0", "libzlib", "\n::error::injected"))
    result = check(_options(root))
    assert _reasons(result) == {("linux-64", "hand-edited")}
    assert "\n" not in "".join(s.detail for s in result.stale)
    spec_line = next(line for line in (root / "locks" / "linux-64.txt").read_text().splitlines() if "specs:" in line)
    lock = parse_explicit((root / "locks" / "linux-64.txt").read_text())
    assert lock.specs is not None and lock.specs[2] == "\\u000a::error::injected", spec_line


def test_specs_and_options_lines_as_the_inputs_give_them_even_when_the_input_hash_is_current(root: Path) -> None:
    path = root / "locks" / "linux-64.txt"
    lock = parse_explicit(path.read_text())
    assert lock.specs == ("numpy >=1.20", "libzlib")
    text = path.read_text().replace('"numpy >=1.20"', '"numpy >=1.0"')
    parts = dict(lock.input_parts)
    text = text.replace(f"specs={parts['specs']}", f"specs={short_digest({'specs': ['numpy >=1.0', 'libzlib']})}")
    path.write_text(text)
    assert _stale_lines(root) == ["the `# specs:` line is not what the inputs give: edited after lockgen wrote it"]


def _pins(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


def _pip_stale(root: Path, body: str) -> list[str]:
    _pip_lock_for_now(root, body)
    return [s.detail.split(": ", 1)[1] for s in check(_options(root)).stale if s.file == "requirements.txt"]


@pytest.fixture
def pip_root(tmp_path: Path) -> Path:
    (tmp_path / "environment.yml").write_text(ENV + "  - pip:\n    - rich>=13\n    - tqdm\n    - numpy\n")
    _write_locks(tmp_path)
    return tmp_path


HASH = f"--hash=sha256:{'b' * 64}"


def test_pins_that_cover_the_pip_section_are_up_to_date(pip_root: Path) -> None:
    # numpy has no pin: conda installs it (the conda locks list it)
    assert _pip_stale(pip_root, _pins(f"rich==13.1 {HASH}", f"tqdm==4.0 {HASH}")) == []


def test_the_conda_locks_are_read_for_the_pins_only_when_a_requirement_has_none(
    pip_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether conda installs a requirement matters only when it has no pin: with every one pinned the
    conda locks are not read again for the pins (once per platform before: docs/performance.md, "Round
    8: check"); without numpy's pin they are, once per platform, and they list it."""
    from lockgen.lockfiles.lockdir import LockRead, read_lock_file
    from lockgen.review import pinscheck

    read: list[str] = []
    real = read_lock_file

    def counted(path: Path, platform: str | None = None) -> LockRead:
        read.append(path.name)
        return real(path, platform)

    monkeypatch.setattr(pinscheck, "read_lock_file", counted)
    assert _pip_stale(pip_root, _pins(f"rich==13.1 {HASH}", f"tqdm==4.0 {HASH}", f"numpy==2.0 {HASH}")) == []
    assert read == []
    assert _pip_stale(pip_root, _pins(f"rich==13.1 {HASH}", f"tqdm==4.0 {HASH}")) == []
    assert sorted(read) == ["linux-64.txt", "osx-64.txt"]


def test_a_direct_requirement_without_its_pin_is_stale(pip_root: Path) -> None:
    env = pip_root / "environment.yml"
    assert _pip_stale(pip_root, _pins(f"rich==13.1 {HASH}")) == [
        f"tqdm: no pin, but `tqdm` asks for it ({env}:10) on linux-64, osx-64"
    ]


def test_a_pin_moved_to_a_url_the_pip_section_does_not_name_is_stale(pip_root: Path) -> None:
    """``rich @ https://elsewhere/...whl`` meets `rich>=13` by its file name's version, but uv writes a
    URL pin only for a requirement that names it: install would fetch from a host nobody asked for."""
    wheel = "https://evil.invalid/rich-13.1-py3-none-any.whl"
    assert _pip_stale(pip_root, _pins(f"rich @ {wheel} {HASH}", f"tqdm==4.0 {HASH}", f"colorama @ {wheel} {HASH}")) == [
        f"colorama @ {wheel}: the pip: section names no URL for colorama",
        f"rich @ {wheel}: the pip: section names no URL for rich",
    ]


def test_a_pin_outside_its_requirement_is_stale(pip_root: Path) -> None:
    env = pip_root / "environment.yml"
    assert _pip_stale(pip_root, _pins(f"rich==12.0 {HASH}", f"tqdm==4.0 {HASH}")) == [
        f"rich==12.0 does not satisfy `rich>=13` ({env}:9) on linux-64, osx-64"
    ]


def test_a_pin_outside_a_bound_packaging_reads_is_stale(tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text(ENV + "  - pip:\n    - rich~=13.0\n    - tqdm>=4.0rc1\n")
    _write_locks(tmp_path)
    env = tmp_path / "environment.yml"
    assert _pip_stale(tmp_path, _pins(f"rich==14.0 {HASH}", f"tqdm==4.0 {HASH}")) == [
        f"rich==14.0 does not satisfy `rich~=13.0` ({env}:9) on linux-64, osx-64"
    ]


def test_a_pin_without_a_sha256_is_stale(pip_root: Path) -> None:
    found = _pip_stale(pip_root, _pins(f"rich==13.1 {HASH}", "tqdm==4.0 --hash=sha256:00"))
    assert found == ["tqdm==4.0: `--hash=sha256:00` is not a sha256 hash"]
    found = _pip_stale(pip_root, _pins(f"rich==13.1 {HASH}", "tqdm==4.0"))
    assert found == ["tqdm==4.0 has no --hash=sha256: (pip --require-hashes refuses it)"]


def test_a_pin_that_claims_the_pip_section_must_be_listed_there(pip_root: Path) -> None:
    body = _pins(f"evilpkg==1.0 {HASH}", "    # via pip: section", f"rich==13.1 {HASH}", f"tqdm==4.0 {HASH}")
    assert _pip_stale(pip_root, body) == [
        "evilpkg==1.0 says `# via pip: section`, but the pip: section does not list evilpkg"
    ]


def _condalock(root: Path, edit: Callable[[str], str] = lambda text: text) -> Path:
    """conda-lock.yml as `lock --conda-lock-file` writes it from the locks there (then ``edit``ed)."""
    from lockgen.lockfiles.condalock import render_condalock

    the_plan = plan(_options(root))
    conda = {}
    for p in the_plan.platforms:
        lock = parse_explicit((root / "locks" / p.lock_name).read_text())
        conda[p.platform] = [
            LockedPackage(e.name, e.version, e.build, e.subdir, e.url, md5=e.md5, sha256="a" * 64) for e in lock.entries
        ]
    text = render_condalock(conda, {}, channels=["conda-forge"], sources=["environment.yml"], content_hash={
        p.platform: p.input_hash for p in the_plan.platforms
    }, header=["Generated by lockgen from environment.yml. Do not edit; run `lockgen lock`."])  # fmt: skip
    path = root / "conda-lock.yml"
    path.write_text(edit(text))
    return path


def _with_condalock(root: Path) -> Any:
    return _options(root, conda_lock_file=root / "conda-lock.yml")


def test_conda_lock_file_written_with_the_locks_is_up_to_date(root: Path) -> None:
    _condalock(root)
    result = check(_with_condalock(root))
    assert result.ok, result.stale
    assert "conda-lock.yml" in result.checked


def test_conda_lock_file_url_or_hash_edited_is_stale(root: Path) -> None:
    """A pull request points numpy at its own host in conda-lock.yml (which conda-lock and micromamba install)."""
    good = "https://conda.anaconda.org/conda-forge/linux-64/numpy-2.0-h0_0.conda"
    evil = "http://user:s3cret@127.0.0.1:9/conda-forge/linux-64/numpy-2.0-h0_0.conda"
    _condalock(root, lambda text: text.replace(f"url: {good}", f"url: {evil}"))
    (stale,) = check(_with_condalock(root)).stale
    assert (stale.target, stale.reason) == ("conda-lock", "hand-edited")
    assert stale.detail.startswith("numpy 2.0 (conda-lock.yml, linux-64): url http://")
    assert "s3cret" not in stale.detail
    _condalock(root, lambda text: text.replace(f"md5: {'d' * 32}", f"md5: {'e' * 32}", 1))
    details = [s.detail for s in check(_with_condalock(root)).stale]
    assert len(details) == 1 and f"md5 {'e' * 32} is not the lock's ({'d' * 32}, line " in details[0], details


def test_conda_lock_file_missing_a_package_or_missing_is_stale(root: Path) -> None:
    _condalock(root)
    text = (root / "conda-lock.yml").read_text()
    start = text.index("- name: libzlib")
    end = text.index("- name:", start + 1)
    (root / "conda-lock.yml").write_text(text[:start] + text[end:])
    details = [s.detail for s in check(_with_condalock(root)).stale]
    assert details == ["libzlib 2.0 (linux-64's lock, line 8): not in conda-lock.yml"], details
    (root / "conda-lock.yml").unlink()
    assert _reasons(check(_with_condalock(root))) == {("conda-lock", "missing")}


def test_a_lock_url_carrying_credentials_is_stale(root: Path) -> None:
    def login(packages: list[LockedPackage]) -> list[LockedPackage]:
        return [dataclasses.replace(p, url=p.url.replace("https://", "https://user:s3cretpass@")) for p in packages]

    _write_locks(root, login)
    (stale,) = check(_options(root)).stale
    assert stale.detail.endswith(
        "package lines were edited: line 7's URL carries credentials (lockgen never writes them)"
    )


def test_a_newline_in_a_pip_lines_header_never_starts_a_line() -> None:
    """`# pip-lines:` is JSON: a "\\n" there decodes to a newline that `check` would print at the start of
    a line (`::error::...` is a GitHub workflow command). The reader escapes it."""
    from lockgen.lockfiles.requirements import parse_requirements_lock

    lock = parse_requirements_lock('# Generated by lockgen\n# pip-lines: ["rich", "x\\n::error::injected\\r"]\n')
    assert lock.pip_lines == ("rich", "x\\u000a::error::injected\\u000d")


def test_a_direct_requirement_is_judged_where_its_marker_holds(tmp_path: Path) -> None:
    pip = '  - pip:\n    - rich>=13\n    - colorama ; sys_platform == "darwin"\n'
    (tmp_path / "environment.yml").write_text(ENV + pip)
    _write_locks(tmp_path)
    env = tmp_path / "environment.yml"
    assert _pip_stale(tmp_path, _pins(f"rich==13.1 {HASH}")) == [
        f'colorama: no pin, but `colorama ; sys_platform == "darwin"` asks for it ({env}:10) on osx-64'
    ]
    pinned = _pins(f'colorama==0.4 ; sys_platform == "darwin" {HASH}', f"rich==13.1 {HASH}")
    assert _pip_stale(tmp_path, pinned) == []


def _channels_detail(root: Path) -> set[str]:
    return {s.detail.replace(f"{root}/", "") for s in check(_options(root)).stale if s.reason == "channels"}


def test_a_channel_change_names_the_channel_and_its_line(tmp_path: Path) -> None:
    two = ENV.replace("  - conda-forge\n", "  - conda-forge\n  - bioconda\n")
    (tmp_path / "environment.yml").write_text(ENV)
    _write_locks(tmp_path)
    (tmp_path / "environment.yml").write_text(two)
    assert _channels_detail(tmp_path) == {"channels changed: `bioconda` added (environment.yml:4)"}
    _write_locks(tmp_path)
    (tmp_path / "environment.yml").write_text(ENV)
    assert _channels_detail(tmp_path) == {"channels changed: `bioconda` removed"}
    (tmp_path / "environment.yml").write_text(two.replace("conda-forge\n  - bioconda", "bioconda\n  - conda-forge"))
    assert _channels_detail(tmp_path) == {
        "channels changed: order changed: `conda-forge`, `bioconda` became `bioconda` (environment.yml:3),"
        " `conda-forge` (environment.yml:4)"
    }


def test_options_lines_edited_in_every_lock_are_hand_edits_not_old_locks(root: Path) -> None:
    for path in (root / "locks").glob("*.txt"):
        path.write_text(path.read_text().replace("channel-priority=strict", "channel-priority=flexible"))
    result = check(_options(root))
    assert _reasons(result) == {("linux-64", "hand-edited"), ("osx-64", "hand-edited")}
    assert not any("predates" in s.detail for s in result.stale)


def test_a_pip_line_lock_refuses_is_worded_for_people_not_as_a_digest_line(tmp_path: Path) -> None:
    """`check` digests a problem reading the pip section (so the section reads as changed); the reason must
    read as what `lockgen lock` refuses, not as an internal ``problem:`` input line that was "added"."""
    from lockgen.review.pipcheck import PipExpectation, _pip_line_changes

    env = tmp_path / "environment.yml"
    pip_lines = "    - rich\n    - --trusted-host pypi.org\n"
    env.write_text(f"channels: [conda-forge]\ndependencies:\n  - pip\n  - pip:\n{pip_lines}")
    request = pip_request(pip_plan(plan(build_options([env], flags(output_dir=tmp_path / "locks")))))
    detail = _pip_line_changes(("rich",), PipExpectation("d", None, None, request))
    assert detail is not None
    assert f"`--trusted-host pypi.org` added ({env}:6)" in detail
    assert "problem:" not in detail and "`lockgen lock` refuses a pip line: pip option --trusted-host" in detail
