"""Secrets in URLs lockgen never writes or prints (issue 12, items 11 and 12).

A ``/t/<token>`` segment anywhere in a channel's path (conda accepts it there, not only first) and
``user:password@`` in a remote ``-r``/``-c`` URL, in every form a message could carry.
"""

from __future__ import annotations

import http.server
from pathlib import Path

import pytest

from lockgen.secrets import SecretRegistry, redact, strip_credentials
from tests.faults.figures import count
from tests.security.hostile import env, lock_texts, record, write_channel
from tests.support.channel import QuietHandler, serve_directory
from tests.support.cli import invoke_lockgen, run_lockgen

TOKEN = "subtok-4b9e71c2d0aa"
PASSWORD = "pwcanary-77e1f3"


class _TokenInSubPath(QuietHandler):
    """Serves ``/api/t/<TOKEN>/<rest>`` as ``/<rest>``; anything else is 403 (the token is required)."""

    def do_HEAD(self) -> None:
        if self._rewrite():
            http.server.SimpleHTTPRequestHandler.do_HEAD(self)

    def do_GET(self) -> None:
        if self._rewrite():
            http.server.SimpleHTTPRequestHandler.do_GET(self)

    def _rewrite(self) -> bool:
        self.server.requests_seen.append(self.path)  # type: ignore[attr-defined]
        prefix = f"/api/t/{TOKEN}/"
        if not self.path.startswith(prefix):
            self.send_error(403, "token required")
            return False
        self.path = "/" + self.path[len(prefix) :]
        return True


def test_strip_and_mask_token_anywhere_in_path() -> None:
    url = f"https://host.example/api/t/{TOKEN}/chan"
    assert strip_credentials(url) == "https://host.example/api/chan"
    assert TOKEN not in redact(f"cannot fetch {url}/linux-64/repodata.json (x)")
    registry = SecretRegistry()
    registry.add_url(url)
    assert TOKEN in registry.secrets
    assert strip_credentials(f"file:///home/t/{TOKEN}/chan") == f"file:///home/t/{TOKEN}/chan"  # a local dir


@pytest.mark.parametrize("form", ["https://user:{pw}@host/reqs.txt", "https:/user:{pw}@host/reqs.txt"])
def test_mask_password_in_every_url_form(form: str) -> None:
    assert PASSWORD not in redact(f"cannot read {form.format(pw=PASSWORD)}: No such file")


@pytest.mark.slow
def test_token_in_sub_path_never_reaches_locks_or_output(tmp_path: Path) -> None:
    served = tmp_path / "served"
    write_channel(served, {"app-1.0-h0_0.tar.bz2": record("app")})
    project = tmp_path / "project"
    project.mkdir()
    with serve_directory(served, _TokenInSubPath) as server:
        channel = f"{server.url}/api/t/{TOKEN}/hostchan"
        (project / "environment.yml").write_text(env("app").replace("hostchan", channel))
        result = invoke_lockgen("lock", "-v", "-p", "linux-64", "--cache-dir", tmp_path / "cache", cwd=project)
        assert result.returncode == 0, result.stderr
        assert any(f"/t/{TOKEN}/" in p for p in server.requests), "the token was not used to fetch"
        # and a failing fetch: the URL in the error keeps the token masked
        (project / "environment.yml").write_text(env("app").replace("hostchan", channel + "-missing"))
        failed = invoke_lockgen("lock", "-v", "-p", "linux-64", "--cache-dir", tmp_path / "cache2", cwd=project)
    count("secret checks", 2)
    locks = lock_texts(project)
    assert f"{server.url}/api/hostchan/linux-64/app-1.0-h0_0.tar.bz2" in locks
    assert failed.returncode == 5, failed.stderr
    for text in (locks, result.stdout, result.stderr, failed.stdout, failed.stderr):
        assert TOKEN not in text


@pytest.mark.parametrize("option", ["-r", "-c"])
@pytest.mark.slow
def test_password_in_remote_requirements_file_is_masked(tmp_path: Path, option: str) -> None:
    served = tmp_path / "served"
    python = {"python-3.11.9-h0_0.tar.bz2": record("python", "3.11.9")}
    write_channel(served, {**python, "pip-24.2-h0_0.tar.bz2": record("pip", "24.2")})
    (tmp_path / "environment.yml").write_text(
        env("python=3.11", pip=(f"{option} https://user:{PASSWORD}@127.0.0.1:9/reqs.txt", "pipdep"))
    )
    result = run_lockgen(
        "lock", "-v", "-p", "linux-64", "--mirror", f"https://conda.anaconda.org={served}",
        "--cache-dir", tmp_path / "cache", cwd=tmp_path, timeout=120,
    )  # fmt: skip
    count("secret checks")
    assert result.returncode == 3, result.stderr
    assert "remote requirement files are not supported" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert "user" not in result.stderr.split("remote requirement")[0].rsplit(option, 1)[-1]


def test_a_folder_named_t_in_a_path_is_not_a_token(tmp_path: Path) -> None:
    """Audit finding 14: ``/home/t/proj/environment.yml:26`` printed as ``/home/t/***/environment.yml:26``."""
    assert redact("/tmp/h/t/proj/environment.yml:26: bad spec") == "/tmp/h/t/proj/environment.yml:26: bad spec"
    assert redact(f"file:///home/t/{TOKEN}/chan") == f"file:///home/t/{TOKEN}/chan"  # a local channel's folder
    shown = redact(f"see https://host.example/t/{TOKEN}/chan and /srv/t/x")
    assert shown == "see https://host.example/t/***/chan and /srv/t/x"
    assert TOKEN not in redact(f"`https://host.example/t/{TOKEN}`")  # a URL ending at the token, quoted
    # the CLI end to end: a project under a folder named `t` keeps its file:line
    project = tmp_path / "t" / "proj"
    project.mkdir(parents=True)
    (project / "environment.yml").write_text("name: x\nchannels: [conda-forge]\ndependencies:\n  - numpy=>2\n")
    result = run_lockgen("check", "-f", project / "environment.yml", cwd=tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"{project / 'environment.yml'}:4" in result.stderr, result.stderr
