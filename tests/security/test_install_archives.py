"""`lockgen install` against hostile archive members (issue 18, item 12), black-box.

Each test builds a package whose payload tar (the ``.tar.bz2`` itself, or the ``pkg-*.tar.zst``
inside a ``.conda``) carries what no honest package does: FIFOs, device nodes, set-uid/set-gid/
sticky bits, ``../`` and absolute member names, symbolic and hard links that leave the
extraction; or a ``noarch: python`` entry point with a path or control characters in its name.
Then it locks, runs ``lockgen install`` and checks what must hold whatever the extraction code
is: nothing is written outside the prefix, no secret is copied or linked into it, the prefix holds
only regular files, directories and symbolic links, no installed file keeps a set-uid/set-gid/
sticky bit, and a refused install (exit 9) leaves the prefix as it was.
"""

from __future__ import annotations

import os
import platform
import stat
import sys
import tarfile
from pathlib import Path

import pytest

from lockgen.install.confine import UnsafePath, package_files
from tests.faults.figures import count
from tests.faults.test_install_hostile import DATA, World, _entry, _refused, _tree

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.machine() == "x86_64" and hasattr(os, "mkfifo")),
    reason="installs a linux-64 lock, which only a linux-64 machine runs",
)


def _member(
    name: str, kind: bytes, *, data: bytes = b"", mode: int = 0o644, link: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = 1_700_000_000
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3  # /dev/null's numbers (8, 0 would be a disk)
    return info, data


def _only_plain_entries(prefix: Path) -> None:
    """The prefix holds regular files, directories and links only, none with a set-uid/gid/sticky bit."""
    for path in prefix.rglob("*"):
        mode = path.lstat().st_mode
        assert stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode), (path, oct(mode))
        if not stat.S_ISLNK(mode):
            assert not mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX), (path, oct(mode))


def _nothing_outside(root: Path, world: World, *names: str) -> None:
    """No file named ``names`` exists outside the prefix, the channel and the caches."""
    for name in names:
        found = [
            p
            for p in root.rglob(name)
            if not {"mirror", "cache"} & set(p.relative_to(root).parts) and world.prefix not in p.parents
        ]
        assert found == [], found


FORMATS = [".tar.bz2", ".conda"]


# --- special files and mode bits ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", [tarfile.FIFOTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE], ids=["fifo", "chr", "blk"])
def test_fifo_and_device_members_never_reach_the_prefix(tmp_path: Path, fmt: str, kind: bytes) -> None:
    """Listed in paths.json as a file: the install is refused, or it installs an empty regular
    file (rattler's extractor writes special members as such); never a FIFO or device node."""
    world = World(
        tmp_path,
        fmt=fmt,
        files={"share/ok": DATA},
        raw_members=[_member("share/node", kind)],
        paths_override=[_entry("share/ok"), _entry("share/node", b"")],
    )
    world.lock()
    result = world.install()
    assert "Traceback" not in result.stderr and "panicked" not in result.stderr, result.stderr
    assert result.returncode in (0, 9), result.stderr
    if result.returncode == 9:
        assert not world.prefix.exists()
    else:
        assert (world.prefix / "share" / "ok").read_bytes() == DATA
    _only_plain_entries(world.prefix)
    count("hostile channel cases")


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_setuid_setgid_and_sticky_bits_are_stripped(tmp_path: Path, fmt: str) -> None:
    world = World(
        tmp_path,
        fmt=fmt,
        raw_members=[
            _member("bin/suid", tarfile.REGTYPE, data=b"#!/bin/sh\n", mode=0o4755),
            _member("bin/sgid", tarfile.REGTYPE, data=b"#!/bin/sh\n", mode=0o2755),
            _member("share/sticky", tarfile.REGTYPE, data=b"x", mode=0o1644),
        ],
        paths_override=[
            _entry("bin/suid", b"#!/bin/sh\n"),
            _entry("bin/sgid", b"#!/bin/sh\n"),
            _entry("share/sticky", b"x"),
        ],
    )
    world.lock()
    result = world.install()
    assert result.returncode == 0, result.stderr
    assert (world.prefix / "bin" / "suid").read_bytes() == b"#!/bin/sh\n"
    assert os.access(world.prefix / "bin" / "suid", os.X_OK)  # still a program, just not a set-uid one
    _only_plain_entries(world.prefix)
    count("hostile channel cases")


def test_the_judge_refuses_a_fifo_and_strips_bits_whatever_the_extractor_did(tmp_path: Path) -> None:
    """The extraction-independent guard: an extracted package holding a real FIFO (listed as a file)
    is refused; a set-uid file loses the bit before anything links it."""
    import json

    (tmp_path / "info").mkdir()
    (tmp_path / "share").mkdir()
    os.mkfifo(tmp_path / "share" / "pipe")
    (tmp_path / "share" / "tool").write_bytes(b"x")
    (tmp_path / "share" / "tool").chmod(0o4755)
    entries = [_entry("share/tool", b"x")]
    paths = {"paths": entries, "paths_version": 1}
    (tmp_path / "info" / "paths.json").write_text(json.dumps(paths))
    package_files(tmp_path, "p-1-0")
    assert not (tmp_path / "share" / "tool").stat().st_mode & stat.S_ISUID
    entries.append(_entry("share/pipe", b""))
    (tmp_path / "info" / "paths.json").write_text(json.dumps(paths))
    with pytest.raises(UnsafePath, match="FIFO"):
        package_files(tmp_path, "p-1-0")
    count("hostile inputs refused")


# --- a hostile inner tar (.conda) or tar.bz2: names and links that leave the extraction ----------------


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "members",
    [
        [("../../../../escaped", tarfile.REGTYPE, "")],
        [("{root}/escaped", tarfile.REGTYPE, "")],
        [("share/d", tarfile.SYMTYPE, "{root}/victim"), ("share/d/escaped", tarfile.REGTYPE, "")],
        [("share/h", tarfile.LNKTYPE, "../../../../../../secret.txt")],
        [("share/h", tarfile.LNKTYPE, "{root}/secret.txt")],
    ],
    ids=["dotdot", "absolute", "through-symlink", "hardlink-relative", "hardlink-absolute"],
)
def test_a_hostile_payload_tar_writes_nothing_outside(
    tmp_path: Path, fmt: str, members: list[tuple[str, bytes, str]]
) -> None:
    (tmp_path / "victim").mkdir()
    (tmp_path / "secret.txt").write_text("private key\n")
    raw = [
        _member(
            name.format(root=tmp_path),
            kind,
            data=b"evil\n" if kind == tarfile.REGTYPE else b"",
            link=link.format(root=tmp_path),
        )
        for name, kind, link in members
    ]
    world = World(tmp_path, fmt=fmt, files={"share/ok": DATA}, raw_members=raw)
    world.lock()
    result = world.install()
    assert "Traceback" not in result.stderr and "panicked" not in result.stderr, result.stderr
    assert result.returncode in (0, 9), result.stderr
    if result.returncode == 9:
        assert not world.prefix.exists()
        count("hostile inputs refused")
    assert list((tmp_path / "victim").iterdir()) == []
    assert (tmp_path / "secret.txt").read_text() == "private key\n"
    _nothing_outside(tmp_path, world, "escaped")
    installed = _tree(world.prefix)
    assert all(b"private key" not in v for v in installed.values() if isinstance(v, bytes))
    assert all("secret" not in v for v in installed.values() if isinstance(v, str))
    _only_plain_entries(world.prefix)
    count("hostile channel cases")


# --- noarch: python entry points ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "point",
    ["../x", "..", "sub/x", "x\\y", "x\ny", "x\x1b]0;pwned\x07", "c:x", "tab\there"],
    ids=["dotdot-x", "dotdot", "slash", "backslash", "newline", "osc", "drive", "tab"],
)
def test_odd_entry_point_names_are_refused_before_anything_changes(tmp_path: Path, point: str) -> None:
    world = World(
        tmp_path,
        more={"python": {"files": {"bin/python": b"#!/bin/sh\n"}}},  # so the linker would write bin/<point>
        noarch="python",
        entry_points=[f"{point} = evil:main"],
        files={"site-packages/evil/__init__.py": b"def main():\n    pass\n"},
    )
    world.lock()
    result = world.install()
    _refused(result, "evil-1.0-h0_0", "an entry point must be a plain file name", "was not changed")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr  # echoed escaped, never raw
    assert not world.prefix.exists()
    _nothing_outside(tmp_path, world, "x")


@pytest.mark.slow
def test_a_plain_entry_point_still_installs(tmp_path: Path) -> None:
    world = World(
        tmp_path,
        more={"python": {"files": {"bin/python": b"#!/bin/sh\n"}}},
        noarch="python",
        entry_points=["evil-tool = evil:main"],
        files={"site-packages/evil/__init__.py": b"def main():\n    pass\n"},
    )
    world.lock()
    result = world.install()
    assert result.returncode == 0, result.stderr
    assert (world.prefix / "bin" / "evil-tool").is_file()
