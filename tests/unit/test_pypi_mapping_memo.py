"""The mapping's memo (docs/performance.md): a table's answers kept in lockgen's cache by the BLAKE2b
of its bytes, so a no-op lock parses no 34k-entry table. Same bytes, same answers; other bytes, a
parse; a name the memo lacks, a parse; a cache inside the project, no memo at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lockgen.errors import ConfigError
from lockgen.plan import PipRequest
from lockgen.pypi.inputs import mapping_memo_dir
from lockgen.pypi.mapping import MEMO_DIR, PypiMapping, _memo_key, _MemoTable, load_mapping

NAMES = ["python", "py-opencv", "numpy", "libfoo", "pytorch"]


def _tables(mapping: PypiMapping) -> list[_MemoTable]:
    return [t for t in mapping.tables if isinstance(t, _MemoTable)]


def test_a_second_load_answers_from_the_memo_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"python": None, "py-opencv": ["Opencv_Python"], "numpy": ["numpy"], "x": []}))
    memo = tmp_path / "cache" / "memo"
    first = load_mapping(["conda-forge"], path, None, memo_dir=memo)
    expected = first.answers(NAMES)
    assert [t.parsed for t in _tables(first)] == [True]
    first.remember()
    assert len(list(memo.iterdir())) == 1

    again = load_mapping(["conda-forge"], path, None, memo_dir=memo)
    assert again.answers(NAMES) == expected == load_mapping(["conda-forge"], path, None).answers(NAMES)
    assert [t.parsed for t in _tables(again)] == [False]
    assert again.pypi_names("x") == ()  # not asked before: the table is parsed for it
    assert [t.parsed for t in _tables(again)] == [True]


def test_lockgens_snapshot_is_answered_from_the_memo_too(tmp_path: Path) -> None:
    """Offline with no cached table, every lock falls back to lockgen's snapshot (34k entries)."""
    memo = tmp_path / "cache" / "memo"
    first = load_mapping(["conda-forge"], None, None, memo_dir=memo)
    assert "snapshot" in first.description
    expected = first.answers(NAMES)
    assert [t.parsed for t in _tables(first)] == [True]
    first.remember()
    again = load_mapping(["conda-forge"], None, None, memo_dir=memo)
    assert again.answers(NAMES) == expected == load_mapping(["conda-forge"], None, None).answers(NAMES)
    assert [t.parsed for t in _tables(again)] == [False]


def test_other_bytes_are_parsed_and_answer_for_themselves(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    memo = tmp_path / "memo"
    path.write_text(json.dumps({"numpy": ["numpy"]}))
    first = load_mapping(["conda-forge"], path, None, memo_dir=memo)
    assert first.pypi_names("numpy") == ("numpy",)
    first.remember()
    path.write_text(json.dumps({"numpy": ["numpy-renamed"]}))
    again = load_mapping(["conda-forge"], path, None, memo_dir=memo)
    assert again.pypi_names("numpy") == ("numpy-renamed",)
    path.write_text(json.dumps({"numpy": ["ok", 3]}))
    with pytest.raises(ConfigError, match="numpy"):  # a malformed table is refused as without a memo
        load_mapping(["conda-forge"], path, None, memo_dir=memo)


def test_a_memo_of_another_lockgen_version_or_malformed_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    memo = tmp_path / "memo"
    path.write_text(json.dumps({"numpy": ["numpy"]}))
    first = load_mapping(["conda-forge"], path, None, memo_dir=memo)
    first.pypi_names("numpy")
    first.remember()
    (written,) = memo.iterdir()
    for text in ('{"lockgen": "0.0.1", "entries": {"numpy": ["evil"]}, "absent": []}', "not json", "[]"):
        written.write_text(text)
        again = load_mapping(["conda-forge"], path, None, memo_dir=memo)
        assert again.pypi_names("numpy") == ("numpy",)
        assert [t.parsed for t in _tables(again)] == [True]


def _request(base: Path, cache: Path) -> PipRequest:
    return PipRequest((), ("environment.yml",), base, ("conda-forge",), base / "locks", cache)


def test_no_memo_in_a_cache_inside_the_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / "sub").mkdir()
    assert mapping_memo_dir(_request(project, project / ".lockgen-cache")) is None
    assert mapping_memo_dir(_request(project / "sub", project / "cache")) is None  # the git work tree counts
    outside = tmp_path / "cache"
    assert mapping_memo_dir(_request(project, outside)) == outside / "pypi-mapping" / MEMO_DIR


_NO_OPENSSL = """
import json, sys
from pathlib import Path
from lockgen.pypi.mapping import load_mapping

path, memo = Path(sys.argv[1]), Path(sys.argv[2])
before = "_hashlib" in sys.modules
first = load_mapping(["conda-forge"], path, None, memo_dir=memo)
first.pypi_names("numpy")
first.remember()
again = load_mapping(["conda-forge"], path, None, memo_dir=memo)
names = sorted(p.name for p in memo.iterdir())
print(json.dumps([before, "_hashlib" in sys.modules, again.pypi_names("numpy"), names]))
"""


def test_the_memo_is_named_by_the_tables_blake2b_without_loading_openssl(tmp_path: Path) -> None:
    """The memo's name is the BLAKE2b of the code's identity and the table's bytes, the interpreter's own
    digest (lockgen.memofile.memo_key): finding it loads no OpenSSL (``import hashlib`` does: about
    2.5 ms of a no-op lock; Round 8)."""
    import subprocess
    import sys

    path = tmp_path / "m.json"
    path.write_text(json.dumps({"numpy": ["numpy"], "python": None}))
    memo = tmp_path / "memo"
    done = subprocess.run(
        [sys.executable, "-c", _NO_OPENSSL, str(path), str(memo)], capture_output=True, text=True, check=True
    )
    before, after, answer, files = json.loads(done.stdout)
    assert (before, after, answer) == (False, False, ["numpy"])
    assert files == [f"{_memo_key(path.read_bytes())}.json"]
