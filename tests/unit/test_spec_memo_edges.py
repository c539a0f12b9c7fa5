"""The environment file's memo (lockgen.spec.memo) at its edges: names that are not UTF-8, the code of
every package that decides what a text parses to, and memo files that are not what store() writes.

A memo hit must give what a fresh parse gives, and a memo file lockgen's cache holds must never hang
a command or fill its memory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lockgen import memofile
from lockgen.spec import memo
from lockgen.spec.envfile import load_env_specs
from tests.support.memos import leftover_temporaries, temporaries

SIMPLE = "channels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n      - requests\n"


def test_a_name_that_is_not_utf8_is_kept_and_read_back(tmp_path: Path) -> None:
    """A file named by bytes that are not UTF-8 (``env\\xff.yml``, a surrogate once decoded) is read as
    without a memo, its memo kept and used; storing it raised UnicodeEncodeError (an internal error)."""
    name = os.fsdecode(b"env\xff.yml")
    env = tmp_path / name
    env.write_text(SIMPLE, encoding="utf-8")
    memo_dir = tmp_path / "cache" / "memo"
    fresh = load_env_specs([env])
    assert load_env_specs([env], memo_dir=memo_dir) == fresh
    assert len(list(memo_dir.glob("*.json"))) == 1
    assert memo.load(memo_dir, str(env), SIMPLE) == fresh
    assert load_env_specs([env], memo_dir=memo_dir) == fresh
    assert fresh.dependencies[0].location.file == str(env)


UNCOMMON = """\
channels: [conda-forge]
dependencies:
  - python >=3.10,<3.12.0a0 *_cpython
  - pip
  - pip:
      - requests[socks] >=2.31 ; python_version >= "3.8" and platform_machine != "arm64"
"""


def test_the_memo_names_rattler_and_packaging_when_the_parse_used_them(tmp_path: Path) -> None:
    """A conda spec of an uncommon shape is checked by rattler's MatchSpec, a pip line of one by
    packaging's Requirement: an upgrade of either may refuse (or accept) the same text, so the memo
    records their modules as it does PyYAML's, and a changed one is a miss."""
    env = tmp_path / "environment.yml"
    env.write_text(UNCOMMON, encoding="utf-8")
    memo_dir = tmp_path / "memo"
    load_env_specs([env], memo_dir=memo_dir)
    assert "rattler" in sys.modules and "packaging.requirements" in sys.modules  # the parse needed them
    (path,) = memo_dir.glob("*.json")
    stamped = {file for file, _, _ in json.loads(path.read_text())["code"]}
    parsers = ("packaging.requirements", "rattler.rattler", "rattler.match_spec.match_spec", "yaml.composer")
    for name in (*parsers, "lockgen.spec.document"):
        file = getattr(sys.modules.get(name), "__file__", None)
        assert file in stamped, name


def _mkfifo(path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


def test_a_memo_that_is_a_fifo_is_none_and_does_not_hang(tmp_path: Path) -> None:
    """Reading a FIFO blocks until a writer comes: the memo is refused unread (a regular file only)."""
    env = tmp_path / "environment.yml"
    env.write_text(SIMPLE, encoding="utf-8")
    memo_dir = tmp_path / "memo"
    _mkfifo(memo.memo_path(memo_dir, str(env), SIMPLE))
    script = (
        "from pathlib import Path\n"
        "from lockgen.spec.envfile import load_env_specs\n"
        f"spec = load_env_specs([{str(env)!r}], memo_dir=Path({str(memo_dir)!r}))\n"
        "print([d.spec for d in spec.dependencies])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )  # before: blocked for ever in open()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['python=3.11', 'pip']"


def test_a_memo_over_the_size_limit_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A memo larger than any store() writes is not read into memory (it is parsed again instead)."""
    env = tmp_path / "environment.yml"
    env.write_text(SIMPLE, encoding="utf-8")
    memo_dir = tmp_path / "memo"
    expected = load_env_specs([env], memo_dir=memo_dir)
    (path,) = memo_dir.glob("*.json")
    path.write_bytes(path.read_bytes() + b" " * 4096)  # still a valid memo, only larger
    assert memo.load(memo_dir, str(env), SIMPLE) == expected
    monkeypatch.setattr(memofile, "MEMO_MAX_BYTES", 4096)
    assert memo.load(memo_dir, str(env), SIMPLE) is None
    assert load_env_specs([env], memo_dir=memo_dir) == expected  # parsed; too large a memo is not written
    assert memo.load(memo_dir, str(env), SIMPLE) is None


def test_a_memo_that_is_a_folder_is_none(tmp_path: Path) -> None:
    env = tmp_path / "environment.yml"
    env.write_text(SIMPLE, encoding="utf-8")
    memo_dir = tmp_path / "memo"
    memo.memo_path(memo_dir, str(env), SIMPLE).mkdir(parents=True)
    assert load_env_specs([env], memo_dir=memo_dir) == load_env_specs([env])
    assert not list(memo_dir.glob("*.tmp*"))  # the write failed, its temporary file removed


def test_a_memo_of_another_checkout_of_the_same_version_is_not_used(tmp_path: Path) -> None:
    """One cache folder serves every virtual environment and checkout of its user: a memo another copy
    of lockgen wrote (the same version, its parser edited, as in a development checkout) names that
    copy's modules, which are unchanged; it must not answer for this copy's parser."""
    import lockgen

    copy = tmp_path / "other-checkout"
    shutil.copytree(Path(lockgen.__file__).parent, copy / "lockgen", ignore=shutil.ignore_patterns("__pycache__"))
    document = copy / "lockgen" / "spec" / "document.py"
    edited = document.read_text().replace(
        "    parsed = _parse(reader, text)\n", "    parsed = _parse(reader, text)\n    parsed.name = 'edited'\n"
    )
    assert edited != document.read_text()
    document.write_text(edited)
    env = tmp_path / "environment.yml"
    env.write_text(SIMPLE, encoding="utf-8")
    memo_dir = tmp_path / "cache" / "memo"
    script = (
        "from pathlib import Path\n"
        "from lockgen.spec.envfile import load_env_specs\n"
        f"print(load_env_specs([{str(env)!r}], memo_dir=Path({str(memo_dir)!r})).name)\n"
    )

    def run(**variables: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, **variables},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    assert run(PYTHONPATH=str(copy)) == "edited"  # that copy's parser, and its memo kept
    assert len(list(memo_dir.glob("*.json"))) == 1
    assert load_env_specs([env], memo_dir=memo_dir).name is None  # this copy's parser
    assert run() == "None"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CACHE_HOME is the user cache folder on Linux only")
def test_the_test_session_never_uses_the_users_cache(cache_home: Path) -> None:
    """A test that chooses no cache folder writes memos and repodata into the session's, never into
    the user's: not through XDG_CACHE_HOME, nor through a LOCKGEN_CACHE_DIR set in the user's shell."""
    from lockgen.config import default_cache_dir

    assert cache_home in default_cache_dir().parents


def test_a_memo_nested_too_deep_is_none(tmp_path: Path) -> None:
    """JSON arrays nested past the interpreter's recursion limit: json raises RecursionError, which is
    a memo that does not decode (it was an internal error)."""
    env = tmp_path / "environment.yml"
    env.write_text(SIMPLE, encoding="utf-8")
    memo_dir = tmp_path / "memo"
    path = memo.memo_path(memo_dir, str(env), SIMPLE)
    path.parent.mkdir(parents=True)
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert memo.load(memo_dir, str(env), SIMPLE) is None
    assert load_env_specs([env], memo_dir=memo_dir) == load_env_specs([env])
    assert memo.load(memo_dir, str(env), SIMPLE) is not None  # written again


def test_a_memo_of_another_virtual_environment_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two virtual environments with the same lockgen (an editable checkout) and Python but their own
    PyYAML share the user's cache: the other's memo names its PyYAML, unchanged, not this one's."""
    env = tmp_path / "environment.yml"
    env.write_text(SIMPLE, encoding="utf-8")
    memo_dir = tmp_path / "memo"
    spec = load_env_specs([env], memo_dir=memo_dir)
    assert memo.load(memo_dir, str(env), SIMPLE) == spec
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "other-venv"))
    assert memo.load(memo_dir, str(env), SIMPLE) is None


def test_a_temporary_file_a_stopped_run_left_is_removed(tmp_path: Path) -> None:
    """A run stopped (Ctrl-C, a kill) while it wrote a memo leaves its temporary file: the next memo
    written removes those older than a day, and leaves a recent one (another run may be writing it)."""
    env = tmp_path / "environment.yml"
    env.write_text(SIMPLE, encoding="utf-8")
    memo_dir = tmp_path / "memo"
    recent = leftover_temporaries(memo_dir)
    load_env_specs([env], memo_dir=memo_dir)
    assert temporaries(memo_dir) == [recent]
    assert len(list(memo_dir.glob("*.json"))) == 1
