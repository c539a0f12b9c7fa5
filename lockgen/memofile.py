"""A memo file in lockgen's cache, read and written safely: the one reader and writer of the environment
file's memo (:mod:`lockgen.spec.memo`) and the conda→PyPI mapping's (:mod:`lockgen.pypi.mapping`).

A memo keeps what lockgen's code made of some input (a text parsed, a table's answers) so that a later
run with the same input and the same code skips the work. Each user's cache folder is shared by every
checkout and virtual environment of lockgen, and possibly with other users; so:

- **Key:** :func:`memo_key` is the BLAKE2b of the code's identity (the Python version, lockgen's
  version and folder, ``sys.prefix``: another checkout of the same version, another virtual environment
  with its own libraries) and of the input: the memo's file name, also written inside it, so a memo
  renamed or linked to another input's name is not read.
- **The code:** the memo records the files of the modules that decided its content (path, size,
  modification time, :func:`code_stamps`); it is used only while each of them is unchanged (an edited
  checkout, an upgraded library).
- **Trust:** a memo that cannot be read, is not a regular file of at most :data:`MEMO_MAX_BYTES`, is not
  this user's or others may write it, or does not decode, counts as none: :func:`load_memo` never hangs
  on a FIFO, never reads a huge file whole, never raises. :func:`store_memo` writes a new file (never
  through a link planted at its temporary name), readable and writable by its owner only (an environment
  file's memo holds its credentials), and replaces the memo;
  writing is best effort: a cache that cannot be written costs the work next time, never an error.
  Writing one removes temporary files older than a day (a run stopped while writing) and, past the
  number of memos the caller keeps, the older half.

Where memos may be kept at all (outside the project) is :func:`lockgen.project.memo_allowed`'s rule.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lockgen import __version__
from lockgen.digest import blake2b

__all__ = ["MEMO_MAX_BYTES", "code_stamps", "load_memo", "memo_key", "store_memo"]

MEMO_MAX_BYTES = 64 * 2**20
"""The largest memo written or read (a 20,000-entry environment file's is a few MB); a larger one is
not used (the work is done again)."""
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_STALE_TMP_NS = 24 * 3600 * 10**9
_LOCKGEN = os.path.dirname(__file__)  # noqa: PTH120 - lockgen's folder, as a text


def memo_key(parts: Iterable[bytes], digest_size: int) -> str:
    """The memo's name: the BLAKE2b of the code's identity and of ``parts`` (the input), hex."""
    code = "\0".join((sys.version, __version__, _LOCKGEN, sys.prefix))
    digest = blake2b(f"{code}\0\0".encode("utf-8", "surrogatepass"), digest_size=digest_size)
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def load_memo(path: Path, form: str) -> dict[str, Any] | None:
    """The memo :func:`store_memo` wrote at ``path`` in format ``form``, while the code it names is
    unchanged; None otherwise (no memo, another input's, another format, unreadable, untrusted)."""
    try:
        memo = json.loads(_read(path))
        if not isinstance(memo, dict) or memo.get("format") != form or memo.get("key") != path.stem:
            return None  # "key": another input's memo, renamed or linked to this name, is not this one's
        return memo if _code_unchanged(memo.get("code")) else None
    except (OSError, ValueError, TypeError, RecursionError):  # RecursionError: nested too deep for json
        return None


def store_memo(
    path: Path, form: str, content: dict[str, Any], stamps: list[list[Any]], keep: int | None = None
) -> None:
    """Write ``content`` as the memo at ``path`` (format ``form``, the code ``stamps``), then :func:`_prune`
    the folder (``keep``: how many memos it may hold; None: no limit). Best effort: an error leaves no
    temporary file of this process's behind."""
    memo = {"format": form, "key": path.stem, "code": stamps, **content}
    data = json.dumps(memo, separators=(",", ":")).encode()  # ASCII: every other character escaped
    if len(data) > MEMO_MAX_BYTES:
        return
    tmp = path.with_name(f"{path.stem}.tmp{os.getpid()}")
    created = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A new file, never through a link there; its owner's only: writable (load_memo() requires it) and
        # readable (an environment file's memo holds its credentials: a channel's token, an index's password)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_BINARY", 0), 0o600)
        created = True
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        tmp.replace(path)
        created = False
        _prune(path.parent, path, keep)
    except OSError:
        if created:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _prune(folder: Path, written: Path, keep: int | None) -> None:
    """Remove any temporary file older than a day (a run stopped while it wrote one) and, past ``keep``
    memos, the older half (never the one just written)."""
    memos = []
    stale = time.time_ns() - _STALE_TMP_NS
    for entry in os.scandir(folder):
        if entry.name.endswith(".json"):
            if entry.name != written.name:
                memos.append(entry)
        elif ".tmp" in entry.name and entry.stat(follow_symlinks=False).st_mtime_ns < stale:
            Path(entry.path).unlink(missing_ok=True)
    if keep is None or len(memos) < keep:
        return
    memos.sort(key=lambda entry: entry.stat().st_mtime_ns)
    for entry in memos[: len(memos) // 2]:
        Path(entry.path).unlink(missing_ok=True)


def _read(path: Path) -> bytes:
    """The memo's bytes: a regular file of at most MEMO_MAX_BYTES, this user's and writable by nobody
    else, else OSError (a FIFO put there must not hang the command, nor a huge file fill its memory;
    in a cache folder others may write, a memo they wrote or may change is not this user's)."""
    with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as file:  # a FIFO: no wait
        info = os.fstat(file.fileno())
        if stat.S_ISREG(info.st_mode) and info.st_size <= MEMO_MAX_BYTES and _private(info):
            return file.read(MEMO_MAX_BYTES + 1)
    raise OSError(f"not a memo: {path}")


def _private(info: os.stat_result) -> bool:
    if not hasattr(os, "geteuid"):  # Windows: no owner nor mode to compare
        return True
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def code_stamps(packages: tuple[str, ...]) -> list[list[Any]]:
    """Every loaded module of ``packages`` (a package's name, or a dotted module's with its submodules):
    path, size, modification time. Only what this process loaded: what it did not use did not decide."""
    stamps = []
    for name, module in sorted(sys.modules.items()):
        if not any(name == p or name.startswith(f"{p}.") for p in packages):
            continue
        file = getattr(module, "__file__", None)
        if not isinstance(file, str):
            continue
        try:
            st = os.stat(file)  # noqa: PTH116 - a hundred paths: no Path object each
        except OSError:
            continue
        stamps.append([file, st.st_size, st.st_mtime_ns])
    return stamps


def _code_unchanged(stamps: Any) -> bool:
    if not isinstance(stamps, list) or not stamps:
        return False
    for file, size, mtime in stamps:
        try:
            st = os.stat(file)  # noqa: PTH116 - as above
        except OSError:
            return False
        if st.st_size != size or st.st_mtime_ns != mtime:
            return False
    return True
