"""A memo of parsed environment files, so an unchanged file is read without PyYAML.

:func:`~lockgen.spec.document.parse_env_text` is a function of the file's text, the name it is shown
by and the code that parses it. For a text that parsed without a problem, :func:`store` keeps what it
returned; :func:`load` gives it back when all three are the same, and ``lock``, a no-op ``lock`` and
``check`` then import neither PyYAML nor lockgen's parser (about 13 ms of a 115 ms no-op here;
docs/performance.md, "Round 9: the environment file's memo").

- **Where:** in lockgen's cache directory, and only when that is outside the project
  (:func:`lockgen.project.memo_allowed`): a pull request can commit a folder in the project, and a
  memo there would choose what the environment file is read as.
- **Key, code, trust:** :mod:`lockgen.memofile`, the reader and writer shared with the conda→PyPI
  mapping's memo: the memo's name is the BLAKE2b of the code's identity (Python's and lockgen's
  versions, lockgen's folder, ``sys.prefix``), the shown name and the text, also written inside it; it
  records every module of lockgen, PyYAML, rattler and packaging loaded when it was written (path,
  size, modification time) and is used only while each of them is unchanged, so an edited checkout or
  an upgraded PyYAML (or rattler, packaging: they check uncommon specs) parses again. A memo that is
  not a regular file of this user's that only they may write, is too large, or does not decode to what
  :func:`store` writes, counts as none (and is written again: a new file, never through a link).
  Writing is best effort: a cache that cannot be written costs a parse next time, never an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lockgen.errors import Problem
from lockgen.memofile import code_stamps, load_memo, memo_key, store_memo
from lockgen.spec.model import CondaDependency, EnvSpec, Location, PipEntry

__all__ = ["MEMO_DIR", "MEMO_LIMIT", "load", "store"]

MEMO_DIR = "memo-v1"
"""The memos' folder under ``<cache>/envfile``; a new format gets a new name."""
MEMO_LIMIT = 200
"""Memos kept: past it, :func:`store` removes the older half (an edited file leaves one per version)."""
_SEVERITIES = ("error", "warning", "note")
_PARSER_PACKAGES = ("lockgen", "yaml", "_yaml", "rattler", "packaging")
"""The packages whose code decides what a text parses to: lockgen and PyYAML (the parser), rattler
(``MatchSpec`` checks a conda spec of an uncommon shape) and packaging (``Requirement`` checks a pip
line of one): an upgrade of any of them may accept or refuse another text."""


def memo_path(memo_dir: Path, shown: str, text: str) -> Path:
    # a name may hold surrogates (bytes not UTF-8)
    parts = (f"{shown}\0".encode("utf-8", "surrogatepass"), text.encode("utf-8", "surrogatepass"))
    return memo_dir / f"{memo_key(parts, digest_size=20)}.json"


def load(memo_dir: Path, shown: str, text: str) -> EnvSpec | None:
    """The EnvSpec :func:`store` kept for this text, or None (no memo, the code changed, unreadable)."""
    memo = load_memo(memo_path(memo_dir, shown, text), MEMO_DIR)
    if memo is None:
        return None
    try:
        return _decode(memo["spec"])
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def store(memo_dir: Path, shown: str, text: str, spec: EnvSpec) -> None:
    """Keep ``spec``, what this text parsed to (just now, by this process's code). Best effort."""
    path = memo_path(memo_dir, shown, text)
    store_memo(path, MEMO_DIR, {"spec": _encode(spec)}, code_stamps(_PARSER_PACKAGES), keep=MEMO_LIMIT)


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
