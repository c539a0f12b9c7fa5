"""Repodata that cannot be read: `lock`, `verify` and `explain` say it the same way, one line per
failure (no "Caused by" chain), with the --mirror that fixes an unreachable channel."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgen.channels import parse_mirror, resolve_channel
from lockgen.config import build_options
from lockgen.errors import ChannelError
from lockgen.repodata.failures import fetch_failure
from lockgen.review.explain import MissingRepodataError, explain
from lockgen.verify import VerifyOptions, verify_locks
from tests.support.channel import CANONICAL
from tests.support.options import flags

DNS_CHAIN = (
    "error sending request for url (https://conda.anaconda.org/conda-forge/noarch/repodata.json)\n"
    "Caused by: client error (Connect)\nCaused by: dns error\nCaused by: failed to lookup address information"
)
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused at once


def test_an_unreachable_channel_is_one_line_naming_url_channel_and_reason() -> None:
    line = fetch_failure(None, DNS_CHAIN, channel=resolve_channel("conda-forge"))
    assert line == (
        "cannot fetch https://conda.anaconda.org/conda-forge/noarch/repodata.json for channel `conda-forge`:"
        " the host name does not resolve"
    )


def test_a_failing_mirror_names_the_channel_it_serves() -> None:
    mirrored = resolve_channel("conda-forge", [parse_mirror(f"{CANONICAL}={CLOSED}")])
    line = fetch_failure(
        f"{CLOSED}/conda-forge/noarch", "Connection refused (os error 111)", channel=mirrored, retries=0
    )
    assert line == (
        f"cannot fetch {CLOSED}/conda-forge/noarch for channel `conda-forge`: connection refused"
        " (is the server up, and the URL right?); gave up after 0 retries with backoff"
    )


def test_a_server_error_without_a_known_channel() -> None:
    line = fetch_failure("https://x.example/c/noarch", "HTTP status server error (503 Service Unavailable)", retries=1)
    assert line == (
        "cannot fetch https://x.example/c/noarch: the server answered HTTP 503 Service Unavailable;"
        " gave up after 1 retry with backoff"
    )


HINT = "  hint: serve it from a reachable copy with `--mirror https://conda.anaconda.org=<mirror URL or directory>`"


def _lock_dir(tmp_path: Path) -> Path:
    locks = tmp_path / "locks"
    locks.mkdir()
    (locks / "linux-64.txt").write_text(
        "# platform: linux-64\n@EXPLICIT\n"
        f"{CANONICAL}/conda-forge/linux-64/app-1.0-0.conda#{'0' * 32}\n"
        f"{CANONICAL}/conda-forge/noarch/lib-1.0-0.conda#{'1' * 32}\n"
    )
    (tmp_path / "environment.yml").write_text("channels: [conda-forge]\nplatforms: [linux-64]\ndependencies: [app]\n")
    return locks


def test_verify_prints_one_line_per_unreadable_subdir(tmp_path: Path) -> None:
    options = VerifyOptions(
        _lock_dir(tmp_path), tmp_path / "cache", mirrors=(parse_mirror(f"{CANONICAL}={CLOSED}"),), retries=0
    )
    with pytest.raises(ChannelError) as caught:
        verify_locks(options)
    lines = caught.value.message.splitlines()
    assert lines[0] == "cannot verify: repodata could not be read"
    assert [line.split(":")[0] for line in lines[1:3]] == ["  cannot fetch http"] * 2
    assert f"{CLOSED}/conda-forge/linux-64 for channel `{CANONICAL}/conda-forge`: connection refused" in lines[1]
    assert f"{CLOSED}/conda-forge/noarch for channel `{CANONICAL}/conda-forge`: connection refused" in lines[2]
    assert lines[3:] == [HINT]  # the fix once, not once per subdir
    assert "Caused by" not in caught.value.message


def test_verify_offline_points_at_the_mirror(tmp_path: Path) -> None:
    options = VerifyOptions(_lock_dir(tmp_path), tmp_path / "cache", offline=True)
    with pytest.raises(ChannelError) as caught:
        verify_locks(options)
    message = caught.value.message
    assert len(message.splitlines()) == 2
    assert "offline: the cache" in message and "conda-forge/linux-64" in message
    assert "pass the same --mirror and --cache-dir" in message


def test_explain_unreachable_is_worded_like_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKGEN_HTTP_RETRIES", "0")
    locks = _lock_dir(tmp_path)
    options = build_options(
        [tmp_path / "environment.yml"],
        flags(output_dir=locks, cache_dir=tmp_path / "cache", mirrors=(f"{CANONICAL}={CLOSED}",)),
    )
    with pytest.raises(MissingRepodataError) as caught:
        explain(options, "app", "linux-64")
    lines = caught.value.message.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"linux-64: cannot fetch {CLOSED}/conda-forge/")
    assert "for channel `conda-forge` (" in lines[0] and "environment.yml:1): connection refused" in lines[0]
    assert lines[1] == HINT


def test_explain_offline_suggests_the_mirror_lock_used(tmp_path: Path) -> None:
    locks = _lock_dir(tmp_path)
    options = build_options(
        [tmp_path / "environment.yml"], flags(output_dir=locks, cache_dir=tmp_path / "cache", offline=True)
    )
    with pytest.raises(MissingRepodataError) as caught:
        explain(options, "app", "linux-64")
    message = caught.value.message
    assert len(message.splitlines()) == 1, message
    assert "offline: the cache" in message
    assert "pass the same --mirror and --cache-dir" in message


def test_credentials_of_a_mirror_are_never_shown(tmp_path: Path) -> None:
    mirror = parse_mirror(f"{CANONICAL}=http://me:s3cret@127.0.0.1:9")
    options = VerifyOptions(_lock_dir(tmp_path), tmp_path / "cache", mirrors=(mirror,), retries=0)
    with pytest.raises(ChannelError) as caught:
        verify_locks(options)
    assert "127.0.0.1:9/conda-forge/linux-64" in caught.value.message
    assert "s3cret" not in caught.value.message
