"""``lockgen lock`` behind a proxy: lockgen's own repodata size check goes through ``HTTP_PROXY``
(it used to connect directly whatever the environment said) and around it for ``NO_PROXY`` hosts.
rattler's Gateway makes its own requests; only lockgen's (User-Agent ``lockgen``) are asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.hostile import env, record, write_channel
from tests.support.channel import serve_directory
from tests.support.cli import run_lockgen
from tests.support.proxy import serve_proxy

_CLEAR = dict.fromkeys(("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTPS_PROXY", "ALL_PROXY"), "")


@pytest.mark.parametrize("no_proxy", ["", "127.0.0.1"])
def test_lock_size_check_honours_http_proxy_and_no_proxy(tmp_path: Path, no_proxy: str) -> None:
    served = tmp_path / "served"
    write_channel(served, {"app-1.0-h0_0.tar.bz2": record("app")})
    project = tmp_path / "project"
    project.mkdir()
    (project / "environment.yml").write_text(env("app"))
    with serve_directory(served) as server, serve_proxy() as proxy:
        result = run_lockgen(
            "lock", "-p", "linux-64", "--mirror", f"https://conda.anaconda.org={server.url}",
            "--cache-dir", project / "cache", cwd=project, timeout=120,
            env={**_CLEAR, "HTTP_PROXY": proxy.url, "NO_PROXY": no_proxy},
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ours = [(method, target) for method, target, agent in proxy.seen if agent == "lockgen"]
    if no_proxy:
        assert ours == []
    else:  # each subdir: is it sharded (no), then the flat .zst whose size is counted
        base = f"{server.url}/hostchan"
        assert sorted(ours) == sorted(
            [("HEAD", f"{base}/{s}/repodata_shards.msgpack.zst") for s in ("linux-64", "noarch")]
            + [("GET", f"{base}/{s}/repodata.json.zst") for s in ("linux-64", "noarch")]
        )
