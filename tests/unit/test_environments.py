"""[tool.lockgen.environments]: what it declares, and each mistake as exit 2 with the pyproject.toml line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lockgen.environments import declared_environments, disagreements, environment_targets
from lockgen.errors import ConfigError
from lockgen.flags import Flags
from lockgen.grouplock import agreement_constraints, union_request
from lockgen.models import LockedPackage
from lockgen.platforms import VirtualPackage
from lockgen.solverequest import SolveRequest
from tests.support.cli import invoke_lockgen

HEAD = '[tool.lockgen]\nhash = "sha256"\n\n[tool.lockgen.environments]\n'  # the entries start on line 5


def _project(tmp_path: Path, entries: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(HEAD + entries)
    (tmp_path / "environment.yml").write_text("channels: [conda-forge]\ndependencies: [python]\n")
    return tmp_path


def _error(tmp_path: Path, entries: str) -> str:
    _project(tmp_path, entries)
    with pytest.raises(ConfigError) as caught:
        declared_environments([tmp_path / "environment.yml"])
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_no_table_is_one_environment_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lockgen]\nhash = "sha256"\n')
    (tmp_path / "environment.yml").write_text("channels: [conda-forge]\ndependencies: [python]\n")
    monkeypatch.chdir(tmp_path)
    assert declared_environments([Path("environment.yml")]) is None
    assert environment_targets((), Flags(), ()) is None
    with pytest.raises(ConfigError, match="-e/--environment needs"):
        environment_targets((), Flags(), ("cpu",))


@pytest.mark.parametrize("command", [("lock",), ("check",)])
def test_the_commands_refuse_environments_and_files_as_they_should(tmp_path: Path, command: tuple[str, ...]) -> None:
    """``lock`` and ``check`` read lockgen.environments only with a table or ``-e`` (Round 8): ``-e``
    without the table, and ``-f`` with it, are still refused (exit 2), before anything is solved."""
    (tmp_path / "environment.yml").write_text("channels: [conda-forge]\ndependencies: [python]\n")
    (tmp_path / "pyproject.toml").write_text('[tool.lockgen]\nhash = "sha256"\n')
    no_table = invoke_lockgen(*command, "-e", "cpu", cwd=tmp_path)
    assert no_table.returncode == 2, no_table.stderr
    assert "-e/--environment needs [tool.lockgen.environments]" in no_table.stderr
    _project(tmp_path, 'cpu = { file = "environment.yml" }\n')
    with_file = invoke_lockgen(*command, "-f", "environment.yml", cwd=tmp_path)
    assert with_file.returncode == 2, with_file.stderr
    assert "choose environments with -e NAME instead of -f (cpu)" in with_file.stderr


def test_targets_carry_each_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _project(
        tmp_path,
        'cpu = { file = "environment.yml", group = "main" }\n'
        '[tool.lockgen.environments.gpu]\nfile = ["environment.yml", "gpu.yml"]\ngroup = "main"\n'
        'platforms = ["linux-64"]\ncuda = "12.6"\n',
    )
    monkeypatch.chdir(tmp_path)
    targets = environment_targets((), Flags(output_dir=Path("out")), ())
    assert targets is not None
    cpu, gpu = targets
    assert (cpu.name, cpu.options.output_dir, cpu.options.cuda, cpu.options.hash_kind) == (
        "cpu", Path("out/cpu"), None, "sha256",
    )  # fmt: skip
    assert gpu.options.files == (Path("environment.yml"), Path("gpu.yml"))  # as -f names them, from the project
    assert (gpu.options.environment_platforms, gpu.options.cuda, gpu.environment.line) == (("linux-64",), "12.6", 6)
    # -p picks among an entry's platforms; an environment with none of them is left out
    only = environment_targets((), Flags(platforms=("osx-64",)), ())
    assert only is not None and [t.name for t in only] == ["cpu"]
    assert [t.name for t in environment_targets((), Flags(), ("gpu",)) or ()] == ["gpu"]
    with pytest.raises(ConfigError, match=r"unknown environment.s. nope; .* declares cpu, gpu"):
        environment_targets((), Flags(), ("nope",))
    with pytest.raises(ConfigError, match="choose environments with -e NAME instead of -f"):
        environment_targets((Path("environment.yml"),), Flags(), ())


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ('"c p u" = { file = "environment.yml" }\n', ":5: environment name 'c p u' is not a plain identifier"),
        ('ok = { file = "environment.yml" }\n"1x" = { file = "environment.yml" }\n', ":6: environment name '1x'"),
        (
            'cpu = { file = "environment.yml" }\nCPU = { file = "environment.yml" }\n',
            ":6: environments cpu and CPU would write the same path",
        ),
        (
            'cpu = { file = ["environment.yml", "./environment.yml"] }\n',
            ":5: environment cpu lists './environment.yml' twice",
        ),
        (
            'cpu = { file = "/etc/environment.yml" }\n',
            ":5: environment cpu: file must be a relative path inside the project",
        ),
        (
            'cpu = { file = "../environment.yml" }\n',
            ":5: environment cpu: file must be a relative path inside the project",
        ),
        (
            'cpu = { file = "C:/environment.yml" }\n',
            ":5: environment cpu: file must be a relative path inside the project",
        ),
        ('cpu = { file = "environment.yml", output = "x" }\n', ":5: environment cpu: unknown keys output"),
        ('cpu = { group = "main" }\n', ":5: environment cpu needs `file`"),
        (
            'cpu = { file = "environment.yml", cuda = 11.10 }\n',
            ":5: environment cpu: cuda = 11.10 is a TOML number, read as 11.1, not as the version 11.10: quote it,"
            ' cuda = "11.10"',
        ),
        ('cpu = { file = "environment.yml", cuda = 12 }\n', ":5: environment cpu: cuda must be a version string"),
        ('cpu = { file = "environment.yml", platforms = ["linux-65"] }\n', ":5: environment cpu: unknown platform"),
        (
            'a = { file = "environment.yml", group = "g", platforms = ["linux-64"] }\n'
            'b = { file = "environment.yml", group = "g", platforms = ["osx-64"] }\n',
            ":5: environment a shares no platform with the rest of group g",
        ),
    ],
)
def test_mistakes_exit_2_with_the_line(tmp_path: Path, entries: str, message: str) -> None:
    text = _error(tmp_path, entries)
    assert f"{tmp_path / 'pyproject.toml'}{message}" in text


def test_a_symlink_out_of_the_project_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "environment.yml").write_text("channels: [conda-forge]\ndependencies: [python]\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "link").symlink_to(outside)
    text = _error(project, 'cpu = { file = "link/environment.yml" }\n')
    assert ":5: environment cpu: file 'link/environment.yml' leads out of the project" in text


def _package(name: str, version: str, build: str = "0") -> LockedPackage:
    return LockedPackage(
        name, version, build, "linux-64", f"https://c/linux-64/{name}-{version}-{build}.conda", "0" * 32
    )


def test_disagreements_name_package_versions_and_environments() -> None:
    cpu = [_package("python", "3.14.0"), _package("numpy", "2.0", "a")]
    gpu = [_package("python", "3.12.0"), _package("numpy", "2.0", "a"), _package("pytorch", "2.9")]
    assert disagreements({"cpu": cpu, "gpu": gpu}) == ["python: cpu has 3.14.0 (0); gpu has 3.12.0 (0)"]
    assert disagreements({"cpu": cpu, "other": cpu}) == []


def test_the_union_asks_for_every_member_and_constraints_pin_version_and_build() -> None:
    cpu = SolveRequest(
        "linux-64", ("python", "numpy"), (), (VirtualPackage("__glibc", "2.28"),), origins=("e.yml:5", "e.yml:6")
    )
    gpu = SolveRequest(
        "linux-64",
        ("python=3.12", "numpy", "pytorch"),
        (),
        (VirtualPackage("__glibc", "2.17"), VirtualPackage("__cuda", "12.6")),
        origins=("g.yml:5", "e.yml:6", "g.yml:6"),
        preferred=("https://c/linux-64/numpy-2.0-a.conda",),
    )
    union = union_request("main", [("cpu", cpu), ("gpu", gpu)])
    assert union.specs == ("python", "numpy", "python=3.12", "pytorch")
    assert union.origins == ("cpu: e.yml:5", "cpu: e.yml:6", "gpu: g.yml:5", "gpu: g.yml:6")
    assert union.virtual_packages == (VirtualPackage("__cuda", "12.6"), VirtualPackage("__glibc", "2.17"))
    assert union.preferred == gpu.preferred and union.key == "main"
    assert agreement_constraints([_package("numpy", "2.0", "py312_0")]) == ("numpy ==2.0 py312_0",)


def test_a_member_gets_what_its_specs_reach_of_the_group_solution() -> None:
    from lockgen.grouplock import member_solution

    def package(name: str, depends: tuple[str, ...] = ()) -> LockedPackage:
        return LockedPackage(
            name, "1", "0", "linux-64", f"https://c/linux-64/{name}-1-0.conda", "0" * 32, depends=depends
        )

    agreed = [
        package("python"),
        package("numpy", ("python", "libblas >=3")),
        package("libblas"),
        package("torch", ("numpy", "__cuda >=12")),
    ]
    cpu = SolveRequest("linux-64", ("conda-forge::numpy >=1",), (), ())
    assert [p.name for p in member_solution(agreed, cpu) or ()] == ["libblas", "python", "numpy"]
    gpu = SolveRequest("linux-64", ("torch",), (), (VirtualPackage("__cuda", "12.6"),))
    assert [p.name for p in member_solution(agreed, gpu) or ()] == ["libblas", "python", "numpy", "torch"]
    # the group chose a CUDA build: a member without CUDA (or an older one) is solved, not given it
    assert member_solution(agreed, replace(gpu, virtual_packages=())) is None
    assert member_solution(agreed, replace(gpu, virtual_packages=(VirtualPackage("__cuda", "11.8"),))) is None
