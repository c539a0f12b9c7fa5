"""One scan per extracted package: every member meets the per-member check once, and is fingerprinted as it is then."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lockgen.install.confine import UnsafePath, scan_package
from lockgen.install.staging import staging_dir


def _package(root: Path) -> Path:
    (root / "lib" / "sub").mkdir(parents=True)
    (root / "lib" / "a.so").write_bytes(b"a")
    (root / "lib" / "sub" / "b.txt").write_bytes(b"bb")
    (root / "lib" / "a.so.1").symlink_to("a.so")
    return root


def test_every_member_is_checked_once_and_fingerprinted(tmp_path: Path) -> None:
    root = _package(tmp_path / "pkg")
    seen: list[str] = []
    scan = scan_package(root, "p-1-0", lambda package, relative, info, path: seen.append(relative))
    assert sorted(seen) == ["lib", "lib/a.so", "lib/a.so.1", "lib/sub", "lib/sub/b.txt"]
    assert scan.files == {"lib/a.so", "lib/sub/b.txt"} and scan.links == {"lib/a.so.1": "a.so"}
    info = (root / "lib" / "sub" / "b.txt").lstat()
    assert scan.fingerprints["lib/sub/b.txt"] == [info.st_mode, 2, info.st_mtime_ns, info.st_ino]
    assert set(scan.fingerprints) == {"lib/a.so", "lib/a.so.1", "lib/sub/b.txt"}


def test_a_member_check_refuses_the_package(tmp_path: Path) -> None:
    root = _package(tmp_path / "pkg")

    def refuse(package: str, relative: str, info: os.stat_result, path: str) -> None:
        if relative == "lib/sub/b.txt":
            raise UnsafePath(package, relative, "refused by the member check")

    with pytest.raises(UnsafePath, match="refused by the member check"):
        scan_package(root, "p-1-0", refuse)


def test_a_mode_the_check_changes_is_fingerprinted_as_changed(tmp_path: Path) -> None:
    root = _package(tmp_path / "pkg")
    target = root / "lib" / "a.so"
    target.chmod(0o4755)

    def strip(package: str, relative: str, info: os.stat_result, path: str) -> None:
        if info.st_mode & stat.S_ISUID:
            os.chmod(path, stat.S_IMODE(info.st_mode) & ~stat.S_ISUID)

    scan = scan_package(root, "p-1-0", strip)
    assert scan.fingerprints["lib/a.so"][0] == target.lstat().st_mode
    assert not target.lstat().st_mode & stat.S_ISUID


def test_the_staging_directory_is_new_private_and_removed(tmp_path: Path) -> None:
    """Made by hand (no ``tempfile``): a new directory each time, for this user only, named so the next
    install knows whose it is (``.lockgen-stage-<pid>-``), and gone afterwards."""
    with staging_dir(tmp_path / "pkgs") as first, staging_dir(tmp_path / "pkgs") as second:
        assert first != second
        for made in (first, second):
            assert made.parent == tmp_path / "pkgs"
            assert made.name.startswith(f".lockgen-stage-{os.getpid()}-")
            assert stat.S_IMODE(made.lstat().st_mode) & 0o077 == 0
        (first / "x").write_bytes(b"x")
    assert not list((tmp_path / "pkgs").iterdir())
