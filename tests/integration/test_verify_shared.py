"""`lockgen verify` on real conda-forge locks (minimal-pytorch.yml) against the offline snapshot.

The snapshot has repodata only, no package files, so this checks verify (hashes, closure, order,
platforms) at real scale; installing is covered by the small-channel tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgen.lockfiles import parse_explicit
from tests.support.cli import invoke_lockgen

pytestmark = pytest.mark.shared


def _mirror(shared: Path) -> str:
    return f"https://conda.anaconda.org={shared / 'channels'}"


@pytest.fixture
def locks(tmp_path: Path, shared_dir: Path) -> Path:
    out = tmp_path / "locks"
    result = invoke_lockgen(
        "lock",
        "-f",
        shared_dir / "environments" / "minimal-pytorch.yml",
        "-o",
        out,
        "--mirror",
        _mirror(shared_dir),
        "--cache-dir",
        tmp_path / "cache",
    )
    assert result.returncode == 0, result.stderr
    return out


def _verify(locks: Path, shared: Path, *extra: str) -> tuple[int, str, str]:
    result = invoke_lockgen(
        "verify", "-o", locks, "--mirror", _mirror(shared), "--cache-dir", locks.parent / "cache", *extra
    )
    return result.returncode, result.stdout, result.stderr


def test_fresh_locks_verify(locks: Path, shared_dir: Path) -> None:
    code, out, err = _verify(locks, shared_dir)
    assert code == 0, out + err
    for platform in ("linux-64", "osx-64", "win-64"):
        count = len(parse_explicit((locks / f"{platform}.txt").read_text()).entries)
        assert f"{locks / platform}.txt: ok ({count} packages, platform {platform})" in out


def test_tampered_real_lock_is_caught(locks: Path, shared_dir: Path) -> None:
    lock = locks / "linux-64.txt"
    parsed = parse_explicit(lock.read_text())
    torch = next(e for e in parsed.entries if e.name in ("pytorch", "libtorch"))
    python = next(e for e in parsed.entries if e.name == "python")
    text = lock.read_text().replace(f"#{torch.md5}", "#" + "f" * 32)
    text = "\n".join(line for line in text.splitlines() if line.split("#")[0] != python.url) + "\n"
    lock.write_text(text)
    code, out, _ = _verify(locks, shared_dir, "-p", "linux-64")
    assert code == 8
    assert f"{torch.name}: md5 mismatch: the lock says {'f' * 32}" in out
    assert "which no line of this lock provides" in out
    assert "`python" in out
