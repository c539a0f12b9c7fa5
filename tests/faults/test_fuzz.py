"""Property-based fuzzing of environment.yml: every input ends in success or a clean InputError.

In-process through :func:`lockgen.spec.envfile.parse_env_text` and :func:`lockgen.plan.plan` (no network),
for volume; a handful through the CLI for the exit code. The number of cases run is reported in
the session summary ("fuzz cases").
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lockgen.config import Limits, LockOptions, build_options
from lockgen.environments import declared_environments
from lockgen.errors import ConfigError, InputError
from lockgen.flags import Flags
from lockgen.lockfiles.condalock import parse_condalock, read_condalock
from lockgen.lockfiles.explicit import MalformedLock
from lockgen.lockfiles.lockdir import LockProblem, read_lock_file
from lockgen.lockfiles.requirements import parse_requirements_lock
from lockgen.plan import plan
from lockgen.spec.document import parse_env_text
from lockgen.spec.envfile import load_env_specs
from lockgen.toolconfig import TOOL_KEYS
from tests.faults.figures import count
from tests.support.cli import run_lockgen

EXAMPLES = int(os.environ.get("LOCKGEN_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
SPEC_CHARS = "abcxyz_-.0123456789=<>!~*,|[]()'\" :/@#$^&\\{}?+\t\u00e9\u4e2d\U0001f600\x00\u202e"
PLATFORMS = ("linux-64", "osx-64", "win-64", "osx-arm64")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.text(alphabet=SPEC_CHARS, max_size=40),
    st.sampled_from(["numpy", "python >=3.10", "conda-forge::scipy", "pip", "defaults", "nodefaults", "linux-64"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(st.one_of(st.text(max_size=10), st.integers()), children, max_size=5),
    ),
    max_leaves=30,
)
spec_strings = st.one_of(
    st.text(alphabet=SPEC_CHARS, min_size=1, max_size=60),
    st.text(min_size=1, max_size=30),
    st.builds(
        lambda n, op, v, b: f"{n}{op}{v}{b}",
        st.sampled_from(["numpy", "py-thon", "a.b", "conda-forge::scipy", "../etc", "x[version='>1']"]),
        st.sampled_from(["", " ", "=", "==", ">=", "<", "~=", "!=", " >=1,<", "=*="]),
        st.text(alphabet="0123456789.*abrc", max_size=8),
        st.sampled_from(
            ["", "=py310_0", "=*mkl", "[build=*cpu*]", "  # [win]", "  # [not linux and osx]", " # [bogus("]
        ),
    ),
)
channel_lists = st.lists(
    st.one_of(st.text(max_size=20), st.sampled_from(["conda-forge", "a b", "../x", "https://u:p@h/t/tok/c"])),
    max_size=4,
)
dependency_lists = st.lists(
    st.one_of(spec_strings, st.fixed_dictionaries({"pip": st.lists(spec_strings, max_size=4)}), values), max_size=8
)
platform_lists = st.lists(st.sampled_from([*PLATFORMS, "linux-64/../../etc", "", "LINUX-64"]), max_size=3)
environments = st.fixed_dictionaries(
    {},
    optional={
        "name": values,
        "channels": st.one_of(values, channel_lists),
        "dependencies": st.one_of(values, dependency_lists),
        "platforms": st.one_of(values, platform_lists),
        "prefix": values,
        "variables": values,
    },
)


def _outcome(text: str) -> str:
    """Parse ``text``: 'ok' or 'input-error'; any other exception fails the test."""
    count("fuzz cases")
    try:
        spec = parse_env_text(text, "environment.yml")
    except InputError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)
        assert len(exc.message) < 200_000
        return "input-error"
    for platform in PLATFORMS:  # selectors are evaluated per platform
        spec.conda_dependencies(platform)
        spec.pip_entries(platform)
    return "ok"


def _yaml(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


@FUZZ
@given(environments)
def test_random_structures(document: dict[str, Any]) -> None:
    _outcome(_yaml(document))


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-plan")


@FUZZ
@given(specs=st.lists(spec_strings, min_size=1, max_size=10), platform=st.sampled_from(PLATFORMS))
def test_random_spec_strings_through_plan(plan_dir: Path, specs: list[str], platform: str) -> None:
    """Spec strings all the way to the per-platform solve request (no network)."""
    text = _yaml({"channels": ["conda-forge"], "dependencies": specs})
    if _outcome(text) != "ok":
        return
    env = plan_dir / "environment.yml"
    env.write_text(text, encoding="utf-8")
    with contextlib.suppress(InputError):
        plan(
            LockOptions(
                files=(env,), output_dir=plan_dir / "locks", chosen_cache_dir=plan_dir / "cache", platforms=(platform,)
            )
        )


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    _outcome(text)


@FUZZ
@given(st.text(alphabet="- :[]{}&*!|>'\"#%@`,?\n\t abc0123", max_size=300))
def test_yaml_syntax_soup(text: str) -> None:
    _outcome("dependencies:\n" + text)


def _timed(text: str) -> tuple[str, float]:
    started = time.monotonic()
    outcome = _outcome(text)
    return outcome, time.monotonic() - started


BIG = "x" * 1_000_000
ALIASES = ",".join(["*a"] * 19_000)
HOSTILE = {
    "deep-flow-nesting": "dependencies: " + "[" * 20_000 + "]" * 20_000,
    "deep-block-nesting": "dependencies:\n" + "".join("  " * i + "- \n" for i in range(3_000)),
    "deep-mapping-nesting": "dependencies: " + "{a: " * 5_000 + "b" + "}" * 5_000,
    "billion-laughs": "a: &a [x,x,x,x,x,x,x,x,x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9))
    + "channels: *j\ndependencies: *j\n",
    "alias-amplification": f"x: &a p{BIG}\nchannels: [c]\ndependencies: [{ALIASES}]\n",
    "alias-amplification-pip": f"x: &a p{BIG}\nchannels: [c]\ndependencies: [{{pip: [{ALIASES}]}}]\n",
    "alias-amplification-4k": f"x: &a p{'x' * 4000}\nchannels: [c]\ndependencies: [{ALIASES}]\n",
    "merge-key-loop": "base: &b {dependencies: [a]}\nother: &o {<<: *b, channels: [c]}\n<<: *o\n",
    "too-many-entries": "channels: [c]\ndependencies:\n" + "".join(f"  - p{i}\n" for i in range(25_000)),
    "many-bad-entries": "channels: [c]\ndependencies:\n" + "".join(f"  - 'p{i} >>>'\n" for i in range(15_000)),
    "python-tag": "channels: [c]\ndependencies: !!python/object/apply:os.system ['echo pwned']\n",
    "binary-tag": "channels: [c]\ndependencies: [!!binary aGVsbG8=]\n",
    "nul-and-bidi": "channels: [c]\ndependencies: [\"num\\0py\", \"sci\u202epy\"]\n",
    "multi-document": "channels: [c]\ndependencies: [a]\n---\nchannels: [d]\n",
    "bom": "\ufeffchannels: [c]\ndependencies: [a]\n",
    "huge-comment": "channels: [c]\ndependencies: [a]\n# " + "x" * 4_000_000 + "\n",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_documents(name: str) -> None:
    outcome, seconds = _timed(HOSTILE[name])
    assert outcome in ("ok", "input-error")
    assert seconds < 60, f"{name} took {seconds:.1f}s"  # a generous bound: what matters is no hang


def test_oversized_and_binary_files(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yml"
    huge.write_text("channels: [c]\ndependencies: [a]\n# " + "x" * (6 * 1024 * 1024) + "\n")
    binary = tmp_path / "binary.yml"
    binary.write_bytes(bytes(range(256)) * 10)
    for path in (huge, binary, tmp_path, tmp_path / "missing.yml"):
        count("fuzz cases")
        with pytest.raises(InputError):
            load_env_specs([path], Limits().input_files)


CLI_CASES = {
    "yaml-bomb": HOSTILE["billion-laughs"],
    "deep-nesting": HOSTILE["deep-flow-nesting"],
    "python-tag": HOSTILE["python-tag"],
    "unicode-spec": "channels: [c]\ndependencies: ['\u4e2d\u6587 >=1', '\U0001f600']\n",
    "platform-traversal": "channels: [c]\nplatforms: [linux-64/../../etc]\ndependencies: [a]\n",
    "channel-with-space": "channels: ['conda forge']\ndependencies: [a]\n",
    "channel-name-traversal": "channels: ['conda-forge/../../etc']\ndependencies: [a]\n",
    "spec-channel-traversal": "channels: [c]\ndependencies: ['conda-forge/../../x::numpy']\n",
    "package-traversal": "channels: [c]\ndependencies: ['../../etc/passwd']\n",
    "garbage": "\x00\x01\x02 not yaml: [",
}


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_cli_bad_input_exit_3(name: str, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "environment.yml").write_text(CLI_CASES[name], encoding="utf-8")
    result = run_lockgen(
        "lock", "--mirror", f"https://conda.anaconda.org={tmp_path / 'nochannel'}", "--cache-dir", tmp_path / "c",
        cwd=project, timeout=120,
    )  # fmt: skip
    count("fuzz cases (CLI)")
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "environment.yml" in result.stderr
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["project/environment.yml"], written


def test_path_channel_outside_is_only_read(tmp_path: Path) -> None:
    """`../../etc` as a channel is a local path (a legal channel form): lockgen only reads there,
    fails with exit 5 naming the path, and writes nothing."""
    project = tmp_path / "a" / "b"
    project.mkdir(parents=True)
    (project / "environment.yml").write_text("channels: ['../../etc']\ndependencies: [a]\n")
    result = run_lockgen("lock", "-p", "linux-64", "--cache-dir", tmp_path / "c", cwd=project)
    count("fuzz cases (CLI)")
    assert result.returncode == 5, result.stderr
    assert "Traceback" not in result.stderr
    assert "not found" in result.stderr and "/etc/" in result.stderr
    assert not (project / "locks").exists() and not (tmp_path / "etc").exists()


def test_cli_platform_option_traversal(tmp_path: Path, channel_root: Path) -> None:
    (tmp_path / "environment.yml").write_text("channels: [testchan]\ndependencies: [app]\n")
    base = ("--cache-dir", tmp_path / "c", "--mirror", f"https://conda.anaconda.org={channel_root}")
    for bad in ("linux-64/../../etc", "../x", "linux-64 "):
        result = run_lockgen("lock", "-p", bad, *base, cwd=tmp_path)
        count("fuzz cases (CLI)")
        assert result.returncode == 2, result.stderr
        assert "unknown platform" in result.stderr
    for template in ("../{platform}.txt", "{platform}/../../x.txt", ".lockgen-txn{platform}", "/etc/{platform}"):
        result = run_lockgen("lock", "-p", "linux-64", "--filename-template", template, *base, cwd=tmp_path)
        count("fuzz cases (CLI)")
        assert result.returncode in (2, 10), result.stderr  # refused as an option, or before any write
        assert "Traceback" not in result.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["c", "environment.yml"] or written == ["c", "environment.yml", "locks"], written
    locks = tmp_path / "locks"
    assert sorted(p.name for p in locks.glob("*")) in ([], [".lockgen.lock"])  # at most the writers' flock file
    assert not (tmp_path.parent / "linux-64.txt").exists()


# --- Every other reader of structured input a pull request can commit: pyproject.toml (tomllib), conda-lock.yml
# (yaml), the JSON in a lock's header. Deep nesting and wrong types end in the typed error, never an internal one.

TOOL_SCALARS = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["linux-64", "auto", "md5", "2026-01-01", "locks", "../x", "{platform}.txt", "12.4", ""]),
)
tool_values = st.recursive(
    TOOL_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.sampled_from(["a", "file", "group"]), children, max_size=3)
    ),
    max_leaves=8,
)


def _toml(value: Any) -> str:
    """``value`` as a TOML value (inline arrays and tables; strings as JSON writes them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def _options_outcome(root: Path, pyproject: str) -> str:
    """``build_options`` (as every command starts) and the environments table over ``pyproject``:
    'ok' or 'config-error'; any other exception fails the test."""
    count("fuzz cases")
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    try:
        for writes in (False, True):
            build_options([root / "environment.yml"], Flags(writes_locks=writes))
        declared_environments([root / "environment.yml"])
    except ConfigError as exc:
        assert "pyproject.toml" in exc.message, exc.message
        return "config-error"
    return "ok"


@pytest.fixture(scope="module")
def tool_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz-tool")
    (root / "environment.yml").write_text("channels: [conda-forge]\ndependencies: [python]\n")
    return root


@FUZZ
@given(key=st.sampled_from(sorted(TOOL_KEYS)), value=tool_values)
def test_random_tool_lockgen_values(tool_dir: Path, key: str, value: Any) -> None:
    _options_outcome(tool_dir, f"[tool.lockgen]\n{key} = {_toml(value)}\n")


@FUZZ
@given(key=st.sampled_from(["file", "group", "platforms", "cuda", "other"]), value=tool_values)
def test_random_environment_entries(tool_dir: Path, key: str, value: Any) -> None:
    entry = f'file = "environment.yml"\n{key} = {_toml(value)}\n' if key != "file" else f"file = {_toml(value)}\n"
    _options_outcome(tool_dir, f"[tool.lockgen.environments.x]\n{entry}")


WRONG_TYPES = ["5", "true", "1.5", "2026-01-01", '"linux-64"', "[1]", "[[1]]", "{a = 1}"]


@pytest.mark.parametrize("value", WRONG_TYPES)
@pytest.mark.parametrize("key", sorted(TOOL_KEYS))
def test_each_tool_key_with_a_wrong_type(tool_dir: Path, key: str, value: str) -> None:
    _options_outcome(tool_dir, f"[tool.lockgen]\n{key} = {value}\n")


DEEP_TOML = {
    "array": "[tool.other]\ndeep = " + "[" * 5_000 + "]" * 5_000 + "\n",
    "inline-table": "[tool.other]\ndeep = " + "{a = " * 5_000 + "1" + "}" * 5_000 + "\n",
    "in-tool-lockgen": "[tool.lockgen]\nplatforms = " + "[" * 5_000 + "]" * 5_000 + "\n",
    "tool-not-a-table": "tool = 5\n",
}


@pytest.mark.parametrize("name", sorted(DEEP_TOML))
def test_deep_or_mistyped_pyproject(tool_dir: Path, name: str) -> None:
    assert _options_outcome(tool_dir, DEEP_TOML[name]) == "config-error"


DEEP_YAML = {
    "flow": "version: 1\nmetadata: " + "[" * 20_000 + "]" * 20_000 + "\npackage: []\n",
    "mapping": "version: 1\nmetadata: {platforms: [linux-64]}\npackage: " + "{a: " * 5_000 + "b" + "}" * 5_000 + "\n",
    "block": "version: 1\npackage: []\nmetadata:\n" + "".join("  " * i + "- \n" for i in range(1, 3_000)),
}


@pytest.mark.parametrize("name", sorted(DEEP_YAML))
def test_deep_conda_lock_yml(tmp_path: Path, name: str) -> None:
    count("fuzz cases")
    path = tmp_path / "conda-lock.yml"
    path.write_text(DEEP_YAML[name])
    with pytest.raises(MalformedLock) as info:
        read_condalock(path)
    assert str(path) in str(info.value)


@FUZZ
@given(document=values)
def test_random_conda_lock_structures(document: Any) -> None:
    """conda-lock.yml's reader on any YAML document, in and around its shape: the lock or MalformedLock."""
    count("fuzz cases")
    for text in (_yaml(document), _yaml({"version": 1, "metadata": document, "package": [document]})):
        with contextlib.suppress(MalformedLock):
            parse_condalock(text)


DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("line", ["# specs: ", "# options: format=2 ", "# virtual-packages: "])
def test_deep_json_in_an_explicit_lock_header(tmp_path: Path, line: str) -> None:
    count("fuzz cases")
    path = tmp_path / "linux-64.txt"
    path.write_text(f"# platform: linux-64\n{line}{DEEP_JSON}\n@EXPLICIT\n")
    read = read_lock_file(path, "linux-64")
    assert read.problem in (None, LockProblem.MALFORMED)


def test_deep_json_in_requirements_txt_header() -> None:
    count("fuzz cases")
    lock = parse_requirements_lock(f"# input-hash: sha256:{'0' * 64}\n# pip-lines: {DEEP_JSON}\nidna==3.10\n")
    assert lock.pip_lines is None


CLI_PYPROJECT = {
    "deep-array": (DEEP_TOML["array"], "nested too deep"),
    "platforms-number": ("[tool.lockgen]\nplatforms = 5\n", "pyproject.toml:2: [tool.lockgen] platforms"),
}


@pytest.mark.parametrize("command", ["check", "diff", "lock"])
@pytest.mark.parametrize("name", sorted(CLI_PYPROJECT))
def test_cli_bad_pyproject_exit_2(tmp_path: Path, name: str, command: str) -> None:
    text, said = CLI_PYPROJECT[name]
    (tmp_path / "environment.yml").write_text("channels: [c]\ndependencies: [a]\n")
    (tmp_path / "pyproject.toml").write_text(text)
    offline = ("--offline", "--cache-dir", tmp_path / "c") if command == "lock" else ()
    result = run_lockgen(command, *offline, cwd=tmp_path)
    count("fuzz cases (CLI)")
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert said in result.stderr and "pyproject.toml" in result.stderr


def test_cli_install_deep_conda_lock_yml(tmp_path: Path) -> None:
    (tmp_path / "deep-lock.yml").write_text(DEEP_YAML["flow"])
    result = run_lockgen("install", "deep-lock.yml", "--prefix", tmp_path / "env", cwd=tmp_path)
    count("fuzz cases (CLI)")
    assert result.returncode == 9, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "deep-lock.yml: not valid YAML" in result.stderr
    assert not (tmp_path / "env").exists()
