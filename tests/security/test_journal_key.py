"""Where the journal key lives when ``XDG_STATE_HOME`` is set (issue 18, item 12).

The journal a killed ``lock`` leaves is applied only when its seal verifies with this machine's
key. If ``XDG_STATE_HOME`` pointed into the project (an ``.envrc`` or a Makefile in a pull request
can set it; a relative value resolves inside the folder lockgen runs in), the pull request could
commit the key itself along with a journal sealed by it, and the next ``lock`` would apply it.
Decision: a relative ``XDG_STATE_HOME``, or one inside the project (the output directory's
parent or its git work tree), is ignored for the key (``~/.local/state`` is used); a key that is
not a private (0600) regular file of this user is never used.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from lockgen.config import read_state_dirs
from lockgen.lockfiles.commit import JournalError, _seal, key_path
from lockgen.lockfiles.lockdir import TXN_DIR
from tests.faults.figures import count
from tests.security.conftest import options


def _plant(project: Path, key: bytes) -> bytes:
    """What a pull request commits: locks/.lockgen-txn/ with a hostile linux-64.txt and a manifest
    sealed with ``key`` (as lockgen seals, see lockgen.lockfiles.commit)."""
    out_dir = project / "locks"
    hostile = (out_dir / "linux-64.txt").read_bytes().replace(b"/app-", b"/evil-app-")
    txn = out_dir / TXN_DIR
    txn.mkdir()
    (txn / "linux-64.txt").write_bytes(hostile)
    digests = {"linux-64.txt": hashlib.sha256(hostile).hexdigest()}
    seal = _seal(key, out_dir, ["linux-64.txt"], [], digests)
    plan = {"put": ["linux-64.txt"], "delete": [], "sha256": digests, "seal": seal}
    (txn / "MANIFEST").write_text(json.dumps(plan, sort_keys=True))
    return hostile


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home, so the default key location is neither the real one nor in the project."""
    folder = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)  # the suite's own private state folder
    return folder


@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_a_key_committed_inside_the_project_never_seals_a_journal(
    project: Path, channel_root: Path, home: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    from lockgen.lock import lock

    monkeypatch.chdir(project)
    monkeypatch.setenv("XDG_STATE_HOME", str(project / ".state") if where == "absolute" else ".state")
    before = (project / "locks" / "linux-64.txt").read_bytes()
    planted_key = project / ".state" / "lockgen" / "journal.key"
    planted_key.parent.mkdir(parents=True)
    planted_key.write_bytes(os.urandom(32))
    planted_key.chmod(0o600)  # as a checkout with umask 077 would leave it
    hostile = _plant(project, planted_key.read_bytes())
    with pytest.raises(JournalError) as caught:
        lock(options(project, channel_root))
    assert caught.value.exit_code == 10
    assert (project / "locks" / "linux-64.txt").read_bytes() == before != hostile
    assert key_path(project / "locks", read_state_dirs()) == home / ".local" / "state" / "lockgen" / "journal.key"
    count("hostile review inputs refused")


def test_an_xdg_state_home_outside_the_project_is_still_used(
    project: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    assert key_path(project / "locks", read_state_dirs()) == home / "state" / "lockgen" / "journal.key"


def test_a_key_readable_by_others_is_not_used(project: Path, home: Path, channel_root: Path) -> None:
    from lockgen.lock import lock

    key = home / ".local" / "state" / "lockgen" / "journal.key"
    key.parent.mkdir(parents=True)
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    before = (project / "locks" / "linux-64.txt").read_bytes()
    _plant(project, key.read_bytes())  # sealed with this (private) key
    key.chmod(0o644)  # as git checks a committed file out, or another user could read it
    with pytest.raises(JournalError):
        lock(options(project, channel_root))
    assert (project / "locks" / "linux-64.txt").read_bytes() == before
    count("hostile review inputs refused")
