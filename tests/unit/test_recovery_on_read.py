"""Commands that only read locks still finish a commit a killed `lock` left behind."""

from __future__ import annotations

from pathlib import Path

from lockgen.lockfiles import TXN_DIR, commit_files
from lockgen.review.sources import read_directory

OLD = "# platform: linux-64\n@EXPLICIT\nhttps://h/c/linux-64/a-1.0-0.conda#" + "1" * 32 + "\n"
NEW = "# platform: linux-64\n@EXPLICIT\nhttps://h/c/linux-64/a-2.0-0.conda#" + "2" * 32 + "\n"


def test_diff_reads_the_new_set_after_a_committed_journal(tmp_path: Path) -> None:
    out = tmp_path / "locks"
    commit_files(out, {"linux-64.txt": OLD.encode()})
    txn = out / TXN_DIR
    txn.mkdir()
    (txn / "linux-64.txt").write_text(NEW)
    (txn / "MANIFEST").write_text('{"put": ["linux-64.txt"], "delete": []}')
    locks = read_directory(out)
    assert locks.conda["linux-64"]["a"].version == "2.0"
    assert not txn.exists()
