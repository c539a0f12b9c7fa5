"""Lock the example environments against the offline snapshot of real conda-forge repodata.

The snapshot may grow, so these tests assert properties (hashes equal the records', closure,
determinism, selectors, pins honoured), never exact package lists.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from lockgen.lockfiles import parse_explicit
from lockgen.models import dependency_name
from tests.support.cli import invoke_lockgen, mirror_options

PLATFORMS = ("linux-64", "osx-64", "win-64")


@cache
def _records(channels: Path, channel: str, subdir: str) -> dict[str, dict[str, Any]]:
    data = json.loads((channels / channel / subdir / "repodata.json").read_text())
    return {**data.get("packages", {}), **data.get("packages.conda", {})}


def _conda_part(source: Path, target: Path) -> Path:
    """A copy of an environment file without its pip: section (the pip side is tested elsewhere)."""
    data = yaml.safe_load(source.read_text())
    data["dependencies"] = [d for d in data["dependencies"] if not isinstance(d, dict)]
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def _lock(env: Path, out: Path, shared: Path, *extra: str) -> tuple[int, str, str]:
    result = invoke_lockgen(
        "lock",
        "-f",
        env,
        "-o",
        out,
        *mirror_options(shared / "channels", out.parent / "cache"),
        *extra,
    )
    return result.returncode, result.stdout, result.stderr


def _check_against_snapshot(lock_file: Path, platform: str, channels: Path) -> list[str]:
    from rattler.explicit_environment import ExplicitEnvironmentSpec

    text = lock_file.read_text()
    parsed = parse_explicit(text)
    assert parsed.platform == platform
    spec = ExplicitEnvironmentSpec.from_str(text)
    assert [p.url for p in spec.packages] == [f"{e.url}#{e.md5}" for e in parsed.entries]
    assert str(spec.platform) == platform
    names = [e.name for e in parsed.entries]
    assert len(names) == len(set(names)), "duplicate package names"
    position = {name: i for i, name in enumerate(names)}
    for entry in parsed.entries:
        assert entry.url.startswith("https://conda.anaconda.org/conda-forge/"), entry.url
        assert entry.subdir in (platform, "noarch")
        record = _records(channels, "conda-forge", entry.subdir)[entry.file_name]
        assert entry.md5 == record["md5"], entry.url
        for dep in record.get("depends", []):
            dep_name = dependency_name(str(dep))
            if dep_name.startswith("__"):
                continue
            assert dep_name in position, f"{entry.name} needs {dep}, missing from the lock (not closed)"
            assert position[dep_name] < position[entry.name], f"{dep} comes after {entry.name}"
    return names


@pytest.mark.parametrize("env_name", ["minimal-pytorch.yml", "dl-conda-forge.yml"])
def test_lock_example_env_hashes_match_snapshot_and_rerun_is_identical(
    env_name: str, shared_dir: Path, tmp_path: Path
) -> None:
    env = _conda_part(shared_dir / "environments" / env_name, tmp_path / "environment.yml")
    out = tmp_path / "locks"
    code, stdout, stderr = _lock(env, out, shared_dir)
    assert code == 0, stderr
    for platform in PLATFORMS:
        names = _check_against_snapshot(out / f"{platform}.txt", platform, shared_dir / "channels")
        assert {"python", "pytorch"} <= set(names)
        assert f"{platform}:" in stdout
    first = {p.name: p.read_bytes() for p in out.iterdir() if p.suffix == ".txt"}
    assert sorted(first) == [f"{p}.txt" for p in PLATFORMS]
    # Solve again from scratch with a cold cache: byte-identical files.
    (tmp_path / "again").mkdir()
    code, stdout, stderr = _lock(env, tmp_path / "again" / "locks", shared_dir, "--update-all")
    assert code == 0, stderr
    second = {p.name: p.read_bytes() for p in (tmp_path / "again" / "locks").iterdir() if p.suffix == ".txt"}
    assert second == first


def test_pinned_builds_are_honoured(shared_dir: Path, tmp_path: Path) -> None:
    env = shared_dir / "environments" / "pinned-build.yml"
    out = tmp_path / "locks"
    code, _, stderr = _lock(env, out, shared_dir)
    assert code == 0, stderr
    for platform in PLATFORMS:
        entries = parse_explicit((out / f"{platform}.txt").read_text()).by_name()
        assert entries["numpy"].version == "1.26.4"
        assert entries["python"].version.startswith("3.11.")
        assert entries["pandas"].version.startswith("2.1.")
        major, minor = map(int, entries["scipy"].version.split(".")[:2])
        assert (1, 11) <= (major, minor) < (1, 14)
        assert "openblas" in entries["libblas"].build


def test_selectors_choose_per_platform(shared_dir: Path, tmp_path: Path) -> None:
    env = _conda_part(shared_dir / "environments" / "cross-platform-selectors.yml", tmp_path / "environment.yml")
    # Keep the selector comments: the YAML round trip drops them, so re-add them from the source file.
    source = (shared_dir / "environments" / "cross-platform-selectors.yml").read_text()
    kept = [line for line in source.splitlines() if "pip:" not in line and not line.startswith("    -")]
    env.write_text("\n".join(kept) + "\n")
    out = tmp_path / "locks"
    code, _, stderr = _lock(env, out, shared_dir)
    assert code == 0, stderr
    names = {p: set(parse_explicit((out / f"{p}.txt").read_text()).by_name()) for p in PLATFORMS}
    assert "pywin32" in names["win-64"] and "pywin32" not in names["linux-64"] | names["osx-64"]
    assert "appnope" in names["osx-64"] and "appnope" not in names["linux-64"] | names["win-64"]
    assert "libgcc-ng" in names["linux-64"]
    for platform in PLATFORMS:
        numpy = parse_explicit((out / f"{platform}.txt").read_text()).by_name()["numpy"]
        assert int(numpy.version.split(".")[0]) < 2


def test_unsatisfiable_env_explains_and_leaves_locks_untouched(shared_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "locks"
    good = _conda_part(shared_dir / "environments" / "minimal-pytorch.yml", tmp_path / "environment.yml")
    code, _, stderr = _lock(good, out, shared_dir)
    assert code == 0, stderr
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    conflict = tmp_path / "environment.yml"
    conflict.write_text((shared_dir / "environments" / "conflict-tf-torch.yml").read_text())
    code, _, stderr = _lock(conflict, out, shared_dir)
    assert code == 4
    assert "Traceback" not in stderr
    assert "linux-64: no solution" in stderr
    assert "tensorflow" in stderr and "numpy" in stderr
    assert "environment.yml:7" in stderr  # the user's numpy>=2.0 line is named
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    assert after == before


def test_unknown_package_named_per_platform(shared_dir: Path, tmp_path: Path) -> None:
    env = tmp_path / "environment.yml"
    env.write_text("channels: [conda-forge]\ndependencies:\n  - python=3.11\n  - tensorflw\n")
    code, _, stderr = _lock(env, tmp_path / "locks", shared_dir, "-p", "win-64")
    assert code == 4
    assert "win-64: unknown package name (not in conda-forge):" in stderr
    assert "environment.yml:4: no package named `tensorflw`" in stderr  # (not on win-64: no tensorflow to suggest)
    assert not (tmp_path / "locks").exists() or not list((tmp_path / "locks").glob("*.txt"))


def test_any_conda_subdir_works(shared_dir: Path, tmp_path: Path) -> None:
    env = _conda_part(shared_dir / "environments" / "minimal-pytorch.yml", tmp_path / "environment.yml")
    out = tmp_path / "locks"
    code, _, stderr = _lock(env, out, shared_dir, "-p", "osx-arm64", "-p", "linux-aarch64")
    assert code == 0, stderr
    for platform in ("osx-arm64", "linux-aarch64"):
        names = _check_against_snapshot(out / f"{platform}.txt", platform, shared_dir / "channels")
        assert "pytorch" in names
