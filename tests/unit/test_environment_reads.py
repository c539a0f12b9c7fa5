"""The process environment is read in one module (issue 24, item 4): :mod:`lockgen.config`.

Everything else takes what it needs as a parameter (``LockOptions``, ``Limits``, ``state_dirs``,
``install_lock(environ=...)``), so a library call or a test never depends on, or has to edit,
``os.environ``. Checked with ``ast`` over every module: ``os.environ``/``os.environb``, ``os.getenv``,
``os.putenv``/``os.unsetenv`` and ``os.path.expandvars`` (which reads the environment for its
caller), however they are imported. Expanding ``~`` in a path the user wrote is not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "lockgen"

OWNER = "config.py"
"""The module that reads the environment: each concern in one ``read_*`` function or in ``build_options``."""

ALLOWED: dict[tuple[str, str], str] = {
    ("pypi/uv.py", "environment"): "the uv child's environment: the user's own (proxies, certificates,"
    " credentials) minus UV_* settings, plus lockgen's",
    ("install/pip.py", "run_pip"): "the pip/uv installer child's environment: the user's own, plus lockgen's timeouts",
    ("conda/solve.py", "_fewer_malloc_arenas"): "MALLOC_ARENA_MAX is glibc's own variable: lockgen leaves the"
    " C library alone when the user set it",
}
"""(module, function) → why it reads the environment itself. Each is a child process's environment or a
C library's variable, never a lockgen setting."""

_READERS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv", "expandvars"}


def _function_of(tree: ast.Module) -> dict[int, str]:
    """Each line's innermost enclosing function name ("" at module level)."""
    owner: dict[int, str] = {}

    def visit(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else name
            for line in range(getattr(child, "lineno", 0), (getattr(child, "end_lineno", None) or 0) + 1):
                owner[line] = inner
            visit(child, inner)

    visit(tree, "")
    return owner


def reads(source: str) -> list[tuple[int, str]]:
    """(line, expression) of every environment read in ``source``."""
    tree = ast.parse(source)
    aliases = {"os"}  # names bound to the os module (or os.path)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name in ("os", "os.path", "posixpath", "ntpath")}
        elif isinstance(node, ast.ImportFrom) and node.module in ("os", "os.path", "posixpath", "ntpath"):
            found += [(node.lineno, f"from {node.module} import {a.name}") for a in node.names if a.name in _READERS]
            aliases |= {a.asname or a.name for a in node.names if a.name == "path"}
        elif isinstance(node, ast.Attribute) and node.attr in _READERS:
            base = ast.unparse(node.value)
            if base in aliases or base.split(".")[0] in aliases:
                found.append((node.lineno, ast.unparse(node)))
    return sorted(set(found))


def unexpected(root: Path) -> list[str]:
    """Every environment read outside the owner and the allowed functions, as ``module:line: expression``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = path.relative_to(root).as_posix()
        if module == OWNER:
            continue
        source = path.read_text(encoding="utf-8")
        owner = _function_of(ast.parse(source))
        for line, text in reads(source):
            if (module, owner.get(line, "")) not in ALLOWED:
                found.append(f"{module}:{line}: {text} (in {owner.get(line) or 'the module body'})")
    return found


def test_only_config_reads_the_environment() -> None:
    assert unexpected(PACKAGE) == [], "read it in lockgen/config.py (a read_* function) and pass the value in"


def test_every_allowed_reader_still_reads() -> None:
    """The allow-list shrinks with the code: an entry whose function no longer reads the environment goes."""
    stale = []
    for module, function in ALLOWED:
        source = (PACKAGE / module).read_text(encoding="utf-8")
        owner = _function_of(ast.parse(source))
        if not any(owner.get(line) == function for line, _ in reads(source)):
            stale.append((module, function))
    assert stale == []


@pytest.mark.parametrize(
    "source",
    [
        "import os\nX = os.environ.get('A')\n",
        "import os\ndef f():\n    return os.getenv('A')\n",
        "from os import environ\n",
        "from os import getenv as g\n",
        "import os as o\nY = o.environ['A']\n",
        "import os.path\nZ = os.path.expandvars('$A')\n",
        "from os import path\nZ = path.expandvars('$A')\n",
        "import os\ndef f(d):\n    d.update(os.environ)\n",
    ],
)
def test_a_read_is_caught(tmp_path: Path, source: str) -> None:
    """The checker itself: each form of reading the environment is reported outside config.py, not in it."""
    (tmp_path / "module.py").write_text(source)
    (tmp_path / "config.py").write_text(source)
    found = unexpected(tmp_path)
    assert found and all(line.startswith("module.py:") for line in found)


def test_a_mapping_passed_in_is_not_a_read(tmp_path: Path) -> None:
    (tmp_path / "module.py").write_text(
        "import os\ndef f(environ):\n    return environ.get('HOME'), os.path.expanduser('~'), os.pathsep\n"
    )
    assert unexpected(tmp_path) == []


# --- what the values passed in replace ---------------------------------------------------------------------


def test_lock_options_built_directly_read_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``LockOptions(...)`` takes its defaults, not the environment; ``build_options`` reads it."""
    from lockgen.config import Limits, LockOptions, build_options
    from lockgen.errors import ConfigError
    from tests.support.options import flags

    monkeypatch.setenv("LOCKGEN_PYPI_MAPPING_URL", "https://mapping.invalid/{channel}")
    monkeypatch.setenv("LOCKGEN_UV_TIMEOUT", "7")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    env = tmp_path / "environment.yml"
    options = LockOptions(files=(env,), output_dir=tmp_path / "locks", chosen_cache_dir=tmp_path)
    assert options.limits == Limits() and options.mapping_url is None and options.state_dirs == ()
    (tmp_path / "environment.yml").write_text("dependencies: []\n")
    built = build_options([tmp_path / "environment.yml"], flags(cache_dir=tmp_path / "cache"))
    assert built.limits.uv_timeout_s == 7 and built.mapping_url == "https://mapping.invalid/{channel}"
    assert built.state_dirs[0] == tmp_path / "state"
    monkeypatch.setenv("LOCKGEN_HTTP_TIMEOUT", "soon")
    LockOptions(files=(), output_dir=tmp_path, chosen_cache_dir=tmp_path)  # a bad variable concerns build_options only
    with pytest.raises(ConfigError, match="LOCKGEN_HTTP_TIMEOUT"):
        build_options([tmp_path / "environment.yml"], flags(cache_dir=tmp_path / "cache"))


def test_state_dirs_follow_xdg_only_when_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lockgen.config import read_state_dirs

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert read_state_dirs() == (tmp_path / "state", tmp_path / "home" / ".local" / "state")
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")  # the XDG rule: a relative value is ignored
    assert read_state_dirs() == (tmp_path / "home" / ".local" / "state",)


def test_the_default_cache_folder_is_looked_up_when_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No --cache-dir, [tool.lockgen] cache-dir or LOCKGEN_CACHE_DIR: the options and the pip request keep None,
    and ``cache_dir`` is the platform's user cache folder (platformdirs, loaded then: ``check`` never asks)."""
    from platformdirs import user_cache_dir

    from lockgen.config import build_options
    from lockgen.plan import pip_request, plan
    from tests.support.options import flags

    monkeypatch.delenv("LOCKGEN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    env = tmp_path / "environment.yml"
    env.write_text("channels: [conda-forge]\ndependencies:\n  - python\n  - pip\n  - pip: [rich]\n")
    options = build_options([env], flags(output_dir=tmp_path / "locks"))
    request = pip_request(plan(options))
    assert options.chosen_cache_dir is None and request.chosen_cache_dir is None
    assert options.cache_dir == request.cache_dir == Path(user_cache_dir("lockgen", appauthor=False))
    monkeypatch.setenv("LOCKGEN_CACHE_DIR", str(tmp_path / "chosen"))  # read by build_options, once
    assert options.cache_dir == Path(user_cache_dir("lockgen", appauthor=False))
    chosen = build_options([env], flags(output_dir=tmp_path / "locks"))
    assert chosen.chosen_cache_dir == chosen.cache_dir == pip_request(plan(chosen)).cache_dir == tmp_path / "chosen"
    flagged = build_options([env], flags(output_dir=tmp_path / "locks", cache_dir=tmp_path / "c"))
    assert flagged.cache_dir == pip_request(plan(flagged)).cache_dir == tmp_path / "c"


def test_the_journal_key_lives_where_the_caller_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commit takes its state folders as a parameter: the process environment plays no part."""
    from lockgen.lockfiles.commit import KEY_FILE, commit_files, key_path

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "not-this-one"))
    monkeypatch.setenv("HOME", str(tmp_path / "nor-this-home"))
    state = tmp_path / "given"
    assert key_path(tmp_path / "project" / "locks", (state,)) == state / "lockgen" / KEY_FILE
    commit_files(tmp_path / "project" / "locks", {"a.txt": b"# Generated by lockgen\n"}, state_dirs=(state,))
    assert (state / "lockgen" / KEY_FILE).is_file()
    assert not (tmp_path / "not-this-one").exists() and not (tmp_path / "nor-this-home").exists()


def test_install_expands_condarc_variables_from_the_environment_passed_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lockgen.install.envs import envs_dir

    monkeypatch.setenv("ENVS_ROOT", str(tmp_path / "process"))
    given = {"CONDA_ENVS_PATH": "$ENVS_ROOT/envs", "ENVS_ROOT": str(tmp_path / "given")}
    assert envs_dir(given, tmp_path) == tmp_path / "given" / "envs"
    assert envs_dir({"CONDA_ENVS_PATH": "${UNSET_ROOT}/envs"}, tmp_path) == Path("${UNSET_ROOT}/envs")
    (tmp_path / ".condarc").write_text("envs_dirs:\n  - ${ENVS_ROOT}/conda-envs\n")
    assert envs_dir({"ENVS_ROOT": "/srv"}, tmp_path) == Path("/srv/conda-envs")
