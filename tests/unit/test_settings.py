"""One place resolves settings: `config` reads flags, [tool.lockgen] and LOCKGEN_* variables; the
backends take values; the CLI hands typed option objects down and its modules form no cycle."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from lockgen.conda import RattlerSolver
from lockgen.config import Limits, build_options
from lockgen.errors import ConfigError, InputError
from lockgen.flags import Flags, LockFlags, SolveFlags
from lockgen.httpclient import HttpSettings
from lockgen.pypi.mapping import MAPPING_URL, ParselmouthSource
from lockgen.pypi.uv import UvResolver
from tests.conftest import ROOT
from tests.support.options import flags

PACKAGE = ROOT / "lockgen"
ODD_ENVIRONMENT = {
    "LOCKGEN_HTTP_TIMEOUT": "7",
    "LOCKGEN_HTTP_RETRIES": "0",
    "LOCKGEN_REPODATA_MEMORY_MB": "64",
    "LOCKGEN_UV_TIMEOUT": "9",
    "LOCKGEN_DOWNLOAD_DEADLINE": "11",
    "LOCKGEN_PIP_DEADLINE": "13",
    "LOCKGEN_REPODATA_MAX_MB": "5",
    "LOCKGEN_PYPI_MAPPING_URL": "http://127.0.0.1:9/{channel}.json",
    "HTTPS_PROXY": "127.0.0.1:3128",
    "NO_PROXY": "internal.test, .corp.test",
    "NETRC": "/nowhere/netrc",
    "SSL_CERT_FILE": "/nowhere/ca.pem",
}


@pytest.fixture
def odd_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "ALL_PROXY", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in ODD_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("odd_environment")
def test_limits_are_read_from_the_environment_into_the_settings(tmp_path: Path) -> None:
    options = build_options([tmp_path / "environment.yml"], Flags())
    assert options.limits == Limits(
        http_timeout_s=7,
        http_retries=0,
        repodata_budget=64 * 2**20,
        uv_timeout_s=9,
        download_deadline_s=11,
        pip_deadline_s=13,
        repodata_max_bytes=5 * 2**20,
        http=HttpSettings(
            timeout_s=7,
            proxies=(("https", "http://127.0.0.1:3128"),),
            no_proxy=("internal.test", ".corp.test"),
            netrc=Path("/nowhere/netrc"),
            ca_file=Path("/nowhere/ca.pem"),
        ),
    )
    assert options.mapping_url == ODD_ENVIRONMENT["LOCKGEN_PYPI_MAPPING_URL"]


@pytest.mark.parametrize(
    "name", ["LOCKGEN_UV_TIMEOUT", "LOCKGEN_DOWNLOAD_DEADLINE", "LOCKGEN_PIP_DEADLINE", "LOCKGEN_REPODATA_MAX_MB"]
)
def test_a_bad_limit_names_its_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "soon")
    with pytest.raises(ConfigError, match=name):
        build_options([tmp_path / "environment.yml"], Flags())


@pytest.mark.usefixtures("odd_environment")
def test_backends_take_values_and_never_read_the_environment(tmp_path: Path) -> None:
    solver = RattlerSolver(tmp_path)
    assert (solver.timeout_s, solver.retries) == (Limits().http_timeout_s, Limits().http_retries)
    assert (solver.repodata_budget, solver.repodata_max_bytes) == (
        Limits().repodata_budget,
        Limits().repodata_max_bytes,
    )
    assert UvResolver(tmp_path).timeout_s == Limits().uv_timeout_s
    assert ParselmouthSource(tmp_path).url_template == MAPPING_URL


def test_the_tests_flags_helper_is_the_typed_flags(tmp_path: Path) -> None:
    """tests/support/options.flags: one keyword per field of Flags, SolveFlags and LockFlags, building
    the same Flags; build_options takes Flags only (no untyped dict)."""
    env = tmp_path / "environment.yml"
    typed = Flags(
        output_dir=tmp_path / "out",
        platforms=("linux-64",),
        solve=SolveFlags(hash_kind="sha256", filename_template="{platform}.lock"),
        lock=LockFlags(update=("numpy",), jobs="2"),
    )
    helper = flags(
        output_dir=tmp_path / "out",
        platforms=("linux-64",),
        hash_kind="sha256",
        filename_template="{platform}.lock",
        update=("numpy",),
        jobs="2",
    )
    assert helper == typed
    assert build_options([env], typed) == build_options([env], helper)
    every = {f.name for kind in (Flags, SolveFlags, LockFlags) for f in fields(kind)} - {"solve", "lock"}
    assert set(inspect.signature(flags).parameters) == every
    with pytest.raises(TypeError):
        flags(**{"hash": "sha256"})  # type: ignore[arg-type]  # a misspelt option is a bug, never silently dropped
    assert list(inspect.signature(build_options).parameters["cli"].annotation.split(" | ")) == ["Flags"]


def test_template_from_pyproject_is_checked_by_the_one_validator(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lockgen]\nfilename-template = "../{platform}.txt"\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml:2: \[tool.lockgen\] filename-template: the filename"):
        build_options([tmp_path / "environment.yml"], Flags())
    with pytest.raises(ConfigError, match=r"^--filename-template: "):
        build_options([tmp_path / "environment.yml"], Flags(solve=SolveFlags(filename_template="{platform!r}")))


def test_verify_reads_tool_lockgen_with_its_checks(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lockgen]\nfilename-template = "{platform}{x}"\n')
    (tmp_path / "locks").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "lockgen", "verify"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2, result.stderr
    assert "[tool.lockgen] filename-template" in result.stderr and "Traceback" not in result.stderr


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


COMMANDS = ("lock", "check", "diff", "explain", "install", "verify")


@pytest.mark.parametrize("command", COMMANDS)
def test_commands_import_the_shared_layer_never_each_other(command: str) -> None:
    imported = {name for name in _imports(PACKAGE / "cli" / f"{command}.py") if name.startswith("lockgen.cli")}
    others = {f"lockgen.cli.{c}" for c in COMMANDS if c != command} | {"lockgen.cli.app"}
    assert not imported & others


def test_the_shared_cli_modules_import_no_command() -> None:
    for shared in ("app", "options", "runner", "habits", "uptodate"):
        imported = _imports(PACKAGE / "cli" / f"{shared}.py")
        assert not {f"lockgen.cli.{c}" for c in COMMANDS} & imported, shared


def _reads_a_setting(node: ast.AST) -> bool:
    """A call of env_int, or os.environ.get/os.getenv with a LOCKGEN_* name (literal or *_ENV constant)."""
    if not isinstance(node, ast.Call):
        return False
    name = ast.unparse(node.func)
    if name in ("env_int", "read_limits", "read_mapping_url") or name.endswith((".read_limits", ".read_mapping_url")):
        return True
    if name not in ("os.getenv", "os.environ.get") or not node.args:
        return False
    key = node.args[0]
    literal = isinstance(key, ast.Constant) and str(key.value).startswith("LOCKGEN_")
    return literal or ast.unparse(key).endswith("_ENV")


def test_only_config_reads_lockgen_settings_from_the_environment() -> None:
    readers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "config.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named = isinstance(node, ast.Constant) and str(node.value).startswith("LOCKGEN_")
            if named or _reads_a_setting(node):
                readers.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}: {ast.unparse(node)}")
    assert readers == []


def test_check_help_loads_no_other_command() -> None:
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom lockgen.cli.app import cli\n"
        "assert CliRunner().invoke(cli, ['check', '--help']).exit_code == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith(('lockgen', 'rattler', 'httpx'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "lockgen.cli.check" in loaded
    for absent in ("lockgen.cli.lock", "lockgen.cli.install", "lockgen.review", "lockgen.lock", "rattler", "httpx"):
        assert f"'{absent}'" not in loaded


def test_help_is_whole_for_every_command() -> None:
    for command in COMMANDS:
        result = CliRunner().invoke(__import__("lockgen.cli.app", fromlist=["cli"]).cli, [command, "--help"])
        assert result.exit_code == 0 and "Exit codes: see `lockgen --help`." in result.output


# --- the project is found from the working folder up (as git, uv and pixi do) -------------------------------


def test_project_root_is_the_nearest_folder_with_an_environment_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lockgen.project import find_project_root

    (tmp_path / "environment.yml").write_text("dependencies: [python]\n")
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")  # no [tool.lockgen]: not a root
    assert find_project_root(tmp_path / "src" / "pkg") == tmp_path.resolve()
    monkeypatch.chdir(tmp_path / "src" / "pkg")
    options = build_options(())
    assert options.files == (Path("../../environment.yml"),)
    assert options.output_dir == Path("../../locks")
    assert build_options((), Flags(Path("mine"))).output_dir == Path("mine")  # -o: relative to the working folder


def test_a_pyproject_with_tool_lockgen_marks_the_root_and_places_the_locks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lockgen]\noutput-dir = "pins"\n')
    (tmp_path / "docs").mkdir()
    monkeypatch.chdir(tmp_path / "docs")
    options = build_options(())
    assert options.files == (Path("../environment.yml"),)
    assert options.output_dir.resolve() == (tmp_path / "pins").resolve()


def test_tool_file_paths_are_relative_to_the_pyproject_wherever_lockgen_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`conda-lock-file` and `pypi-mapping` in [tool.lockgen] name files beside pyproject.toml, as
    `output-dir` does: from `src/`, check must not call conda-lock.yml missing, nor lock write it there."""
    (tmp_path / "environment.yml").write_text("dependencies: [python]\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lockgen]\nconda-lock-file = "conda-lock.yml"\npypi-mapping = "mapping.json"\n'
    )
    (tmp_path / "src").mkdir()
    for folder in (tmp_path, tmp_path / "src"):
        monkeypatch.chdir(folder)
        options = build_options(())
        assert options.conda_lock_file is not None and options.pypi_mapping is not None
        assert options.conda_lock_file.resolve() == (tmp_path / "conda-lock.yml").resolve()
        assert options.pypi_mapping.resolve() == (tmp_path / "mapping.json").resolve()
    given = Flags(solve=SolveFlags(pypi_mapping=Path("mine.json")), lock=LockFlags(conda_lock_file=Path("x.yml")))
    cli = build_options((), given)
    assert (cli.conda_lock_file, cli.pypi_mapping) == (Path("x.yml"), Path("mine.json"))  # the command line's: cwd


def test_no_project_names_the_folder_searched_and_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        build_options((), require_project=True)
    message = caught.value.message
    assert f"environment.yml: no such file in {tmp_path.resolve()} or any folder above it" in message
    assert "-f FILE" in message and "[tool.lockgen]" in message
    assert build_options(()).files == (Path("environment.yml"),)  # install/verify: the working folder stands in


# --- options that shape the solution: the locks' own, unless the command line or [tool.lockgen] says otherwise


def _lock_made_with(folder: Path, options: str, virtual: str) -> None:
    (folder / "locks").mkdir(parents=True)
    (folder / "locks" / "linux-64.txt").write_text(
        "# Generated by lockgen from environment.yml. Do not edit; run `lockgen lock`.\n# platform: linux-64\n"
        f"# options: format=2 {options}\n# virtual-packages: {virtual}\n# input-hash: sha256:00\n@EXPLICIT\n"
    )


def test_a_plain_run_reuses_the_options_the_locks_were_made_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from lockgen.platforms import VirtualPackage

    (tmp_path / "environment.yml").write_text("channels: [conda-forge]\ndependencies: [python]\n")
    _lock_made_with(
        tmp_path,
        "channel-priority=flexible exclude-newer=2026-09-01T00:00:00+00:00 hash=md5",
        "__archspec=1=x86_64 __cuda=12.6=0 __glibc=2.28=0 __linux=4.18=0 __unix=0=0",
    )
    monkeypatch.chdir(tmp_path)
    options = build_options(())
    assert options.exclude_newer == dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
    assert options.channel_priority == "flexible"
    assert options.cuda == "12.6" and options.virtual_overrides == ()  # also for a platform locked later
    reused = ("--channel-priority flexible", "--exclude-newer 2026-09-01T00:00:00+00:00", "--cuda 12.6")
    assert options.from_locks == reused
    (tmp_path / "locks" / "linux-64.txt").write_text(
        (tmp_path / "locks" / "linux-64.txt").read_text().replace("__glibc=2.28=0", "__glibc=2.31=0")
    )
    assert build_options(()).virtual_overrides == (("linux-64", VirtualPackage("__glibc", "2.31")),)
    # the command line wins, and `none` clears what the locks say
    told = build_options((), Flags(solve=SolveFlags(cuda="12.4", exclude_newer="none", channel_priority="strict")))
    assert told.exclude_newer is None and told.channel_priority == "strict" and told.cuda == "12.4"
    assert told.virtual_overrides == () and told.from_locks == ()
    assert build_options((), Flags(solve=SolveFlags(cuda="none"))).virtual_overrides == ()
    # so does [tool.lockgen]
    (tmp_path / "pyproject.toml").write_text('[tool.lockgen]\nexclude-newer = "2025-01-01"\ncuda = "12.0"\n')
    configured = build_options(())
    assert configured.exclude_newer == dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    assert configured.cuda == "12.0" and configured.virtual_overrides == ()


def test_the_project_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    """An environment.yml above the git checkout (the runner's home, a parent folder) is not the project."""
    from lockgen.project import find_project_root

    (tmp_path / "environment.yml").write_text("dependencies: [python]\n")
    repo = tmp_path / "checkout"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    assert find_project_root(repo / "src") is None
    (repo / "environment.yml").write_text("dependencies: [python]\n")
    assert find_project_root(repo / "src") == repo.resolve()
