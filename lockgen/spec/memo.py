"""A memo of parsed environment files, so an unchanged file is read without PyYAML.

:func:`~lockgen.spec.document.parse_env_text` is a function of the file's text, the name it is shown
by and the code that parses it. For a text that parsed without a problem, :func:`store` keeps what it
returned; :func:`load` gives it back when all three are the same, and ``lock``, a no-op ``lock`` and
``check`` then import neither PyYAML nor lockgen's parser (about 13 ms of a 115 ms no-op here;
docs/performance.md, "Round 9: the environment file's memo").

- **Where:** in lockgen's cache directory, and only when that is outside the project
  (:func:`lockgen.project.memo_allowed`): a pull request can commit a folder in the project, and a
  memo there would choose what the environment file is read as.
- **Key:** the BLAKE2b of the Python version, lockgen's version and folder, ``sys.prefix``, the shown
  name and the text: the memo's file name, also written inside it (a memo renamed is not read). The
  folder and the prefix choose which code parses (another checkout of the same version, another
  virtual environment with its own PyYAML), and the user's cache folder is shared by all of them.
- **The code:** the memo records every module of lockgen, PyYAML, rattler and packaging loaded when it
  was written (path, size, modification time). A memo is used only while each of them is unchanged, so
  an edited checkout or an upgraded PyYAML (or rattler, packaging: they check uncommon specs) parses again.
- **Trust:** a memo that cannot be read, is not a regular file of at most MEMO_MAX_BYTES, is not this
  user's or others may write it (a shared cache folder), or does not decode to what :func:`store`
  writes, counts as none (and is written again: a new file, never through a link). Writing is best
  effort: a cache that cannot be written costs a parse next time, never an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

from lockgen import __version__
from lockgen.digest import blake2b
from lockgen.errors import Problem
from lockgen.spec.model import CondaDependency, EnvSpec, Location, PipEntry

__all__ = ["MEMO_DIR", "MEMO_LIMIT", "load", "store"]

MEMO_DIR = "memo-v1"
"""The memos' folder under ``<cache>/envfile``; a new format gets a new name."""
MEMO_LIMIT = 200
"""Memos kept: past it, :func:`store` removes the older half (an edited file leaves one per version)."""
MEMO_MAX_BYTES = 64 * 2**20
"""The largest memo written or read (a 20,000-entry file's is a few MB); a larger one is parsed each time."""
_SEVERITIES = ("error", "warning", "note")
_PARSER_PACKAGES = ("lockgen", "yaml", "_yaml", "rattler", "packaging")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_STALE_TMP_NS = 24 * 3600 * 10**9
_LOCKGEN = os.path.dirname(os.path.dirname(__file__))  # noqa: PTH120 - lockgen's folder, as a text


def memo_path(memo_dir: Path, shown: str, text: str) -> Path:
    code = "\0".join((sys.version, __version__, _LOCKGEN, sys.prefix))
    head = f"{code}\0\0{shown}\0"  # a name may hold surrogates (bytes not UTF-8)
    digest = blake2b(head.encode("utf-8", "surrogatepass"), digest_size=20)
    digest.update(text.encode("utf-8", "surrogatepass"))
    return memo_dir / f"{digest.hexdigest()}.json"


def load(memo_dir: Path, shown: str, text: str) -> EnvSpec | None:
    """The EnvSpec :func:`store` kept for this text, or None (no memo, the code changed, unreadable)."""
    path = memo_path(memo_dir, shown, text)
    try:
        memo = json.loads(_read_memo(path))
        if not isinstance(memo, dict) or memo.get("format") != MEMO_DIR or memo.get("key") != path.stem:
            return None  # "key": another text's memo, renamed or linked to this name, is not this one's
        if not _code_unchanged(memo["code"]):
            return None
        return _decode(memo["spec"])
    except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError):  # RecursionError: nested deep
        return None


def store(memo_dir: Path, shown: str, text: str, spec: EnvSpec) -> None:
    """Keep ``spec``, what this text parsed to (just now, by this process's code). Best effort."""
    path = memo_path(memo_dir, shown, text)
    memo = {"format": MEMO_DIR, "key": path.stem, "code": _code_stamps(), "spec": _encode(spec)}
    data = json.dumps(memo, separators=(",", ":")).encode()  # ASCII: every other character escaped
    if len(data) > MEMO_MAX_BYTES:
        return
    tmp = path.with_name(f"{path.stem}.tmp{os.getpid()}")
    created = False
    try:
        memo_dir.mkdir(parents=True, exist_ok=True)
        # A new file, never through a link there; writable by its owner only, as load() requires
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_BINARY", 0), 0o644)
        created = True
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        tmp.replace(path)
        created = False
        _prune(memo_dir, path)
    except OSError:
        if created:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _read_memo(path: Path) -> bytes:
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


def _code_stamps() -> list[list[Any]]:
    """Every loaded module of the packages whose code decides what a text parses to: path, size, mtime.
    lockgen and PyYAML (the parser), rattler (``MatchSpec`` checks a conda spec of an uncommon shape) and
    packaging (``Requirement`` checks a pip line of one): an upgrade of any of them may accept or refuse
    another text. Only what this process loaded: a package the parse did not use did not decide it."""
    stamps = []
    for name, module in sorted(sys.modules.items()):
        if name.partition(".")[0] not in _PARSER_PACKAGES:
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


def _prune(memo_dir: Path, written: Path) -> None:
    """Past MEMO_LIMIT memos, remove the older half (never the one just written); and any temporary
    file older than a day (a run stopped while it wrote one)."""
    memos = []
    stale = time.time_ns() - _STALE_TMP_NS
    for entry in os.scandir(memo_dir):
        if entry.name.endswith(".json"):
            if entry.name != written.name:
                memos.append(entry)
        elif ".tmp" in entry.name and entry.stat(follow_symlinks=False).st_mtime_ns < stale:
            Path(entry.path).unlink(missing_ok=True)
    if len(memos) < MEMO_LIMIT:
        return
    memos.sort(key=lambda entry: entry.stat().st_mtime_ns)
    for entry in memos[: len(memos) // 2]:
        Path(entry.path).unlink(missing_ok=True)


def _encode(spec: EnvSpec) -> list[Any]:
    return [
        list(spec.files),
        spec.name,
        list(spec.channels),
        spec.nodefaults,
        [[d.spec, d.name, d.channel, d.selector, *_where(d.location)] for d in spec.dependencies],
        None if spec.pip is None else [[e.text, e.selector, *_where(e.location)] for e in spec.pip],
        None if spec.platforms is None else list(spec.platforms),
        [[n.message, n.file, n.line, n.severity] for n in spec.notes],
        [[channel, *_where(where)] for channel, where in spec.channel_locations],
    ]


def _where(location: Location) -> list[Any]:
    return [location.file, location.line]


def _decode(data: Any) -> EnvSpec:
    """What :func:`_encode` wrote, every value's type checked (ValueError otherwise)."""
    files, name, channels, nodefaults, deps, pip, platforms, notes, located = data
    return EnvSpec(
        files=_texts(files),
        name=_text_or_none(name),
        channels=_texts(channels),
        nodefaults=_flag(nodefaults),
        dependencies=tuple(
            CondaDependency(_text(s), _text(n), _text_or_none(c), _text_or_none(sel), _location(f, line))
            for s, n, c, sel, f, line in _list(deps)
        ),
        pip=None
        if pip is None
        else tuple(PipEntry(_text(t), _text_or_none(sel), _location(f, line)) for t, sel, f, line in _list(pip)),
        platforms=None if platforms is None else _texts(platforms),
        notes=tuple(_note(*note) for note in _list(notes)),
        channel_locations=tuple((_text(c), _location(f, line)) for c, f, line in _list(located)),
    )


def _note(message: Any, file: Any, line: Any, severity: Any) -> Problem:
    if severity not in _SEVERITIES:
        raise ValueError(severity)
    return Problem(_text(message), _text_or_none(file), None if line is None else _number(line), severity)


def _location(file: Any, line: Any) -> Location:
    return Location(_text(file), _number(line))


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(value)
    return value


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(_text(item) for item in _list(value))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


def _text_or_none(value: Any) -> str | None:
    return None if value is None else _text(value)


def _number(value: Any) -> int:
    if type(value) is not int:
        raise ValueError(value)
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(value)
    return value
