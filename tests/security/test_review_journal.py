"""Item 6: a journal committed with a pull request is never applied; read-only commands apply none.

A ``locks/.lockgen-txn/`` journal in the tree could rewrite ``linux-64.txt`` when any command
"recovered" it. Now only ``lock`` recovers, only a journal sealed by this machine's key for this
directory; ``check`` reports any journal as an error (exit 6).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lockgen.lockfiles.commit import JournalError, journal_manifest, recover
from lockgen.lockfiles.lockdir import TXN_DIR
from lockgen.review.check import check
from lockgen.review.sources import read_directory
from tests.faults.figures import count
from tests.security.conftest import options
from tests.support.cli import invoke_lockgen

HOSTILE = "https://attacker.example/testchan/linux-64/app-1.1-h2_0.conda#" + "f" * 32


def _hostile_lock(project: Path) -> bytes:
    lines = (project / "locks" / "linux-64.txt").read_text().splitlines()
    return ("\n".join(line if "/app-" not in line else HOSTILE for line in lines) + "\n").encode()


def _commit_journal(project: Path, manifest: bytes) -> Path:
    txn = project / "locks" / TXN_DIR
    txn.mkdir()
    (txn / "linux-64.txt").write_bytes(_hostile_lock(project))
    (txn / "MANIFEST").write_bytes(manifest)
    return txn


FORGED = {
    "unsealed": json.dumps({"put": ["linux-64.txt"], "delete": []}).encode(),
    "bad seal": json.dumps({"put": ["linux-64.txt"], "delete": [], "sha256": {}, "seal": "0" * 64}).encode(),
}


@pytest.mark.slow  # the real CLI, in a subprocess
@pytest.mark.parametrize("kind", sorted(FORGED))
def test_check_reports_a_committed_journal_and_never_applies_it(project: Path, channel_root: Path, kind: str) -> None:
    before = (project / "locks" / "linux-64.txt").read_bytes()
    txn = _commit_journal(project, FORGED[kind])
    result = invoke_lockgen(
        "check", "--mirror", f"https://conda.anaconda.org={channel_root.as_uri()}", "--cache-dir", project / "cache",
        cwd=project,
    )  # fmt: skip
    count("hostile review inputs refused")
    assert result.returncode == 6, result.stdout + result.stderr
    assert ".lockgen-txn" in result.stderr and "never applies" in result.stderr
    assert (project / "locks" / "linux-64.txt").read_bytes() == before
    assert (txn / "MANIFEST").is_file()


def test_read_only_commands_leave_the_journal_alone(project: Path) -> None:
    before = (project / "locks" / "linux-64.txt").read_bytes()
    txn = _commit_journal(project, FORGED["unsealed"])
    read_directory(project / "locks")  # diff's reader
    assert (project / "locks" / "linux-64.txt").read_bytes() == before and txn.is_dir()


def test_lock_refuses_a_journal_this_machine_did_not_seal(project: Path, channel_root: Path) -> None:
    from lockgen.lock import lock

    before = (project / "locks" / "linux-64.txt").read_bytes()
    _commit_journal(project, FORGED["bad seal"])
    with pytest.raises(JournalError) as caught:
        lock(options(project, channel_root))
    count("hostile review inputs refused")
    assert caught.value.exit_code == 10 and "rm -r" in caught.value.message
    assert (project / "locks" / "linux-64.txt").read_bytes() == before


def test_a_journal_sealed_for_another_directory_is_refused(
    project: Path, tmp_path: Path, state_dirs: tuple[Path, ...]
) -> None:
    """A journal copied from elsewhere (even this machine's) does not apply: the seal names the directory."""
    other = tmp_path / "elsewhere"
    other.mkdir()
    hostile = _hostile_lock(project)
    manifest = journal_manifest(other, {"linux-64.txt": hostile}, [], state_dirs=state_dirs)
    txn = project / "locks" / TXN_DIR
    txn.mkdir()
    (txn / "linux-64.txt").write_bytes(hostile)
    (txn / "MANIFEST").write_bytes(manifest)
    with pytest.raises(JournalError, match="seal does not match"):
        recover(project / "locks", state_dirs=state_dirs)
    assert (project / "locks" / "linux-64.txt").read_bytes() != hostile


def test_a_staged_file_swapped_after_sealing_is_refused(project: Path, state_dirs: tuple[Path, ...]) -> None:
    out = project / "locks"
    good = (out / "linux-64.txt").read_bytes().replace(b"@EXPLICIT", b"# edited\n@EXPLICIT")
    txn = out / TXN_DIR
    txn.mkdir()
    (txn / "MANIFEST").write_bytes(journal_manifest(out, {"linux-64.txt": good}, [], state_dirs=state_dirs))
    (txn / "linux-64.txt").write_bytes(_hostile_lock(project))
    with pytest.raises(JournalError, match="differs from the one lockgen staged"):
        recover(out, state_dirs=state_dirs)


def test_this_machines_own_journal_is_still_recovered(project: Path, state_dirs: tuple[Path, ...]) -> None:
    out = project / "locks"
    new = (out / "linux-64.txt").read_bytes().replace(b"@EXPLICIT", b"# recovered\n@EXPLICIT")
    txn = out / TXN_DIR
    txn.mkdir()
    (txn / "linux-64.txt").write_bytes(new)
    (txn / "MANIFEST").write_bytes(journal_manifest(out, {"linux-64.txt": new}, [], state_dirs=state_dirs))
    recover(out, state_dirs=state_dirs)
    assert (out / "linux-64.txt").read_bytes() == new and not txn.exists()


def test_check_in_process_names_the_journal(project: Path, channel_root: Path) -> None:
    _commit_journal(project, FORGED["unsealed"])
    stale = check(options(project, channel_root)).stale
    assert [(s.target, s.reason) for s in stale] == [("journal", "journal")]


@pytest.mark.parametrize("seal", ["\u00e9" * 64, "\udc80", "0" * 63 + "\u00e9"])
def test_a_seal_that_is_not_ascii_is_refused_not_an_internal_error(
    project: Path, state_dirs: tuple[Path, ...], seal: str
) -> None:
    """A committed journal's seal is any JSON string: one with non-ASCII characters (or a lone surrogate)
    made ``hmac.compare_digest`` raise TypeError, an internal error (exit 1) instead of the refusal."""
    out = project / "locks"
    journal_manifest(out, {}, [], state_dirs=state_dirs)  # this machine has a key, as after any lock
    before = (out / "linux-64.txt").read_bytes()
    manifest = {"put": ["linux-64.txt"], "delete": [], "sha256": {}, "seal": seal}
    _commit_journal(project, json.dumps(manifest).encode())
    with pytest.raises(JournalError, match="seal does not match"):
        recover(out, state_dirs=state_dirs)
    assert (out / "linux-64.txt").read_bytes() == before


def test_a_journal_sealed_with_the_hmac_module_is_still_recovered(project: Path, state_dirs: tuple[Path, ...]) -> None:
    """A journal left by a lock killed under the previous code (its seal made by ``hmac.new``, before
    lockgen.digest.hmac_sha256) is recovered by this one: the same key, payload and digest."""
    import hashlib
    import hmac

    out = project / "locks"
    new = (out / "linux-64.txt").read_bytes().replace(b"@EXPLICIT", b"# recovered\n@EXPLICIT")
    plan = json.loads(journal_manifest(out, {"linux-64.txt": new}, [], state_dirs=state_dirs))
    from lockgen.lockfiles.commit import key_path

    key_file = key_path(out, state_dirs)
    assert key_file is not None
    payload = {"dir": str(out.resolve()), "put": plan["put"], "delete": plan["delete"], "sha256": plan["sha256"]}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    plan["seal"] = hmac.new(key_file.read_bytes(), blob, hashlib.sha256).hexdigest()  # the previous code's seal
    txn = out / TXN_DIR
    txn.mkdir()
    (txn / "linux-64.txt").write_bytes(new)
    (txn / "MANIFEST").write_bytes(json.dumps(plan, sort_keys=True).encode())
    recover(out, state_dirs=state_dirs)
    assert (out / "linux-64.txt").read_bytes() == new and not txn.exists()
