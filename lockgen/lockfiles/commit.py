"""The all-or-nothing commit of a set of lock files, its journal and the output directory's lock.

Writing goes through :func:`commit_files`, a small journal inside the output directory:
new contents are written and fsynced under ``.lockgen-txn/``, a manifest is renamed into place
(the commit point), then each file is renamed over its target. A process killed at any moment
leaves either the old set or, after :func:`recover` (run by ``lock`` before it writes), the new
set. A lock on the directory keeps two writers from interleaving. A file name may name a sub-folder
one level down (``cpu/linux-64.txt``): with several environments one commit, and one journal at
the output root, covers every environment's folder, so a failure anywhere leaves every old set.

The journal sits in the project tree, where a pull request can commit one. So its manifest is
sealed: an HMAC, keyed by a random key kept outside the project (``$XDG_STATE_HOME/lockgen``,
mode 0600; the caller passes the candidate folders, ``LockOptions.state_dirs``, and :func:`key_path`
says which one is used), over the output directory's
absolute path, the file names and each staged file's sha256. :func:`recover` applies only a
journal whose seal and hashes check out, that is one that lockgen wrote on this machine for this
directory; any other journal is refused with an error and never applied. Read-only commands
(check, diff, verify, explain, install) never apply a journal; ``check`` reports one as an
error (:func:`stray_journal`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from lockgen.digest import hmac_sha256, sha256
from lockgen.errors import OutputError
from lockgen.lockfiles.header import GENERATED_PREFIX, is_generated
from lockgen.lockfiles.lockdir import TXN_DIR, stray_journal
from lockgen.records import dataclass

__all__ = [
    "KEY_FILE",
    "MANIFEST",
    "CommitResult",
    "JournalError",
    "commit_files",
    "committed",
    "journal_manifest",
    "output_lock",
    "plan_changes",
    "recover",
]

MANIFEST = "MANIFEST"
KEY_FILE = "journal.key"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True, slots=True)
class CommitResult:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


_COMMITTED: list[tuple[Path, tuple[str, ...], tuple[str, ...]]] = []
"""Every commit this process made: (directory, files written, files removed). Read by
:func:`committed` for the Ctrl-C message, which says which set of files is on disk."""


def committed() -> tuple[tuple[Path, tuple[str, ...], tuple[str, ...]], ...]:
    """The commits this process has made so far (see :data:`_COMMITTED`)."""
    return tuple(_COMMITTED)


def _check_name(name: str) -> None:
    """A file name, or ``folder/name`` one level down (several environments: ``cpu/linux-64.txt``)."""
    parts = name.split("/")
    if len(parts) > 2 or any(not _SAFE_NAME.match(part) or part.startswith(".lockgen") for part in parts):
        raise OutputError(f"refusing to write lock file with unsafe name {name!r}")


def _folders(names: Sequence[str]) -> list[str]:
    """The sub-folders ``names`` (checked by :func:`_check_name`) live in, sorted."""
    return sorted({name.split("/")[0] for name in names if "/" in name})


@contextlib.contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the output directory itself (waits for another lockgen writer).

    The lock is taken on the directory's own file descriptor, so no lock file is left beside the
    locks for users to ignore or commit.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock; the journal still protects
        yield
        return
    fd = os.open(out_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_durable(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


class JournalError(OutputError):
    """A journal in the output directory that this machine did not write (exit 10): never applied."""


def _project_roots(out_dir: Path) -> list[Path]:
    """Folders a pull request can commit into, seen from ``out_dir``: its parent (the project beside
    ``locks/``) and the git work tree holding it."""
    here = out_dir.resolve()
    roots = [here.parent]
    for parent in (here, *here.parents):
        if (parent / ".git").exists():
            roots.append(parent)
            break
    return roots


def key_path(out_dir: Path, state_dirs: Sequence[Path]) -> Path | None:
    """Where the journal key for ``out_dir`` lives: ``lockgen/journal.key`` in the first of
    ``state_dirs`` (:func:`lockgen.config.read_state_dirs`: ``$XDG_STATE_HOME``, then
    ``~/.local/state``) that lies outside the project.

    A folder inside the project is passed over (an ``.envrc`` or a Makefile in a pull request can set
    ``XDG_STATE_HOME``): a key there could be committed with a journal sealed by it. None when every
    folder lies inside the project (a project at ``$HOME``), or none is given: journals are then left
    unsealed, never applied.
    """
    roots = _project_roots(out_dir)

    def inside(folder: Path) -> bool:
        resolved = folder.resolve()
        return any(resolved == root or resolved.is_relative_to(root) for root in roots)

    for folder in state_dirs:
        if not inside(folder):
            return folder / "lockgen" / KEY_FILE
    return None


def _read_key(path: Path) -> bytes | None:
    """The key at ``path`` if it is a private regular file of this user (a key checked out of git is
    not: git writes 0644), else None."""
    import stat

    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode):
            return None
        if hasattr(os, "geteuid") and (info.st_uid != os.geteuid() or info.st_mode & 0o077):
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return data if len(data) == 32 else None


def _journal_key(out_dir: Path, create: bool, state_dirs: Sequence[Path]) -> bytes | None:
    """This machine's journal key (32 random bytes, created on first use); None when unavailable."""
    path = key_path(out_dir, state_dirs)
    if path is None:
        return None
    data = _read_key(path)
    if data is not None:
        return data
    if not create or path.is_symlink() or path.exists():
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _journal_key(out_dir, False, state_dirs)
    except OSError:
        return None
    try:
        os.write(fd, os.urandom(32))
        os.fsync(fd)
    finally:
        os.close(fd)
    return _journal_key(out_dir, False, state_dirs)


def _seal(key: bytes, out_dir: Path, put: list[str], delete: list[str], digests: Mapping[str, str]) -> str:
    payload = {"dir": str(out_dir.resolve()), "put": put, "delete": delete, "sha256": dict(digests)}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hmac_sha256(key, blob)  # not the hmac module's: it loads OpenSSL (docs/performance.md, round 9)


def journal_manifest(
    out_dir: Path, files: Mapping[str, bytes], delete: Sequence[str], *, state_dirs: Sequence[Path]
) -> bytes:
    """The sealed MANIFEST for staging ``files`` and removing ``delete`` in ``out_dir`` (unsealed without a key)."""
    put = sorted(files)
    digests = {name: sha256(files[name]).hexdigest() for name in put}
    plan: dict[str, object] = {"put": put, "delete": list(delete), "sha256": digests}
    key = _journal_key(out_dir, True, state_dirs)
    if key is not None:
        plan["seal"] = _seal(key, out_dir, put, list(delete), digests)
    return json.dumps(plan, sort_keys=True).encode()


def _foreign(txn: Path, why: str) -> JournalError:
    return JournalError(
        f"{txn}: {why}; lockgen applies only a journal it wrote on this machine, so it was left alone."
        f" Look at the lock files, then delete it (`rm -r {txn}`), never commit it, and run `lockgen lock` again"
    )


def recover(out_dir: Path, *, state_dirs: Sequence[Path]) -> None:
    """Finish a commit that a killed ``lock`` on this machine left behind, or discard one it never committed.

    Only for commands that write locks. Takes the output directory's lock first, so it never races
    a live writer's commit. Costs nothing and writes nothing when there is no journal. Raises
    :class:`JournalError` for a journal this machine did not write (committed, copied, forged).
    """
    if stray_journal(out_dir) is None:
        return
    try:
        with output_lock(out_dir):
            _recover_locked(out_dir, state_dirs)
    except OSError as exc:
        raise OutputError(f"cannot finish the interrupted commit in {out_dir}: {exc.strerror or exc}") from exc


def _trusted_plan(out_dir: Path, txn: Path, state_dirs: Sequence[Path]) -> tuple[list[str], list[str]] | None:
    """The journal's (put, delete) when this machine sealed it; None for an uncommitted one. Raises JournalError."""
    if txn.is_symlink() or not txn.is_dir():
        raise _foreign(txn, "is not a directory lockgen made")
    manifest = txn / MANIFEST
    if not manifest.exists():
        names = [p.name for p in txn.iterdir() if p.name != MANIFEST + ".tmp"]
        if all(_SAFE_NAME.match(name) for name in names):
            return None  # never committed: the old set is whole; the staged copies are dropped
        raise _foreign(txn, "holds files lockgen never stages")
    try:
        plan = json.loads(manifest.read_text(encoding="utf-8"))
        put = [str(n) for n in plan["put"]]
        delete = [str(n) for n in plan["delete"]]
        digests = {str(k): str(v) for k, v in dict(plan["sha256"]).items()}
        seal = str(plan["seal"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise _foreign(txn, "has a manifest lockgen did not write (no seal)") from None
    key = _journal_key(out_dir, False, state_dirs)
    import hmac

    if key is None or not hmac.compare_digest(  # bytes: compare_digest refuses a str that is not ASCII
        seal.encode("utf-8", "surrogatepass"), _seal(key, out_dir, put, delete, digests).encode()
    ):
        raise _foreign(txn, "was not written by lockgen on this machine for this directory (its seal does not match)")
    for name in put:
        _check_name(name)
        staged = txn / name
        if staged.exists() and sha256(staged.read_bytes()).hexdigest() != digests.get(name):
            raise _foreign(txn, f"holds a {name} that differs from the one lockgen staged")
    for name in delete:
        _check_name(name)
    return put, delete


def _recover_locked(out_dir: Path, state_dirs: Sequence[Path]) -> None:
    txn = out_dir / TXN_DIR
    if stray_journal(out_dir) is None:
        return
    plan = _trusted_plan(out_dir, txn, state_dirs)
    if plan is not None:
        _apply(out_dir, txn, *plan)
    _discard(txn)
    _fsync_dir(out_dir)


def _discard(txn: Path) -> None:
    """Remove a journal: the manifest first, so a half-removed journal never looks committed."""
    with contextlib.suppress(FileNotFoundError):
        (txn / MANIFEST).unlink()
    try:
        txn.rmdir()  # the usual journal: absent (before a commit) or emptied by _apply (after one)
        return
    except FileNotFoundError:
        return
    except OSError:
        pass  # not empty (a sub-folder, an interrupted commit's files), or not a folder
    import shutil  # here: a commit whose journal is empty, the usual one, needs no shutil (2 ms with its compressors)

    shutil.rmtree(txn, ignore_errors=True)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT), SIGTERM and SIGHUP until the block ends, then act on the first one.

    A signal arriving mid-commit is noted by a temporary handler (whichever thread the kernel gave
    it to, Python runs handlers in the main thread) and re-raised once the commit is whole, so only
    SIGKILL or a crash can stop a commit between two renames; :func:`recover` handles those.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    import signal

    caught: list[int] = []
    held = [getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = {s: signal.signal(s, lambda number, _frame: caught.append(number)) for s in held}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])


def _apply(out_dir: Path, txn: Path, put: list[str], delete: list[str]) -> None:
    for folder in _folders(put):
        _check_folder(out_dir, folder)
        (out_dir / folder).mkdir(exist_ok=True)
    for name in put:
        _check_name(name)
        staged = txn / name
        if staged.exists():
            os.replace(staged, out_dir / name)
    for name in delete:
        _check_name(name)
        with contextlib.suppress(FileNotFoundError):
            (out_dir / name).unlink()
    for folder in _folders([*put, *delete]):
        _fsync_dir(out_dir / folder)
    _fsync_dir(out_dir)


def _check_folder(out_dir: Path, folder: str) -> None:
    """A sub-folder lockgen writes into must be a real folder of ``out_dir`` (or absent): never a
    symlink a pull request committed to send the writes elsewhere."""
    path = out_dir / folder
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise OutputError(f"{path} is not a folder lockgen made (a symlink or a file), so lockgen will not write in it")


def plan_changes(
    out_dir: Path, files: Mapping[str, bytes | None], adopt: Mapping[str, bytes] | None = None
) -> tuple[list[str], list[str], list[str]]:
    """Split ``files`` into (to write, unchanged, to delete) against what ``out_dir`` holds.

    A file lockgen did not write is replaced only when ``adopt`` names it with exactly the bytes it
    still holds (the caller's decision, made before solving: ``lock --from F --conda-lock-file F``)."""
    put: list[str] = []
    unchanged: list[str] = []
    delete: list[str] = []
    for folder in _folders(list(files)):
        _check_folder(out_dir, folder)
    for name, data in sorted(files.items()):
        _check_name(name)
        target = out_dir / name
        try:
            current = target.read_bytes() if target.exists() or target.is_symlink() else None
        except IsADirectoryError:
            current = b""
        if current is None or current == data:
            if data is not None:
                (unchanged if current == data else put).append(name)
            continue
        adopted = adopt is not None and name in adopt and adopt[name] == current and data is not None
        if target.is_symlink() or not target.is_file() or not (is_generated(current) or adopted):
            raise OutputError(
                f"{target} was not written by lockgen (it does not begin with `{GENERATED_PREFIX}`), so lockgen"
                f" will not {'delete' if data is None else 'overwrite'} it. Move it out of {out_dir} (or lock"
                " into another directory with -o) and run again"
            )
        (delete if data is None else put).append(name)
    return put, unchanged, delete


def _stage_and_apply(
    out_dir: Path,
    txn: Path,
    files: Mapping[str, bytes | None],
    put: list[str],
    delete: list[str],
    *,
    state_dirs: Sequence[Path],
) -> None:
    for folder in _folders(put):
        (txn / folder).mkdir()
    for name in put:
        data = files[name]
        assert data is not None
        _write_durable(txn / name, data)
    staged = {name: data for name in put if (data := files[name]) is not None}
    _write_durable(txn / (MANIFEST + ".tmp"), journal_manifest(out_dir, staged, delete, state_dirs=state_dirs))
    os.replace(txn / (MANIFEST + ".tmp"), txn / MANIFEST)  # the commit point
    _fsync_dir(txn)
    _apply(out_dir, txn, put, delete)


def commit_files(
    out_dir: Path,
    files: Mapping[str, bytes | None],
    adopt: Mapping[str, bytes] | None = None,
    *,
    state_dirs: Sequence[Path],
) -> CommitResult:
    """Make ``out_dir`` hold ``files`` (None: remove that file), all or nothing.

    Files whose content is already identical are not touched (their mtime stays); ``adopt``: see
    :func:`plan_changes`; ``state_dirs``: where the journal key may live (:func:`key_path`).
    """
    try:
        with output_lock(out_dir):
            _recover_locked(out_dir, state_dirs)
            put, unchanged, delete = plan_changes(out_dir, files, adopt)
            if not put and not delete:
                return CommitResult((), tuple(unchanged), ())
            txn = out_dir / TXN_DIR
            with _signals_deferred():
                _discard(txn)
                txn.mkdir()
                try:
                    _stage_and_apply(out_dir, txn, files, put, delete, state_dirs=state_dirs)
                except BaseException:  # a write error: finish our committed journal, drop an uncommitted one
                    if (txn / MANIFEST).is_file():
                        _apply(out_dir, txn, put, delete)
                    _discard(txn)
                    raise
                _discard(txn)
                _COMMITTED.append((out_dir, tuple(put), tuple(delete)))  # before a held Ctrl-C is acted on
            return CommitResult(tuple(put), tuple(unchanged), tuple(delete))
    except OSError as exc:
        raise OutputError(f"cannot write lock files in {out_dir}: {exc.strerror or exc}") from exc
