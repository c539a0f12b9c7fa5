"""Audit finding 4: ``explain`` and ``verify`` (read-only, run in CI on pull requests) fetched repodata
from whatever host an edited lock line named, and ``explain`` read through a PR's ``[tool.lockgen]
mirrors`` URL. Each test serves a "PR host" on 127.0.0.1 that records every request, and asserts it
received none: read-only commands read Anaconda's public channel hosts, folders inside the project,
or what a ``--mirror`` on their own command line names."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.conftest import CHANNEL
from tests.faults.figures import count
from tests.security.test_review_pr_settings import OFFLINE
from tests.support.channel import Server, serve_directory
from tests.support.cli import run_lockgen

CANONICAL = "https://conda.anaconda.org"


@pytest.fixture
def pr_host(tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "pr-host").mkdir()
    with serve_directory(tmp_path / "pr-host") as server:
        yield server


def _move_first_line(project: Path, to: str) -> str:
    """Edit locks/linux-64.txt as a pull request would: its first package line now names ``to``."""
    path = project / "locks" / "linux-64.txt"
    lines = path.read_text().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.startswith(CANONICAL))
    lines[number] = lines[number].replace(CANONICAL, to, 1)
    path.write_text("".join(lines))
    return f"{path.relative_to(project)}:{number + 1}"


def test_verify_does_not_fetch_from_a_host_a_lock_line_names(
    project: Path, channel_root: Path, pr_host: Server
) -> None:
    where = _move_first_line(project, pr_host.url)
    mirror = f"{CANONICAL}={channel_root}"
    result = run_lockgen("verify", "-p", "linux-64", "--mirror", mirror, cwd=project, env=OFFLINE)
    assert result.returncode == 8, result.stdout + result.stderr
    assert "cannot verify: lock lines name channels verify does not read unless told to" in result.stderr
    assert f"{pr_host.url}/{CHANNEL} ({where})" in result.stderr, result.stderr
    assert pr_host.requests == []
    count("hostile review inputs refused")
    # the user's own --mirror for that host: then it is read (and the lock's hash is not its own)
    asked = run_lockgen(
        "verify", "-p", "linux-64", "--mirror", mirror, "--mirror", f"{pr_host.url}={pr_host.url}", cwd=project
    )
    assert pr_host.requests, asked.stdout + asked.stderr


def test_explain_refuses_a_lock_line_from_a_channel_the_environment_does_not_list(
    project: Path, channel_root: Path, pr_host: Server
) -> None:
    where = _move_first_line(project, pr_host.url)
    mirror = f"{CANONICAL}={channel_root}"
    result = run_lockgen("explain", "app", "-p", "linux-64", "--mirror", mirror, cwd=project, env=OFFLINE)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{where}: " in result.stderr and "the lock is stale or was edited; nothing was fetched" in result.stderr
    assert pr_host.requests == []
    count("hostile review inputs refused")


def test_explain_ignores_a_pyproject_mirror_url(project: Path, channel_root: Path, pr_host: Server) -> None:
    (project / "pyproject.toml").write_text(f'[tool.lockgen]\nmirrors = {{ "{CANONICAL}" = "{pr_host.url}/m" }}\n')
    result = run_lockgen("explain", "app", "-p", "linux-64", cwd=project, env=OFFLINE)
    assert f"note: explain ignores [tool.lockgen] mirrors {CANONICAL}={pr_host.url}/m" in result.stderr
    assert pr_host.requests == [], result.stdout + result.stderr
    count("hostile review inputs refused")
    # the same mirror on the command line is the user's choice
    run_lockgen("explain", "app", "-p", "linux-64", "--mirror", f"{CANONICAL}={pr_host.url}/m", cwd=project)
    assert pr_host.requests


def test_explain_does_not_read_a_channel_the_environment_names_on_another_host(
    project: Path, channel_root: Path, pr_host: Server
) -> None:
    """The pull request moves the channel in environment.yml and the lock lines with it: consistent, but
    the host is its own. Not read unless a --mirror on explain's command line names it."""
    env = project / "environment.yml"
    env.write_text(env.read_text().replace(f"  - {CHANNEL}\n", f"  - {pr_host.url}/{CHANNEL}\n"))
    path = project / "locks" / "linux-64.txt"
    path.write_text(path.read_text().replace(f"{CANONICAL}/{CHANNEL}/", f"{pr_host.url}/{CHANNEL}/"))
    result = run_lockgen(
        "explain", "app", "-p", "linux-64", "--mirror", f"{CANONICAL}={channel_root}", cwd=project, env=OFFLINE
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "explain reads a channel only from conda-static.anaconda.org, conda.anaconda.org" in result.stderr
    assert f"not read: {pr_host.url}/{CHANNEL}" in result.stderr
    assert pr_host.requests == []
    count("hostile review inputs refused")


def test_explain_reads_a_pyproject_mirror_folder_inside_the_project(project: Path, channel_root: Path) -> None:
    """What the PR could commit anyway: a channel folder in the project, named by [tool.lockgen] mirrors."""
    import shutil

    shutil.copytree(channel_root, project / "snapshot")
    (project / "pyproject.toml").write_text(f'[tool.lockgen]\nmirrors = {{ "{CANONICAL}" = "snapshot" }}\n')
    env = {**OFFLINE, "LOCKGEN_CACHE_DIR": str(project / "c")}
    result = run_lockgen("explain", "app", "-p", "linux-64", "--no-why-not-newer", cwd=project, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "app 1.1" in result.stdout and "ignores" not in result.stderr


def test_diff_shows_a_pull_request_that_changes_the_mirrors_install_downloads_through(project: Path) -> None:
    from tests.security.test_review_pr_settings import _git

    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "base")
    clean = run_lockgen("diff", cwd=project)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (project / "pyproject.toml").write_text(
        f'[tool.lockgen]\nmirrors = {{ "{CANONICAL}" = "https://user:s3cret@pr.example/m" }}\n'
    )
    shown = run_lockgen("diff", cwd=project)
    assert shown.returncode == 6, shown.stdout + shown.stderr
    assert f"[tool.lockgen] mirrors changed: added {CANONICAL}=https://***@pr.example/m" in shown.stdout
    assert "s3cret" not in shown.stdout + shown.stderr
    count("hostile review inputs refused")


def test_diff_why_not_newer_does_not_solve_against_a_host_the_environment_names(
    project: Path, channel_root: Path, pr_host: Server
) -> None:
    """A pull request downgrades `app` and moves the channel to its own host: `diff --why-not-newer`
    shows the downgrade but solves nothing against that host."""
    from tests.security.test_review_pr_settings import _git

    lock = project / "locks" / "linux-64.txt"
    reviewed = lock.read_text()
    lock.write_text(reviewed.replace("/app-1.1-", "/app-1.2-"))  # the base had a newer app
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "base")
    lock.write_text(reviewed)
    env = project / "environment.yml"
    env.write_text(env.read_text().replace(f"  - {CHANNEL}\n", f"  - {pr_host.url}/{CHANNEL}\n"))
    result = run_lockgen("diff", "--why-not-newer", cwd=project)
    assert result.returncode == 6, result.stdout + result.stderr
    assert "app" in result.stdout and "why not newer (app on linux-64): not solved: diff --why-not-newer reads" in (
        result.stdout
    ), result.stdout
    assert pr_host.requests == []
    count("hostile review inputs refused")


@pytest.mark.parametrize("host", ["https://127.0.0.1:{port}\\@conda.anaconda.org", "https://conda.anaconda.org:99999"])
def test_verify_refuses_a_lock_line_whose_host_parsers_disagree_on(
    project: Path, channel_root: Path, host: str
) -> None:
    """``https://HOST\\@conda.anaconda.org/...``: Python's URL parser reads conda.anaconda.org (a login
    before it), rattler's (WHATWG) ends the host at the backslash and connects to HOST. A port out of
    range is refused too (it was an internal error)."""
    contacts: list[object] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.1)
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                contacts.append(conn)
                conn.close()

        watcher = threading.Thread(target=accept, daemon=True)
        watcher.start()
        where = _move_first_line(project, host.format(port=listener.getsockname()[1]))
        mirror = f"{CANONICAL}={channel_root}"
        result = run_lockgen("verify", "-p", "linux-64", "--mirror", mirror, cwd=project, env=OFFLINE)
        stop.set()
        watcher.join()
    assert result.returncode == 8, result.stdout + result.stderr
    assert "cannot verify: lock lines name channels verify does not read unless told to" in result.stderr
    assert f"({where}" in result.stderr and "internal error" not in result.stderr, result.stderr
    assert contacts == []
    count("hostile review inputs refused")
