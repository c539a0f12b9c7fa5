"""The conda→PyPI mapping's memo (lockgen/pypi/mapping.py) is read and written as safely as the
environment file's (tests/security/test_memo_trust.py): a memo file in lockgen's cache that is not one
lockgen wrote for these bytes and this code never answers for the table, hangs a command, fills its
memory or raises; writing it never follows a link; and it is kept only in a cache folder outside the
project of every environment file, the memo folder itself included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lockgen.plan import PipRequest
from lockgen.pypi.inputs import mapping_memo_dir
from lockgen.pypi.mapping import PypiMapping, _MemoTable, load_mapping
from tests.support.memos import leftover_temporaries, temporaries

TABLE = {"numpy": ["numpy"], "py-opencv": ["opencv-python"], "python": None}


def _parsed(mapping: PypiMapping) -> list[bool]:
    return [t.parsed for t in mapping.tables if isinstance(t, _MemoTable)]


def _memo_of(path: Path, memo_dir: Path) -> Path:
    before = set(memo_dir.glob("*.json")) if memo_dir.is_dir() else set()
    mapping = load_mapping(["conda-forge"], path, None, memo_dir=memo_dir)
    mapping.pypi_names("numpy")
    mapping.remember()
    (memo,) = set(memo_dir.glob("*.json")) - before
    return memo


def _table(tmp_path: Path, table: dict[str, list[str] | None] = TABLE, name: str = "m.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(table))
    return path


def _again(path: Path, memo_dir: Path) -> PypiMapping:
    return load_mapping(["conda-forge"], path, None, memo_dir=memo_dir)


def test_a_memo_that_is_a_fifo_does_not_hang(tmp_path: Path) -> None:
    """Reading a FIFO blocks until a writer comes: the memo is refused unread and the table parsed."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    path, memo_dir = _table(tmp_path), tmp_path / "memo"
    memo = _memo_of(path, memo_dir)
    memo.unlink()
    os.mkfifo(memo)
    script = (
        "import sys\nfrom pathlib import Path\nfrom lockgen.pypi.mapping import load_mapping\n"
        "m = load_mapping(['conda-forge'], Path(sys.argv[1]), None, memo_dir=Path(sys.argv[2]))\n"
        "print(m.pypi_names('py-opencv'))\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, str(path), str(memo_dir)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("reading a memo that is a FIFO hung")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "('opencv-python',)"


def test_a_memo_over_the_size_limit_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lockgen.memofile

    path, memo_dir = _table(tmp_path), tmp_path / "memo"
    memo = _memo_of(path, memo_dir)
    memo.write_bytes(memo.read_bytes() + b" " * 4096)  # still a valid memo, only larger
    assert _parsed(_again(path, memo_dir)) == [False]
    monkeypatch.setattr(lockgen.memofile, "MEMO_MAX_BYTES", 4096)
    again = _again(path, memo_dir)
    assert _parsed(again) == [True]  # parsed, the memo not read
    assert again.pypi_names("numpy") == ("numpy",)


def test_a_memo_nested_too_deep_is_none(tmp_path: Path) -> None:
    """json raises RecursionError on arrays nested past the recursion limit: an internal error before."""
    path, memo_dir = _table(tmp_path), tmp_path / "memo"
    memo = _memo_of(path, memo_dir)
    memo.write_text("[" * 100_000 + "]" * 100_000)
    again = _again(path, memo_dir)
    assert again.pypi_names("numpy") == ("numpy",)
    assert _parsed(again) == [True]


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="no file owners here")
def test_a_memo_others_may_write_is_not_read(tmp_path: Path) -> None:
    """A cache folder shared with others: a memo they may rewrite answers nothing; lockgen's own memo
    is writable by its owner only."""
    path, memo_dir = _table(tmp_path), tmp_path / "memo"
    memo = _memo_of(path, memo_dir)
    assert not memo.stat().st_mode & 0o022
    for mode in (0o664, 0o646):
        memo.chmod(mode)
        assert _parsed(_again(path, memo_dir)) == [True]
    memo.chmod(0o644)
    assert _parsed(_again(path, memo_dir)) == [False]


def test_a_memo_renamed_to_another_tables_name_is_not_read(tmp_path: Path) -> None:
    """The memo of one table linked (or renamed) to the name of another's: the first table's answers
    are not the second's."""
    memo_dir = tmp_path / "memo"
    genuine = _table(tmp_path, {"numpy": ["numpy"]}, "a.json")
    other = _table(tmp_path, {"numpy": ["numpy-other"]}, "b.json")
    genuine_memo = _memo_of(genuine, memo_dir)
    other_memo = _memo_of(other, memo_dir)
    other_memo.unlink()
    os.link(genuine_memo, other_memo)
    assert _again(genuine, memo_dir).pypi_names("numpy") == ("numpy",)
    again = _again(other, memo_dir)
    assert again.pypi_names("numpy") == ("numpy-other",)
    assert _parsed(again) == [True]


def test_writing_a_memo_never_follows_a_link(tmp_path: Path) -> None:
    """A link planted where lockgen writes its temporary file: the file it leads to is left as it was."""
    path, memo_dir = _table(tmp_path), tmp_path / "memo"
    memo = _memo_of(path, memo_dir)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    planted = memo_dir / f"{memo.stem}.tmp{os.getpid()}"
    planted.symlink_to(victim)
    again = _again(path, memo_dir)
    assert again.pypi_names("py-opencv") == ("opencv-python",)  # not in the memo: parsed, then remembered
    again.remember()
    assert victim.read_text() == "mine\n"
    assert planted.is_symlink()  # not lockgen's: left there


def test_a_memo_of_another_virtual_environment_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, memo_dir = _table(tmp_path), tmp_path / "memo"
    _memo_of(path, memo_dir)
    assert _parsed(_again(path, memo_dir)) == [False]
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "other-venv"))
    assert _parsed(_again(path, memo_dir)) == [True]


def test_a_memo_of_another_checkout_of_the_same_version_is_not_used(tmp_path: Path) -> None:
    """The user's cache folder serves every checkout of lockgen: a memo another copy of the same
    version wrote (its table reader edited, as in a development checkout) must not answer here."""
    import lockgen

    copy = tmp_path / "other-checkout"
    shutil.copytree(Path(lockgen.__file__).parent, copy / "lockgen", ignore=shutil.ignore_patterns("__pycache__"))
    module = copy / "lockgen" / "pypi" / "mapping.py"
    last = '            raise ValueError(f"{where}: entry {key!r} must be a list of names or null")\n    return table\n'
    edited = module.read_text().replace(last, last.replace("return table", "return {k: ['edited'] for k in table}"))
    assert edited != module.read_text()
    module.write_text(edited)
    path, memo_dir = _table(tmp_path), tmp_path / "cache" / "memo"
    script = (
        "import sys\nfrom pathlib import Path\nfrom lockgen.pypi.mapping import load_mapping\n"
        "m = load_mapping(['conda-forge'], Path(sys.argv[1]), None, memo_dir=Path(sys.argv[2]))\n"
        "print(m.pypi_names('numpy'))\nm.remember()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), str(memo_dir)],
        env={**os.environ, "PYTHONPATH": str(copy)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "('edited',)"  # that copy's reader, and its memo kept
    assert len(list(memo_dir.glob("*.json"))) == 1
    assert _again(path, memo_dir).pypi_names("numpy") == ("numpy",)  # this copy's reader


def _request(sources: tuple[str, ...], base: Path, cache: Path) -> PipRequest:
    return PipRequest((), sources, base, ("conda-forge",), base / "locks", cache)


def test_no_memo_in_the_project_of_a_second_environment_file(tmp_path: Path) -> None:
    """``-f base.yml -f ../checkout/gpu.yml``: the second file's project is the pull request's, and a
    cache folder in it keeps no memo (only the first file's folder was looked at)."""
    base, pr = tmp_path / "base", tmp_path / "checkout"
    base.mkdir()
    (pr / ".git").mkdir(parents=True)
    sources = (str(base / "environment.yml"), str(pr / "gpu.yml"))
    assert mapping_memo_dir(_request(sources, base, pr / ".cache")) is None
    assert mapping_memo_dir(_request(sources, base, tmp_path / "user-cache")) is not None


def test_no_memo_in_a_memo_folder_linked_into_the_project(tmp_path: Path) -> None:
    """The cache folder is outside the project, but its ``pypi-mapping`` folder is a link into it."""
    project = tmp_path / "checkout"
    (project / ".git").mkdir(parents=True)
    cache = tmp_path / "user-cache"
    cache.mkdir()
    (cache / "pypi-mapping").symlink_to(project / "committed", target_is_directory=True)
    request = _request((str(project / "environment.yml"),), project, cache)
    assert mapping_memo_dir(request) is None


def test_a_memo_is_used_only_while_the_table_reader_is_unchanged(tmp_path: Path) -> None:
    """The memo names the file of the code that read the table (lockgen/pypi/mapping.py): once that
    file changed (an edited checkout, in the same folder), the memo answers nothing."""
    import lockgen.pypi.mapping

    path, memo_dir = _table(tmp_path), tmp_path / "memo"
    memo = _memo_of(path, memo_dir)
    written = json.loads(memo.read_text())
    assert [file for file, _, _ in written["code"]] == [lockgen.pypi.mapping.__file__]
    written["code"][0][2] += 1  # the reader's modification time, as after an edit
    memo.write_text(json.dumps(written))
    again = _again(path, memo_dir)
    assert again.pypi_names("numpy") == ("numpy",)
    assert _parsed(again) == [True]


def test_a_temporary_file_a_stopped_run_left_is_removed(tmp_path: Path) -> None:
    """A run stopped while it wrote the memo leaves its temporary file: the next memo written removes
    those older than a day and leaves a recent one (another run may be writing it), as for the
    environment file's memo."""
    path, memo_dir = _table(tmp_path), tmp_path / "memo"
    recent = leftover_temporaries(memo_dir)
    _memo_of(path, memo_dir)
    assert temporaries(memo_dir) == [recent]
