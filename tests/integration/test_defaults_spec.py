"""`defaults::pkg` reads Anaconda's channels (pkgs/main, pkgs/r; pkgs/msys2 for win), as a listed `defaults` does.

It was fetched from https://conda.anaconda.org/defaults, a channel that does not exist.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.channel import ChannelBuilder, serve_directory
from tests.support.cli import invoke_lockgen


def test_defaults_colon_colon_pkg_locks_from_pkgs_main(tmp_path: Path) -> None:
    forge = ChannelBuilder(tmp_path / "forge" / "conda-forge", subdirs=("noarch", "linux-64"))
    forge.add("zlib", "1.3.1", build="h0_0", subdir="linux-64")
    forge.add("libgomp", "14.1.0", build="forge_0", subdir="linux-64")
    forge.write()
    main = ChannelBuilder(tmp_path / "anaconda" / "pkgs" / "main", subdirs=("noarch", "linux-64"))
    main.add("libgomp", "11.2.0", build="h1234_1", subdir="linux-64")
    main.write()
    ChannelBuilder(tmp_path / "anaconda" / "pkgs" / "r", subdirs=("noarch", "linux-64")).write()
    (tmp_path / "environment.yml").write_text(
        "channels:\n  - conda-forge\ndependencies:\n  - zlib\n  - defaults::libgomp\n"
    )
    with serve_directory(tmp_path / "forge") as forge_server, serve_directory(tmp_path / "anaconda") as anaconda:
        result = invoke_lockgen(
            "lock",
            "-p",
            "linux-64",
            "--mirror",
            f"https://conda.anaconda.org={forge_server.url}",
            "--mirror",
            f"https://repo.anaconda.com={anaconda.url}",
            "--cache-dir",
            tmp_path / "cache",
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        lock = (tmp_path / "locks" / "linux-64.txt").read_text()
        assert "https://repo.anaconda.com/pkgs/main/linux-64/libgomp-11.2.0-h1234_1.tar.bz2#" in lock
        assert "conda.anaconda.org/defaults" not in lock + result.stderr
        assert not any("/defaults/" in r for r in forge_server.requests)
