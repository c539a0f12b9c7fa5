"""`lockgen install` reuses its extracted package cache only while every entry is what lockgen wrote.

A warm install links from ``<cache>/pkgs/lockgen-extracted-v1`` without downloading or extracting;
every way the cache can go wrong (a file edited in place, through the cache or through a prefix
hard-linked to it; a file swapped for a symbolic link; a torn or edited manifest; an entry or a
cache others may write) must lead to a fresh extraction from a verified archive, never to the
damaged bytes reaching a prefix. In-process installs from a ``file://`` mirror.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import ClassVar

import pytest

from lockgen.channels import parse_mirror
from lockgen.errors import InstallError
from lockgen.install import InstallOptions, download, install_lock, read_lock, staging
from lockgen.install.download import Archive
from lockgen.install.fingerprint import fingerprint
from lockgen.install.link import refusing_client
from lockgen.install.staging import CACHE_NAME, ExtractedCache, StagingError
from lockgen.progress import Linking
from lockgen.reporting import Event
from tests.faults.figures import count
from tests.support.channel import CANONICAL, ChannelBuilder, QuietHandler, serve_directory

PLATFORM = "linux-64"
BASE = b"base\n"
BASE_SEGMENT = "base-1.0-h0_0"
"""The package directory in its extracted cache entry: rattler's name for it, so rattler links from the entry."""

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.machine() == "x86_64"),
    reason="installs a linux-64 lock, which only a linux-64 machine runs",
)


class Cached:
    """A channel (``base``: a file and a symbolic link; ``app``, a ``.conda``), its lock, a cache."""

    def __init__(self, root: Path) -> None:
        self.root = root
        channel = ChannelBuilder(root / "mirror" / "testchan", subdirs=("noarch", PLATFORM))
        files = {"lib/base.txt": BASE, "lib/other.txt": b"other\n"}
        channel.add("base", "1.0", build="h0_0", subdir=PLATFORM, files=files, symlinks={"lib/alias": "base.txt"})
        channel.add("app", "2.0", build="h1_0", subdir=PLATFORM, files={"bin/app": b"#!/bin/sh\n"}, fmt=".conda")
        channel.write()
        lines = ["# platform: linux-64", "@EXPLICIT"]
        for package in channel.packages:
            data = channel.path_of(package).read_bytes()
            url = f"{CANONICAL}/testchan/{PLATFORM}/{package.file_name}"
            lines.append(f"{url}#{hashlib.md5(data, usedforsecurity=False).hexdigest()}")
        (root / "locks").mkdir()
        (root / "locks" / f"{PLATFORM}.txt").write_text("\n".join(lines) + "\n")
        self.cache = root / "cache"
        self.runs = 0

    @property
    def entries(self) -> Path:
        return self.cache / "pkgs" / CACHE_NAME

    def base_entry(self) -> Path:
        (found,) = [p for p in self.entries.iterdir() if (p / BASE_SEGMENT / "lib" / "base.txt").exists()]
        return found

    def install(self, name: str | None = None, expect: bytes = BASE) -> tuple[Path, int]:
        """A new prefix; (its path, packages reused from the extracted cache)."""
        self.runs += 1
        prefix = self.root / "envs" / (name or f"p{self.runs}")
        options = InstallOptions(
            prefix=prefix,
            platform=PLATFORM,
            lock_dir=self.root / "locks",
            cache_dir=self.cache,
            mirrors=(parse_mirror(f"{CANONICAL}={self.root / 'mirror'}"),),
            pip=False,
        )
        result = install_lock(options)
        assert (prefix / "lib" / "base.txt").read_bytes() == expect
        assert (prefix / "lib" / "alias").readlink() == Path("base.txt")
        assert not list((self.cache / "pkgs").glob(".lockgen-stage-*"))
        return prefix, result.reused


def test_a_warm_install_links_from_the_extracted_cache(tmp_path: Path) -> None:
    world = Cached(tmp_path)
    _, reused = world.install()
    assert reused == 0
    second, reused = world.install()
    assert reused == 2
    entry = world.base_entry()
    assert (second / "lib" / "base.txt").stat().st_ino == (entry / BASE_SEGMENT / "lib" / "base.txt").stat().st_ino
    record = json.loads((second / "conda-meta" / "base-1.0-h0_0.json").read_text())
    assert record["url"] == f"{CANONICAL}/testchan/{PLATFORM}/base-1.0-h0_0.tar.bz2"
    # the record names the entry it was linked from (a directory that stays), not a deleted staging directory
    assert record["extracted_package_dir"] == str(entry / BASE_SEGMENT)
    assert record["link"]["source"] == str(entry / BASE_SEGMENT)
    assert json.loads((entry / "manifest.json").read_text())["key"] == entry.name



def _threads_running(run: Callable[[], object], functions: set[str]) -> set[str]:
    """The names of the threads in which Python called any of ``functions`` during ``run()``."""
    names: set[str] = set()

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        if event == "call" and frame.f_code.co_name in functions:
            names.add(threading.current_thread().name)

    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return names


_PER_PACKAGE_WORK = {"_copy_hashed", "scan_package", "store"}


def test_small_archives_are_copied_extracted_and_stored_in_the_event_loops_thread(tmp_path: Path) -> None:
    """A small file costs less to copy, extract, scan and store than to hand to another thread: Python
    threads doing such work side by side only pass Python's lock back and forth at each system call
    (asyncio's six workers made ~80 k futex calls for 121 small packages, against ~2 k here)."""
    world = Cached(tmp_path)
    assert _threads_running(world.install, _PER_PACKAGE_WORK) == {"MainThread"}
    assert world.install()[1] == 2  # both entries stored, and reused


def test_large_archives_are_extracted_on_rattlers_threads_and_stored_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every archive taking the large archives' way (copied in a worker thread, extracted on rattler's
    threads, stored beside the next extractions) installs, stores and reuses as a small one does."""
    monkeypatch.setattr(staging, "SMALL_ARCHIVE", 0)
    monkeypatch.setattr(download, "SMALL_ARCHIVE", 0)
    world = Cached(tmp_path)
    assert "MainThread" not in _threads_running(world.install, _PER_PACKAGE_WORK)
    assert world.install()[1] == 2


@pytest.mark.parametrize("small", [True, False], ids=["small_archives", "large_archives"])
def test_an_archive_whose_bytes_are_not_the_verified_ones_is_not_stored(tmp_path: Path, small: bool) -> None:
    """The extraction's own hashes must be the verified ones, whichever way the archive is extracted
    (in the calling thread, or on rattler's threads): else nothing is stored in the cache."""
    world = Cached(tmp_path)
    entry = read_lock(world.root / "locks" / f"{PLATFORM}.txt", PLATFORM).entries[0]
    path = tmp_path / "mirror" / "testchan" / PLATFORM / entry.file_name
    claimed = Archive(entry, path, "0" * 32, "0" * 64, path.stat().st_size, reused=False)
    cache = ExtractedCache(world.cache / "pkgs")
    staged = tmp_path / "staging"
    staged.mkdir()
    with pytest.raises(StagingError, match="the archive changed after it was verified"):
        if small:
            cache.unpack_and_store(claimed, staged, BASE_SEGMENT)
        else:
            asyncio.run(cache.unpack(claimed, staged, BASE_SEGMENT, refusing_client()))
    assert not list(world.entries.iterdir())

def _same_size_edit(path: Path) -> None:
    path.write_bytes(b"evil\n")  # in place: same inode, same size, a new mtime


def _edit_keeping_mtime(path: Path) -> None:
    before = path.stat()
    path.unlink()
    path.write_bytes(b"evil\n")  # a new file (a new inode), with the old times put back
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _swap_for_link(path: Path) -> None:
    path.unlink()
    path.symlink_to("/etc/hostname")


def _directory_swapped_for_link(path: Path) -> None:
    """The directory moved aside and a symbolic link put in its place: every file still has its
    inode, size and mtime, but the entry is no longer the tree lockgen wrote."""
    directory = path.parent
    directory.rename(directory.with_name("lib.moved"))
    directory.symlink_to("lib.moved", target_is_directory=True)


def _torn_manifest(path: Path) -> None:
    manifest = path.parents[2] / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:40])


def _manifest_for_another_key(path: Path) -> None:
    manifest = path.parents[2] / "manifest.json"
    data = json.loads(manifest.read_text())
    data["key"] = "md5-" + "0" * 32
    manifest.write_text(json.dumps(data))


def _manifest_under_older_rules(path: Path) -> None:
    manifest = path.parents[2] / "manifest.json"
    data = json.loads(manifest.read_text())
    data["member_rules"] -= 1  # extracted before the member checks changed: check it again
    manifest.write_text(json.dumps(data))


def _forge(path: Path) -> None:
    """Edit a file and the manifest to match: what only this user (or root) can do."""
    _same_size_edit(path)
    manifest = path.parents[2] / "manifest.json"
    data = json.loads(manifest.read_text())
    package = manifest.parent / data["name"]
    fields = [os.lstat(package / m) for m in data["members"]]
    data["stat"] = fingerprint((f.st_mode, f.st_size, f.st_mtime_ns, f.st_ino) for f in fields)
    manifest.write_text(json.dumps(data))
    manifest.chmod(0o644)


def _entry_others_may_write(path: Path) -> None:
    _forge(path)  # the forgery checks out, but the entry is writable by others
    path.parents[2].chmod(0o777)


def _unfinished_entry(path: Path) -> None:
    (path.parents[2] / "manifest.json").unlink()  # as if a writer died between extraction and manifest


@pytest.mark.parametrize(
    "damage",
    [
        _same_size_edit,
        _edit_keeping_mtime,
        _swap_for_link,
        _directory_swapped_for_link,
        _torn_manifest,
        _manifest_for_another_key,
        _manifest_under_older_rules,
        _entry_others_may_write,
        _unfinished_entry,
    ],
)
def test_a_damaged_entry_is_extracted_again(tmp_path: Path, damage: object) -> None:
    world = Cached(tmp_path)
    world.install()
    damaged = world.base_entry() / BASE_SEGMENT / "lib" / "base.txt"
    assert callable(damage)
    damage(damaged)
    _, reused = world.install()  # asserts the prefix has the archive's bytes
    assert reused == 1  # app still reused; base extracted again
    assert (world.base_entry() / BASE_SEGMENT / "lib" / "base.txt").read_bytes() == BASE
    count("cache faults injected")


APP_SEGMENT = "app-2.0-h1_0"


def test_each_package_is_linked_from_its_own_entry(tmp_path: Path) -> None:
    """rattler is given one cache layer per entry and takes a package from the first layer holding a
    directory of its name: each layer now serves its own package only (Round 7), so a directory named
    after another package in an entry (``base``'s, listed first), which no manifest covers, is never linked."""
    world = Cached(tmp_path)
    world.install()
    (app_entry,) = [p for p in world.entries.iterdir() if (p / APP_SEGMENT).is_dir()]
    planted = world.base_entry() / APP_SEGMENT
    shutil.copytree(app_entry / APP_SEGMENT, planted, symlinks=True)
    (planted / "bin" / "app").unlink()
    (planted / "bin" / "app").write_bytes(b"#!/bin/sh\necho planted\n")
    prefix, reused = world.install()
    assert reused == 2  # base's entry still checks: its manifest covers its own package's directory only
    assert (prefix / "bin" / "app").read_bytes() == b"#!/bin/sh\n"
    record = json.loads((prefix / "conda-meta" / f"{APP_SEGMENT}.json").read_text())
    assert record["extracted_package_dir"] == str(app_entry / APP_SEGMENT)
    count("cache faults injected")


def test_the_check_trusts_this_user(tmp_path: Path) -> None:
    """The limit of the check (docs/reliability.md): a forgery by the cache's owner is not detected;
    the same forgery in an entry others may write is (test above)."""
    world = Cached(tmp_path)
    world.install()
    _forge(world.base_entry() / BASE_SEGMENT / "lib" / "base.txt")
    _, reused = world.install(expect=b"evil\n")
    assert reused == 2


def test_an_edit_through_a_hard_linked_prefix_does_not_reach_the_next_prefix(tmp_path: Path) -> None:
    world = Cached(tmp_path)
    world.install()
    first, _ = world.install()
    with (first / "lib" / "base.txt").open("r+b") as handle:  # in place, through the prefix
        handle.write(b"BASE\n")
    _, reused = world.install()
    assert reused == 1
    count("cache faults injected")


def test_a_cache_others_may_write_is_not_used(tmp_path: Path) -> None:
    world = Cached(tmp_path)
    world.install()
    world.entries.chmod(0o777)
    _same_size_edit(world.base_entry() / BASE_SEGMENT / "lib" / "base.txt")
    prefix, reused = world.install()
    assert reused == 0
    # linked through the install's staging directory, since removed: the record is corrected afterwards
    record = json.loads((prefix / "conda-meta" / "base-1.0-h0_0.json").read_text())
    assert record["url"] == f"{CANONICAL}/testchan/{PLATFORM}/base-1.0-h0_0.tar.bz2"
    assert "extracted_package_dir" not in record and "link" not in record
    count("cache faults injected")


def test_an_install_from_local_files_builds_no_http_client(tmp_path: Path) -> None:
    Cached(tmp_path)
    code = (
        "import sys; from pathlib import Path; from lockgen.channels import parse_mirror;"
        "from lockgen.install import InstallOptions, install_lock;"
        f"root = Path({str(tmp_path)!r});"
        f"install_lock(InstallOptions(prefix=root / 'p', platform={PLATFORM!r}, lock_dir=root / 'locks',"
        f" cache_dir=root / 'cache', mirrors=(parse_mirror({CANONICAL!r} + '=' + str(root / 'mirror')),), pip=False));"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_an_install_from_local_files_builds_one_rattler_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Repodata read from local folders needs no client of its own: the one that refuses every request
    serves the lookup too (Round 7: each client reads the system's certificates, ~4 ms), and the
    records still come from the channel's repodata (no note that it was unavailable)."""
    import rattler

    made: list[object] = []
    original = rattler.Client.__init__

    def counted(self: rattler.Client, *args: object, **kwargs: object) -> None:
        made.append(args)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rattler.Client, "__init__", counted)
    world = Cached(tmp_path)
    mirror = parse_mirror(f"{CANONICAL}={world.root / 'mirror'}")
    for prefix in ("cold", "warm"):
        made.clear()
        options = InstallOptions(tmp_path / prefix, PLATFORM, world.root / "locks", world.cache, (mirror,), pip=False)
        result = install_lock(options)
        assert result.notes == ()
        assert len(result.installed) == 2
        assert len(made) == 1, prefix


def test_a_channel_the_lookup_cannot_read_is_noted_not_fatal(tmp_path: Path) -> None:
    """Choosing the lookup's client (local folders or not) reads each channel's name first: one that is
    no valid channel (the lock edited, its packages still in the cache by hash) is left to the lookup,
    which notes it and reads the records from the packages, as before."""
    world = Cached(tmp_path)
    world.install()
    lock = world.root / "locks" / f"{PLATFORM}.txt"
    lock.write_text(lock.read_text().replace("/testchan/", "/test chan/"))
    mirror = parse_mirror(f"{CANONICAL}={world.root / 'mirror'}")
    options = InstallOptions(tmp_path / "p", PLATFORM, world.root / "locks", world.cache, (mirror,), pip=False)
    result = install_lock(options)
    assert result.reused == 2
    unread = f"repodata unavailable for {CANONICAL}/test chan/{PLATFORM}"
    assert [note.split(";")[0] for note in result.notes] == [unread]


def test_an_update_reads_the_prefix_records_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The prefix's conda-meta records are parsed once per install, for the plan, the paths it removes
    and the installer (Round 7: three times before; ~50 ms each for the realistic bench environment)."""
    from lockgen.install import core, link, prefix

    world = Cached(tmp_path)
    first, _ = world.install()
    lock = world.root / "locks" / f"{PLATFORM}.txt"
    lock.write_text("".join(line for line in lock.read_text().splitlines(keepends=True) if "/app-" not in line))
    reads: list[Path] = []

    def counted(where: Path) -> dict[str, prefix.InstalledPackage]:
        reads.append(where)
        return prefix.read_conda_meta(where)

    monkeypatch.setattr(core, "read_conda_meta", counted)
    monkeypatch.setattr(link, "read_conda_meta", counted, raising=False)
    mirror = parse_mirror(f"{CANONICAL}={world.root / 'mirror'}")
    result = install_lock(InstallOptions(first, PLATFORM, world.root / "locks", world.cache, (mirror,), pip=False))
    assert result.removed == ("app-2.0-h1_0",) and result.unchanged == 1
    assert not (first / "bin" / "app").exists()
    assert (first / "lib" / "base.txt").read_bytes() == BASE
    assert reads == [first.resolve()]


def test_what_a_killed_install_was_discarding_is_removed(tmp_path: Path) -> None:
    world = Cached(tmp_path)
    world.install()
    code = "import os; print(os.getpid())"
    pid = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    aside = world.entries / f".discard-{int(pid.stdout)}-md5-{'0' * 32}"  # that process is gone
    (aside / BASE_SEGMENT).mkdir(parents=True)
    _, reused = world.install()
    assert reused == 2
    assert not aside.exists()


class _RemoveOnLink:
    """A reporter that deletes a cache entry just before rattler links: the entry was checked, then vanished."""

    def __init__(self, entry: Path) -> None:
        self.entry = entry

    def report(self, event: Event) -> None:
        if isinstance(event, Linking) and event.packages == 2:
            shutil.rmtree(self.entry)


def test_an_entry_gone_between_the_check_and_the_link_is_never_fetched(tmp_path: Path) -> None:
    """rattler is given each package's canonical URL (its conda-meta record is then right the first
    time): were a checked entry to vanish before the link, rattler must not download that URL past
    lockgen's checks; the install fails instead, and nothing reaches the server."""
    world = Cached(tmp_path)
    with serve_directory(tmp_path / "mirror") as server:
        lock = world.root / "locks" / f"{PLATFORM}.txt"
        lock.write_text(lock.read_text().replace(CANONICAL, server.url))  # the channel's own URL, no mirror
        first, locks = tmp_path / "first", world.root / "locks"
        options = InstallOptions(prefix=first, platform=PLATFORM, lock_dir=locks, cache_dir=world.cache, pip=False)
        install_lock(options)
        record = json.loads((tmp_path / "first" / "conda-meta" / "base-1.0-h0_0.json").read_text())
        assert record["url"] == f"{server.url}/testchan/{PLATFORM}/base-1.0-h0_0.tar.bz2"
        server.requests.clear()
        again = dataclasses.replace(options, prefix=tmp_path / "second")
        with pytest.raises(InstallError, match=r"linking into .* failed"):
            install_lock(again, _RemoveOnLink(world.base_entry()))
        assert not any(r.endswith(".tar.bz2") or r.endswith(".conda") for r in server.requests), server.requests
    count("cache faults injected")


def _held_until(world: Cached, held: str, wait_s: float = 20) -> type[QuietHandler]:
    """A handler that sends ``held`` only once ``base`` is in the extracted cache (or ``wait_s`` passed),
    noting in ``seen`` whether it was."""

    class Held(QuietHandler):
        seen: ClassVar[list[bool]] = []

        def do_GET(self) -> None:
            if self.path.endswith(held):
                deadline = time.monotonic() + wait_s
                while not list(world.entries.glob(f"*/{BASE_SEGMENT}")) and time.monotonic() < deadline:
                    time.sleep(0.02)
                Held.seen.append(bool(list(world.entries.glob(f"*/{BASE_SEGMENT}"))))
            super().do_GET()

    return Held


def _served(world: Cached, url: str, prefix: Path) -> InstallOptions:
    """Options installing ``world``'s lock into ``prefix`` from the server at ``url`` (no mirror)."""
    lock = world.root / "locks" / f"{PLATFORM}.txt"
    lock.write_text(lock.read_text().replace(CANONICAL, url))
    return InstallOptions(prefix=prefix, platform=PLATFORM, lock_dir=lock.parent, cache_dir=world.cache, pip=False)


def test_an_archive_is_extracted_while_another_still_downloads(tmp_path: Path) -> None:
    """Extraction starts as soon as an archive is verified, not once every download is done: the
    server holds ``app`` back until ``base`` is in the extracted cache (so a cold install overlaps
    its downloads with rattler's extractions)."""
    world = Cached(tmp_path)
    handler = _held_until(world, "app-2.0-h1_0.conda")
    with serve_directory(tmp_path / "mirror", handler) as server:
        options = _served(world, server.url, tmp_path / "p")
        result = install_lock(options)
    assert handler.seen == [True]  # type: ignore[attr-defined]
    assert (tmp_path / "p" / "lib" / "base.txt").read_bytes() == BASE
    assert result.downloaded == 2
    assert not list((world.cache / "pkgs").glob(".lockgen-stage-*"))


def test_a_failed_download_stops_the_install_after_the_extractions_started(tmp_path: Path) -> None:
    """One archive fails its hash while another was already extracted: the install refuses with the
    download's failure, the prefix untouched, no staging left behind; the verified package stays in
    the extracted cache (it came from a verified archive) and the next install reuses it."""
    world = Cached(tmp_path)
    app = tmp_path / "mirror" / "testchan" / PLATFORM / "app-2.0-h1_0.conda"
    good = app.read_bytes()
    app.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # served after base is extracted
    handler = _held_until(world, "app-2.0-h1_0.conda")
    with serve_directory(tmp_path / "mirror", handler) as server:
        options = _served(world, server.url, tmp_path / "p")
        with pytest.raises(InstallError, match=r"(?s)1 of 2 packages could not be fetched or verified.*hash mismatch"):
            install_lock(options)
        assert not (tmp_path / "p" / "conda-meta").exists()
        assert not list((world.cache / "pkgs").glob(".lockgen-stage-*"))
        assert handler.seen == [True]  # type: ignore[attr-defined]
        app.write_bytes(good)
        result = install_lock(options)
    assert (result.reused, result.downloaded) == (1, 1)
    count("cache faults injected")
