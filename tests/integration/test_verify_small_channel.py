"""`lockgen verify` on locks of a channel the tests build: a good lock, then hand-edited ones.

Also the compatibility promises: rattler's own explicit-file parser reads the locks, and each URL's
hash fragment is the record's md5 (or sha256 with ``--hash sha256``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.channel import CANONICAL, ChannelBuilder, serve_directory
from tests.support.cli import mirror_options, run_lockgen

BASE = f"{CANONICAL}/testchan"
ENV = """\
name: small
channels:
  - testchan
dependencies:
  - app
  - cyc-a
"""


@pytest.fixture
def channel(tmp_path: Path) -> ChannelBuilder:
    (tmp_path / "environment.yml").write_text(ENV)
    builder = ChannelBuilder(tmp_path / "mirror" / "testchan", subdirs=("noarch", "linux-64", "osx-64"))
    for subdir in ("linux-64", "osx-64"):
        builder.add("libcore", "2.0", build="h1_0", subdir=subdir, files={"lib/core.txt": b"2"})
        builder.add("libcore", "1.0", build="h1_0", subdir=subdir, files={"lib/core.txt": b"1"})
        builder.add(
            "app",
            "1.1",
            build="h2_0",
            subdir=subdir,
            depends=["libcore >=2", "pydata", "__glibc >=2.17"] if subdir == "linux-64" else ["libcore >=2", "pydata"],
            constrains=["libextra <3"],
            fmt=".conda",
        )
    builder.add("pydata", "3.0", build="pyhd8ed1ab_0", files={"share/pydata.txt": b"data"})
    # a dependency cycle, as real repodata has: either order is acceptable
    builder.add("cyc-a", "1.0", depends=["cyc-b"])
    builder.add("cyc-b", "1.0", depends=["cyc-a"])
    builder.write()
    return builder


def _lock(tmp_path: Path, *extra: str) -> Path:
    mirror = mirror_options(tmp_path / "mirror", tmp_path / "cache")
    result = run_lockgen("lock", "-p", "linux-64", "-p", "osx-64", *mirror, *extra, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "locks" / "linux-64.txt"


def _verify(tmp_path: Path, *extra: str, mirror: str | None = None) -> tuple[int, str, str]:
    options = mirror_options(mirror or tmp_path / "mirror", tmp_path / "cache")
    result = run_lockgen("verify", *options, *extra, cwd=tmp_path)
    return result.returncode, result.stdout, result.stderr


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_good_locks_verify(tmp_path: Path, channel: ChannelBuilder) -> None:
    _lock(tmp_path)
    (tmp_path / "locks" / "requirements.txt").write_text("numpy==2.1.0 --hash=sha256:aa\n")  # not a conda lock
    code, out, err = _verify(tmp_path)
    assert code == 0, out + err
    assert "locks/linux-64.txt: ok (5 packages, platform linux-64)" in out
    assert "locks/osx-64.txt: ok (5 packages, platform osx-64)" in out
    assert "requirements" not in out


def test_sha256_locks_verify_over_http(tmp_path: Path, channel: ChannelBuilder) -> None:
    lock = _lock(tmp_path, "--hash", "sha256")
    assert "#sha256:" in lock.read_text()
    with serve_directory(tmp_path / "mirror") as server:
        code, out, err = _verify(tmp_path, "-p", "linux-64", mirror=server.url)
        assert any(r.endswith("repodata.json") for r in server.requests)
    assert code == 0, out + err
    assert "osx-64" not in out


def test_changed_hash(tmp_path: Path, channel: ChannelBuilder) -> None:
    lock = _lock(tmp_path)
    pydata = channel.record(next(p for p in channel.packages if p.name == "pydata"))
    _edit(lock, f"#{pydata['md5']}", "#" + "0" * 32)
    code, out, _ = _verify(tmp_path)
    assert code == 8
    line = _line_of(lock, "pydata-3.0")
    assert f"locks/linux-64.txt:{line}: pydata: md5 mismatch: the lock says {'0' * 32}, " in out
    assert f"the channel's repodata says {pydata['md5']}" in out
    assert "locks/osx-64.txt: ok" in out


def test_missing_dependency(tmp_path: Path, channel: ChannelBuilder) -> None:
    lock = _lock(tmp_path)
    lines = [line for line in lock.read_text().splitlines() if "/pydata-" not in line]
    lock.write_text("\n".join(lines) + "\n")
    code, out, _ = _verify(tmp_path, "-p", "linux-64")
    assert code == 8
    line = _line_of(lock, "app-1.1")
    assert f"locks/linux-64.txt:{line}: app: depends on `pydata`, which no line of this lock provides" in out
    assert "__glibc" not in out  # virtual packages are not lines of a lock


def test_reordered_line(tmp_path: Path, channel: ChannelBuilder) -> None:
    lock = _lock(tmp_path)
    lines = lock.read_text().splitlines()
    app = next(i for i, line in enumerate(lines) if "/app-1.1" in line)
    moved = lines.pop(app)
    first = lines.index("@EXPLICIT") + 1
    lines.insert(first, moved)  # first package line: before libcore and pydata
    lock.write_text("\n".join(lines) + "\n")
    code, out, _ = _verify(tmp_path, "-p", "linux-64")
    assert code == 8
    libcore = _line_of(lock, "libcore-2.0")
    assert (
        f"locks/linux-64.txt:{first + 1}: app: out of dependency order: needs libcore (line {libcore}),"
        " which must come first" in out
    )
    assert "needs pydata" in out
    assert "cyc-" not in out  # the cycle's order is free


def test_duplicate_wrong_version_and_unknown_file(tmp_path: Path, channel: ChannelBuilder) -> None:
    lock = _lock(tmp_path)
    old = channel.record(
        next(p for p in channel.packages if p.name == "libcore" and p.version == "1.0" and p.subdir == "linux-64")
    )
    text = lock.read_text()
    good_line = next(line for line in text.splitlines() if "/libcore-2.0" in line)
    text = text.replace(good_line, f"{BASE}/linux-64/libcore-1.0-h1_0.tar.bz2#{old['md5']}")
    text += f"{BASE}/noarch/pydata-3.0-pyhd8ed1ab_0.tar.bz2#{'1' * 32}\n"
    text += f"{BASE}/noarch/ghost-1.0-0.tar.bz2#{'2' * 32}\n"
    lock.write_text(text)
    code, out, _ = _verify(tmp_path, "-p", "linux-64")
    assert code == 8
    assert f"app: depends on `libcore >=2`, but line {_line_of(lock, 'libcore-1.0')} has libcore 1.0 h1_0" in out
    assert f"pydata: duplicate package (also on line {_line_of(lock, 'pydata-3.0')})" in out
    assert f"ghost: ghost-1.0-0.tar.bz2 is not in the repodata of {BASE}/noarch" in out


def test_constrains_violation(tmp_path: Path, channel: ChannelBuilder) -> None:
    lock = _lock(tmp_path)
    extra = channel.add("libextra", "3.5", subdir="linux-64")
    channel.write()
    record = channel.record(extra)
    with lock.open("a") as handle:
        handle.write(f"{BASE}/linux-64/libextra-3.5-0.tar.bz2#{record['md5']}\n")
    code, out, _ = _verify(tmp_path, "-p", "linux-64")
    assert code == 8
    assert f"app: constrains `libextra <3`, but line {_line_of(lock, 'libextra')} has libextra 3.5 0" in out


def test_platform_mismatch(tmp_path: Path, channel: ChannelBuilder) -> None:
    lock = _lock(tmp_path)
    osx_md5 = channel.record(
        next(p for p in channel.packages if p.name == "libcore" and p.version == "2.0" and p.subdir == "osx-64")
    )["md5"]
    text = lock.read_text()
    good_line = next(line for line in text.splitlines() if "/libcore-2.0" in line)
    lock.write_text(text.replace(good_line, f"{BASE}/osx-64/libcore-2.0-h1_0.tar.bz2#{osx_md5}"))
    code, out, _ = _verify(tmp_path, "-p", "linux-64")
    assert code == 8
    assert "libcore: URL is in subdir osx-64, but the lock is for linux-64" in out
    _edit(tmp_path / "locks" / "osx-64.txt", "# platform: osx-64", "# platform: win-64")
    code, out, _ = _verify(tmp_path, "-p", "osx-64")
    assert code == 8
    assert "header says platform win-64, expected osx-64" in out


def test_unreachable_channel_is_exit_5(tmp_path: Path, channel: ChannelBuilder) -> None:
    _lock(tmp_path)
    code, out, err = _verify(tmp_path, mirror="http://127.0.0.1:9")
    assert code == 5, out + err
    assert "cannot verify: repodata could not be read" in err


def test_no_locks(tmp_path: Path) -> None:
    (tmp_path / "locks").mkdir()
    code, _, err = _verify(tmp_path)
    assert code == 2  # nothing to read, as for `diff` (8 is a lock that does not match its channels)
    assert "no @EXPLICIT lock files in locks: run `lockgen lock` first" in err


@pytest.mark.parametrize("hash_kind", ["md5", "sha256"])
def test_rattler_parses_locks_and_fragments_are_record_hashes(
    tmp_path: Path, channel: ChannelBuilder, hash_kind: str
) -> None:
    from rattler.explicit_environment import ExplicitEnvironmentSpec

    lock = _lock(tmp_path, "--hash", hash_kind)
    spec = ExplicitEnvironmentSpec.from_path(lock)
    assert str(spec.platform) == "linux-64"
    assert len(spec.packages) == 5
    for package in spec.packages:
        url, fragment = package.url.split("#")
        subdir, file_name = url.rsplit("/", 2)[-2:]
        built = next(p for p in channel.packages if p.subdir == subdir and p.file_name == file_name)
        record = channel.record(built)
        assert fragment == (record["md5"] if hash_kind == "md5" else f"sha256:{record['sha256']}")


def test_hand_edit_that_keeps_the_lock_valid_is_still_reported(tmp_path: Path, channel: ChannelBuilder) -> None:
    lock = _lock(tmp_path)
    lines = lock.read_text().splitlines()
    libcore = next(i for i, line in enumerate(lines) if "/libcore-2.0" in line)
    pydata = next(i for i, line in enumerate(lines) if "/pydata-3.0" in line)
    lines[libcore], lines[pydata] = lines[pydata], lines[libcore]  # independent packages: order still valid
    lock.write_text("\n".join(lines) + "\n")
    code, out, _ = _verify(tmp_path, "-p", "linux-64")
    assert code == 8
    findings = [line.strip() for line in out.splitlines() if line.startswith("  ")]
    assert len(findings) == 1
    assert findings[0].startswith("locks/linux-64.txt: package lines were edited after lockgen wrote them")


def test_removed_package_is_named_as_such(tmp_path: Path, channel: ChannelBuilder) -> None:
    import json

    lock = _lock(tmp_path)
    repodata_path = tmp_path / "mirror" / "testchan" / "noarch" / "repodata.json"
    repodata = json.loads(repodata_path.read_text())
    del repodata["packages"]["pydata-3.0-pyhd8ed1ab_0.tar.bz2"]
    repodata["removed"] = ["pydata-3.0-pyhd8ed1ab_0.tar.bz2"]
    repodata_path.write_text(json.dumps(repodata))
    code, out, _ = _verify(tmp_path, "-p", "linux-64")
    assert code == 8
    line = _line_of(lock, "pydata-3.0")
    assert f"linux-64.txt:{line}: pydata: pydata-3.0-pyhd8ed1ab_0.tar.bz2 was removed from {BASE}/noarch" in out
