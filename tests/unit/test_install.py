"""Pieces of `lockgen install` that need no installer: prefix plans, downloads, pip commands, hints."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import ClassVar

import pytest

from lockgen.channels import parse_mirror
from lockgen.errors import InstallError
from lockgen.httpclient import HttpSettings
from lockgen.install import activation_hint, read_lock
from lockgen.install.download import Downloader, HostUnreachable
from lockgen.install.pip import pinned_requirements, pip_command, requirements_satisfied
from lockgen.install.prefix import plan_prefix, python_executable, read_conda_meta
from lockgen.lockfiles import ExplicitEntry, parse_explicit
from lockgen.repodata.lookup import fetch_url
from tests.support.channel import QuietHandler, send_dripping, serve_directory

BASE = "https://conda.anaconda.org/conda-forge"


def _entry(file_name: str, md5: str, line: int = 4, subdir: str = "linux-64") -> ExplicitEntry:
    return ExplicitEntry(f"{BASE}/{subdir}/{file_name}", md5, None, line)


def _meta(prefix: Path, entry: ExplicitEntry, noarch: str | None = None, url: str | None = None) -> None:
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True, exist_ok=True)
    stem = entry.file_name.removesuffix(".tar.bz2").removesuffix(".conda")
    record = {"name": entry.name, "fn": entry.file_name, "url": url or entry.url, "md5": entry.md5}
    if noarch:
        record["noarch"] = noarch
    (meta / f"{stem}.json").write_text(json.dumps(record))


# --- prefix plans ---------------------------------------------------------------------------------


def test_plan_up_to_date_changed_and_removed(tmp_path: Path) -> None:
    a, b, c = (
        _entry("a-1-0.tar.bz2", "1" * 32),
        _entry("b-1-0.tar.bz2", "2" * 32),
        _entry("c-1-0.tar.bz2", "3" * 32, line=6),
    )
    _meta(tmp_path, a)
    _meta(tmp_path, b)
    assert plan_prefix([a, b], read_conda_meta(tmp_path)).up_to_date
    _meta(tmp_path, _entry("old-1-0.tar.bz2", "4" * 32))
    b2 = ExplicitEntry(b.url, "5" * 32, None, 5)
    plan = plan_prefix([a, b2, c], read_conda_meta(tmp_path))
    assert [e.name for e in plan.unchanged] == ["a"]
    assert [e.name for e in plan.to_install] == ["b", "c"]
    assert [p.name for p in plan.to_remove] == ["old"]
    assert not plan.up_to_date


def test_record_pointing_at_local_archive_is_not_up_to_date(tmp_path: Path) -> None:
    a = _entry("a-1-0.tar.bz2", "1" * 32)
    _meta(tmp_path, a, url="file:///cache/archives/a-1-0.tar.bz2")
    assert [e.name for e in plan_prefix([a], read_conda_meta(tmp_path)).to_install] == ["a"]


def test_new_python_relinks_noarch_python_packages(tmp_path: Path) -> None:
    py = _entry("python-3.11.0-0.tar.bz2", "1" * 32)
    pure = _entry("pure-1-pyh_0.tar.bz2", "2" * 32, subdir="noarch")
    generic = _entry("data-1-0.tar.bz2", "3" * 32, subdir="noarch")
    _meta(tmp_path, py)
    _meta(tmp_path, pure, noarch="python")
    _meta(tmp_path, generic, noarch="generic")
    new_py = _entry("python-3.12.0-0.tar.bz2", "4" * 32)
    plan = plan_prefix([new_py, pure, generic], read_conda_meta(tmp_path))
    assert sorted(e.name for e in plan.to_install) == ["pure", "python"]
    assert [e.name for e in plan.unchanged] == ["data"]


def test_unreadable_record_counts_as_installed_but_different(tmp_path: Path) -> None:
    (tmp_path / "conda-meta").mkdir()
    (tmp_path / "conda-meta" / "a-1-0.json").write_text("{not json")
    installed = read_conda_meta(tmp_path)
    assert list(installed) == ["a"]
    assert [e.name for e in plan_prefix([_entry("a-1-0.tar.bz2", "1" * 32)], installed).to_install] == ["a"]


def test_python_executable_per_platform(tmp_path: Path) -> None:
    assert python_executable(tmp_path, "linux-64") == tmp_path / "bin" / "python"
    assert python_executable(tmp_path, "win-64") == tmp_path / "python.exe"


def test_activation_hint(tmp_path: Path) -> None:
    assert activation_hint(tmp_path, {"MAMBA_EXE": "/opt/micromamba"}) == f"micromamba activate {tmp_path}"
    assert activation_hint(tmp_path, {"CONDA_EXE": "/opt/conda/bin/conda"}) == f"conda activate {tmp_path}"
    assert activation_hint(tmp_path, {}) == f"conda activate {tmp_path}  (or: micromamba activate {tmp_path})"


# --- reading the lock -----------------------------------------------------------------------------


def test_read_lock_errors(tmp_path: Path) -> None:
    with pytest.raises(InstallError, match="does not exist"):
        read_lock(tmp_path / "linux-64.txt", "linux-64")
    (tmp_path / "linux-64.txt").write_text("# platform: osx-64\n@EXPLICIT\n")
    with pytest.raises(InstallError, match="is a lock for osx-64, not linux-64"):
        read_lock(tmp_path / "linux-64.txt", "linux-64")
    (tmp_path / "linux-64.txt").write_text("@EXPLICIT\nhttps://x/linux-64/a-1-0.tar.bz2\n")
    with pytest.raises(InstallError, match="line 2: missing or malformed hash"):
        read_lock(tmp_path / "linux-64.txt", "linux-64")


# --- mirrors --------------------------------------------------------------------------------------


def test_fetch_url_applies_the_longest_mirror(tmp_path: Path) -> None:
    url = f"{BASE}/linux-64/a-1-0.tar.bz2"
    assert fetch_url(url, ()) == url
    local = parse_mirror(f"https://conda.anaconda.org={tmp_path}")
    assert fetch_url(url, (local,)) == f"{tmp_path.as_uri()}/conda-forge/linux-64/a-1-0.tar.bz2"
    specific = parse_mirror("https://conda.anaconda.org/conda-forge=https://u:p@mirror.example/cf")
    assert fetch_url(url, (local, specific)) == "https://u:p@mirror.example/cf/linux-64/a-1-0.tar.bz2"


# --- downloads ------------------------------------------------------------------------------------


def _channel_file(root: Path, name: str, data: bytes) -> ExplicitEntry:
    path = root / "conda-forge" / "linux-64" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return _entry(name, hashlib.md5(data, usedforsecurity=False).hexdigest())


def _fetch(downloader: Downloader, entries: list[ExplicitEntry], base: str) -> tuple[list[str], list[str]]:
    wanted = [(e, f"{base}/conda-forge/linux-64/{e.file_name}") for e in entries]
    archives, failures = asyncio.run(downloader.fetch_all(wanted))
    return sorted(a.entry.name for a in archives), [str(f) for f in failures]


def test_download_checks_hashes_and_reports_every_failure(tmp_path: Path) -> None:
    good = _channel_file(tmp_path / "chan", "good-1-0.tar.bz2", b"good")
    bad = _channel_file(tmp_path / "chan", "bad-1-0.tar.bz2", b"bad")
    (tmp_path / "chan" / "conda-forge" / "linux-64" / "bad-1-0.tar.bz2").write_bytes(b"tampered")
    gone = _channel_file(tmp_path / "chan", "gone-1-0.tar.bz2", b"gone")
    (tmp_path / "chan" / "conda-forge" / "linux-64" / "gone-1-0.tar.bz2").unlink()
    downloader = Downloader(tmp_path / "archives")
    names, failures = _fetch(downloader, [good, bad, gone], (tmp_path / "chan").as_uri())
    assert names == ["good"]
    assert failures[0].startswith("line 4: bad (file://")
    assert f"hash mismatch: the lock says md5 {bad.md5}, the file has md5 " in failures[0]
    assert "gone" in failures[1] and "cannot read the file" in failures[1]
    assert sorted(p.name for p in (tmp_path / "archives").iterdir()) == ["good-1-0.tar.bz2"]  # no partial files


def test_cached_archive_is_reused_and_a_corrupt_one_fetched_again(tmp_path: Path) -> None:
    entry = _channel_file(tmp_path / "chan", "a-1-0.tar.bz2", b"content")
    archives = tmp_path / "archives"
    archives.mkdir()
    (archives / "a-1-0.tar.bz2").write_bytes(b"corrupt")
    downloader = Downloader(archives)
    base = (tmp_path / "chan").as_uri()
    result, _ = asyncio.run(downloader.fetch_all([(entry, f"{base}/conda-forge/linux-64/a-1-0.tar.bz2")]))
    assert [a.reused for a in result] == [False]
    assert (archives / "a-1-0.tar.bz2").read_bytes() == b"content"
    (tmp_path / "chan" / "conda-forge" / "linux-64" / "a-1-0.tar.bz2").unlink()  # the cache is enough now
    result, failures = asyncio.run(downloader.fetch_all([(entry, f"{base}/conda-forge/linux-64/a-1-0.tar.bz2")]))
    assert [a.reused for a in result] == [True] and failures == []


def test_http_download_missing_file_and_masked_credentials(tmp_path: Path) -> None:
    entry = _channel_file(tmp_path / "chan", "a-1-0.tar.bz2", b"content")
    missing = _entry("missing-1-0.tar.bz2", "0" * 32, line=9)
    with serve_directory(tmp_path / "chan") as server:
        base = server.url.replace("http://", "http://user:hunter2secret@")
        names, failures = _fetch(Downloader(tmp_path / "archives", retries=0), [entry, missing], base)
    assert names == ["a"]
    assert failures == [
        f"line 9: missing ({server.url.replace('http://', 'http://***@')}/conda-forge/linux-64/missing-1-0.tar.bz2):"
        " HTTP 404: the file is missing or not accessible"
    ]


class _CutOnce(QuietHandler):
    """Sends the first request for each file only half its body (then closes), the next ones whole."""

    seen: ClassVar[set[str]] = set()

    def do_GET(self) -> None:
        if self.path in _CutOnce.seen:
            super().do_GET()
            return
        _CutOnce.seen.add(self.path)
        self.server.requests_seen.append(self.path)  # type: ignore[attr-defined]
        data = Path(self.translate_path(self.path)).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.close_connection = True


def test_a_download_cut_short_is_verified_on_the_retry_alone(tmp_path: Path) -> None:
    """Each attempt is hashed afresh as it streams: the half sent first counts for nothing."""
    data = bytes(range(256)) * 4096
    entry = _channel_file(tmp_path / "chan", "a-1-0.tar.bz2", data)
    with serve_directory(tmp_path / "chan", _CutOnce) as server:
        wanted = [(entry, f"{server.url}/conda-forge/linux-64/a-1-0.tar.bz2")]
        archives, failures = asyncio.run(Downloader(tmp_path / "archives", retries=1).fetch_all(wanted))
    assert failures == []
    (archive,) = archives
    assert (archive.md5, archive.sha256, archive.size) == (
        entry.md5, hashlib.sha256(data).hexdigest(), len(data),
    )  # fmt: skip
    assert archive.path.read_bytes() == data
    assert len(server.requests) == 2


def test_a_refused_connection_stops_every_download_at_once(tmp_path: Path) -> None:
    """Connection refused (or a DNS failure) is not retried per package: one error for the host."""
    entries = [_entry("a-1-0.tar.bz2", "0" * 32), _entry("b-1-0.tar.bz2", "1" * 32, line=5)]
    with pytest.raises(HostUnreachable, match=r"127\.0\.0\.1:9 is unreachable \(Connection refused\)"):
        _fetch(Downloader(tmp_path / "archives", retries=3, http=HttpSettings(5)), entries, "http://user:pw@127.0.0.1:9")
    assert not list((tmp_path / "archives").iterdir())  # no partial file left


# --- pip ------------------------------------------------------------------------------------------


REQUIREMENTS = """\
# generated
--index-url https://pypi.org/simple
requests==2.32.3 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
Charset_Normalizer==3.3.2 --hash=sha256:cccc  # via requests
"""


def test_pinned_requirements() -> None:
    assert pinned_requirements(REQUIREMENTS) == {"requests": "2.32.3", "charset-normalizer": "3.3.2"}
    assert pinned_requirements("requests>=2 --hash=sha256:aa\n") is None
    assert pinned_requirements("tiny @ https://example.org/tiny-1.0-py3-none-any.whl --hash=sha256:aa\n") is None


def test_requirements_satisfied_by_dist_info(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(REQUIREMENTS)
    site = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    for dist in ("requests-2.32.3.dist-info", "charset_normalizer-3.3.1.dist-info"):
        (site / dist).mkdir(parents=True)
        (site / dist / "METADATA").write_text("Metadata-Version: 2.1\n")
    assert not requirements_satisfied(tmp_path / "env", requirements)
    (site / "charset_normalizer-3.3.1.dist-info").rename(site / "charset_normalizer-3.3.2.dist-info")
    assert requirements_satisfied(tmp_path / "env", requirements)


def test_pip_commands(tmp_path: Path) -> None:
    python, requirements = tmp_path / "bin" / "python", tmp_path / "requirements.txt"
    uv = pip_command(python, requirements, "uv")
    assert uv.tool == "uv"
    assert uv.argv[1:] == (
        "pip", "install", "--python", str(python), "--no-deps", "--require-hashes", "-r", str(requirements),
    )  # fmt: skip
    pip = pip_command(python, requirements, "pip")
    assert pip.argv == (
        str(python), "-m", "pip", "install", "--no-input", "--no-deps", "--require-hashes", "-r", str(requirements),
    )  # fmt: skip


def test_lock_entries_round_trip_through_parse(tmp_path: Path) -> None:
    text = f"# platform: linux-64\n@EXPLICIT\n{BASE}/linux-64/a-1-0.tar.bz2#{'1' * 32}\n"
    entry = parse_explicit(text).entries[0]
    assert (entry.name, entry.subdir, entry.line) == ("a", "linux-64", 3)


def test_md5_match_with_another_sha256_is_refused(tmp_path: Path) -> None:
    """An md5 collision: the file matches the lock's md5 but not the channel's sha256."""
    from rattler import BuildString, PackageRecord, RepoDataRecord

    from lockgen.install.download import Archive
    from lockgen.install.records import record_for

    entry = _entry("a-1-0.tar.bz2", "1" * 32)
    package = PackageRecord(
        "a", "1", BuildString("0"), 0, "linux-64", md5=bytes.fromhex("1" * 32), sha256=bytes.fromhex("2" * 64)
    )
    record = RepoDataRecord(package, entry.file_name, entry.url, f"{BASE}/")
    archive = Archive(entry, tmp_path / "a-1-0.tar.bz2", "1" * 32, "3" * 64, 10, reused=False)
    with pytest.raises(InstallError, match=r"md5 matches the lock but its sha256 3+ is not the channel.s 2+"):
        asyncio.run(record_for(archive, record))


def test_markers_leave_out_other_platforms_pins(tmp_path: Path) -> None:
    from lockgen.install.pip import marker_environment

    text = (
        "numpy==2.1.0 --hash=sha256:aa\n"
        "pywin32==306 ; sys_platform == 'win32' --hash=sha256:bb\n"
        "tomli==2.0.1 ; python_version < '3.11' --hash=sha256:cc\n"
    )
    linux311 = marker_environment("linux-64", "3.11.9")
    assert linux311 is not None
    assert linux311["platform_machine"] == "x86_64" and linux311["python_version"] == "3.11"
    assert pinned_requirements(text, linux311) == {"numpy": "2.1.0"}
    assert pinned_requirements(text, marker_environment("win-64", "3.10.4")) == {
        "numpy": "2.1.0",
        "pywin32": "306",
        "tomli": "2.0.1",
    }
    assert marker_environment("osx-arm64", None) is None  # no python: markers cannot be evaluated
    assert marker_environment("linux-ppc64le", "3.11.0") is None  # a platform the pip lock does not target


class _Dripping(QuietHandler):
    """Promises a 1 KB file and sends one byte every 0.2 s."""

    def do_GET(self) -> None:
        send_dripping(self, b"x" * 1024)


def test_a_dripping_download_ends_at_the_deadline(tmp_path: Path) -> None:
    entry = _entry("a-1-0.tar.bz2", "0" * 32)
    downloader = Downloader(tmp_path / "archives", retries=3, http=HttpSettings(5), deadline_s=0.3)
    with serve_directory(tmp_path, _Dripping) as server:
        _, failures = _fetch(downloader, [entry], server.url)
    assert len(failures) == 1
    assert "not complete after 0.3 s" in failures[0] and "LOCKGEN_DOWNLOAD_DEADLINE" in failures[0]
    assert f"{server.url}/conda-forge/linux-64/a-1-0.tar.bz2" in failures[0]
    assert not list((tmp_path / "archives").iterdir())


@pytest.mark.parametrize("last", ["link", "channel", "depends", "extracted_package_dir"])
def test_conda_meta_edit_matches_a_full_re_encoding(last: str) -> None:
    """conda-meta records are edited in their changed lines only, byte for byte what json.dumps writes."""
    from lockgen.install.records import record_edits

    record: dict[str, object] = {
        "name": "a",
        "files": ["lib/é.txt", 'odd "name"'],
        "url": "file:///cache/a.conda",
        "channel": "file:///cache/",
        "extracted_package_dir": "/cache/pkgs/.lockgen-stage-1-x/a-1-0",
        "link": {"source": "/cache/pkgs/.lockgen-stage-1-x/a-1-0", "type": 1},
        "depends": ["b >=1"],
    }
    record[last] = record.pop(last)  # the removed or edited key last: no dangling comma
    text = json.dumps(record, indent=2, ensure_ascii=False)
    wanted = {**record, "url": "https://conda.anaconda.org/c/linux-64/a.conda", "channel": "https://x/ü/"}
    del wanted["extracted_package_dir"], wanted["link"]
    edited = b"".join(record_edits(text.encode(), str(wanted["url"]), str(wanted["channel"])) or [])
    assert edited.decode() == json.dumps(wanted, indent=2, ensure_ascii=False) + "\n"
    assert record_edits(json.dumps(record).encode(), "u", "c") is None  # not the layout it expects
    assert record_edits(text.encode().replace(b'\n  }', b"\n    }"), "u", "c") is None  # an unclosed object
