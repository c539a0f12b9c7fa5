"""conda package names → PyPI distribution names.

Sources, in order: ``--pypi-mapping FILE``; parselmouth's per-channel mapping
(``https://conda-mapping.prefix.dev/compressed-v0/{channel}/compressed_mapping.json``), fetched
with httpx and cached on disk for :data:`REFRESH_AGE_S`; a stale cached copy when the fetch
fails; lockgen's dated snapshot of parselmouth's conda-forge and pytorch tables (package data,
:data:`SNAPSHOT_DATE`) when neither is available; and, for channels the snapshot does not cover,
:data:`BUILTIN_RENAMES` plus "same name" for conda packages that do not look like system libraries
(also for names a table does not list). Every file has the format ``{conda_name: [pypi_name, ...] |
null}`` (null: not a Python distribution).

The lock records what the mapping answered for the conda packages it saw (:meth:`PypiMapping.answers`),
not where the mapping came from: the download, a file or the snapshot give the same file whenever they
agree on those packages.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Protocol

from lockgen.errors import ConfigError
from lockgen.httpclient import HttpSettings
from lockgen.records import dataclass

__all__ = [
    "BUILTIN_RENAMES",
    "SNAPSHOT_DATE",
    "MappingSource",
    "ParselmouthSource",
    "PypiMapping",
    "load_mapping",
    "mapping_channel_name",
    "snapshot_table",
]

MAPPING_URL = "https://conda-mapping.prefix.dev/compressed-v0/{channel}/compressed_mapping.json"
"""Overrides :data:`MAPPING_URL` (a template with ``{channel}``), e.g. for a local copy or tests."""
REFRESH_AGE_S = 24 * 3600
FETCH_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 3.0
MAX_MAPPING_BYTES = 64 * 1024 * 1024
SNAPSHOT_DATE = "2026-08-19"
"""parselmouth commit 345e9bfbd11d of that date; lockgen/data/PARSELMOUTH-LICENSE.txt (BSD-3) says more."""
_SNAPSHOT_DIR = Path(__file__).resolve().parent.parent / "data"

# The common cases where the conda name is not the PyPI name, so a lock made offline still keeps
# pip from installing these again. `None`: a conda package that is not a Python distribution.
BUILTIN_RENAMES: Mapping[str, tuple[str, ...] | None] = {
    "pytorch": ("torch",),
    "pytorch-cpu": ("torch",),
    "pytorch-gpu": None,
    "libtorch": None,
    "py-opencv": ("opencv-python", "opencv-python-headless"),
    "opencv": None,
    "matplotlib-base": ("matplotlib",),
    "pytables": ("tables",),
    "msgpack-python": ("msgpack",),
    "py-xgboost": ("xgboost",),
    "py-xgboost-cpu": ("xgboost",),
    "py-xgboost-gpu": ("xgboost",),
    "libxgboost": None,
    "liblightgbm": None,
    "brotli-python": ("brotli",),
    "python-xxhash": ("xxhash",),
    "pyqt": ("pyqt5",),
    "ruamel.yaml": ("ruamel-yaml",),
    "typing_extensions": ("typing-extensions",),
    "typing-extensions": None,
    "importlib_metadata": ("importlib-metadata",),
    "huggingface_hub": ("huggingface-hub",),
    "tensorflow-base": ("tensorflow",),
    "jax-cuda12-plugin": ("jax-cuda12-plugin",),
    "jaxlib": ("jaxlib",),
    "protobuf": ("protobuf",),
    "libprotobuf": None,
    "python-flatbuffers": ("flatbuffers",),
    "python-tzdata": ("tzdata",),
    "tzdata": None,
    "pillow": ("pillow",),
    "pyyaml": ("pyyaml",),
    "pywin32": ("pywin32",),
    "setuptools": ("setuptools",),
    "wheel": ("wheel",),
    "pip": ("pip",),
    "python": None,
}

# Names (or prefixes) of conda packages that are not Python distributions. A conda package that no
# table knows and that is not one of these is taken to be the PyPI distribution of the same name:
# pip must not install again what conda may already have installed.
_NOT_PYTHON_PREFIXES = ("lib", "_", "cuda-", "cudnn", "nccl", "mkl", "intel-", "llvm", "gcc", "gxx", "ca-cert")
_NOT_PYTHON_SUFFIXES = ("-devel", "-dev", "-bin", "-tools", "_impl", "-headers")
_NOT_PYTHON = frozenset(
    {
        "python", "openssl", "zlib", "xz", "bzip2", "ncurses", "readline", "sqlite", "tk", "tzdata",
        "zstd", "lz4-c", "icu", "krb5", "keyutils", "c-ares", "expat", "pcre2", "gettext", "openblas",
        "blas", "tbb", "fmt", "spdlog", "sleef", "yaml", "zeromq", "freetype", "fontconfig", "qhull",
        "lerc", "giflib", "jpeg", "openjpeg", "pthread-stubs", "xorg-libx11", "gmp", "mpfr", "mpc",
        "nodejs", "pandoc", "ucrt", "vc", "vc14_runtime", "vs2015_runtime", "tbb-devel", "nlohmann_json",
    }
)  # fmt: skip


def mapping_channel_name(channel: str) -> str | None:
    """The parselmouth channel name for a channel as written (``conda-forge``, a conda.anaconda.org URL)."""
    value = channel.rstrip("/")
    if "://" not in value:
        return value if re.fullmatch(r"[A-Za-z0-9_.\-]+", value) else None
    if value.startswith(("https://conda.anaconda.org/", "http://conda.anaconda.org/")):
        name = value.split("/")[3]
        return name or None
    return None


def _canonical(name: str) -> str:
    """PEP 503's normalized name. Most names of a table are already normal: given back as they are
    (what the substitution would give them; the mapping is asked for ~300 names a no-op lock)."""
    if "_" not in name and "." not in name and "--" not in name and name.lower() == name:
        return name
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True, slots=True)
class PypiMapping:
    """Merged per-channel tables; ``description`` names the source for the output header."""

    tables: tuple[Mapping[str, Sequence[str] | None], ...]
    description: str
    fallback: bool = False
    notes: tuple[str, ...] = field(default=())
    _answered: dict[str, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)
    """What :meth:`pypi_names` answered (the same name is asked for each platform, the digest and the
    overlap warnings; the tables never change)."""

    def remember(self) -> None:
        """Keep, in the cache, what each table answered (see :class:`_MemoTable`)."""
        for table in self.tables:
            if isinstance(table, _MemoTable):
                table.remember()

    def answers(self, conda_names: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """What this mapping says for each of ``conda_names``: the part of it a lock depends on."""
        return {name: self.pypi_names(name) for name in sorted(set(conda_names))}

    def pypi_names(self, conda_name: str) -> tuple[str, ...]:
        """PyPI names (canonical, sorted) that conda package ``conda_name`` installs; () when none."""
        found = self._answered.get(conda_name)
        if found is None:
            found = self._answered[conda_name] = self._lookup(conda_name)
        return found

    def _lookup(self, conda_name: str) -> tuple[str, ...]:
        for table in self.tables:
            if conda_name in table:
                found = table[conda_name]
                return tuple(sorted({_canonical(n) for n in found or ()}))
        if conda_name in BUILTIN_RENAMES:
            builtin = BUILTIN_RENAMES[conda_name]
            return tuple(sorted({_canonical(n) for n in builtin or ()}))
        if _looks_like_python(conda_name):
            return (_canonical(conda_name),)  # unknown to every table: assume the same name
        return ()


def _looks_like_python(name: str) -> bool:
    return not (
        name in _NOT_PYTHON
        or name.startswith(_NOT_PYTHON_PREFIXES)
        or name.endswith(_NOT_PYTHON_SUFFIXES)
        or "_linux-" in name
        or "_osx-" in name
        or "_win-" in name
    )


class MappingSource(Protocol):
    """Where per-channel tables come from (tests pass a fake)."""

    def load(self, channel: str) -> tuple[Mapping[str, Sequence[str] | None] | None, str | None]:
        """The table for ``channel`` (or None) and a note to show (or None)."""


def _parse_table(data: bytes, where: str) -> dict[str, Sequence[str] | None]:
    try:
        table = json.loads(data)
    except ValueError as exc:
        raise ValueError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected an object of conda name → [PyPI names] or null")
    # Checked in place, not copied: JSON object keys are strings already, and the lists are only read.
    # A 34k-entry table is parsed on every lock with a pip section (docs/performance.md).
    for key, value in table.items():
        if value is not None and (type(value) is not list or any(type(v) is not str for v in value)):
            raise ValueError(f"{where}: entry {key!r} must be a list of names or null")
    return table


MEMO_DIR = "memo-v3"
"""Under ``<cache>/pypi-mapping``: what a table answered (:class:`_MemoTable`), written and read by
:mod:`lockgen.memofile`; ``memo-v2`` was named by the BLAKE2b of the table's bytes alone, ``memo-v1`` by
their sha256."""
_READER = ("lockgen.pypi.mapping",)
"""The module whose code decides what a memo holds (:func:`_parse_table`): its file is stamped in the memo."""


def _memo_key(data: bytes) -> str:
    """The name of ``data``'s memo: the BLAKE2b (32 bytes) of the code's identity and of ``data``
    (:func:`lockgen.memofile.memo_key`), the interpreter's own digest (about 1 ms a megabyte), so that a
    no-op lock loads no OpenSSL: ``import hashlib`` loads it (about 2.5 ms), and nothing else of a no-op
    needs it (docs/performance.md, "Round 8: the no-op lock")."""
    from lockgen.memofile import memo_key

    return memo_key((data,), digest_size=32)


def _table(data: bytes, where: str, memo_dir: Path | None) -> Mapping[str, Sequence[str] | None]:
    """``data``'s table: parsed now, or (with ``memo_dir``) a :class:`_MemoTable` that parses only
    when asked for a name the memo of these exact bytes does not hold."""
    if memo_dir is None:
        return _parse_table(data, where)
    table = _MemoTable(data, where, memo_dir / f"{_memo_key(data)}.json")
    if not table.memo_loaded:
        table.parse()  # no memo: parse (and refuse a malformed table) now, as without a memo
    return table


class _MemoTable(Mapping[str, "Sequence[str] | None"]):
    """A table whose lookups are answered from a memo when it can, else from the parsed bytes.

    The memo lives in lockgen's cache directory (never the project: :func:`lockgen.pypi.inputs.mapping_memo_dir`),
    named by the BLAKE2b of the code's identity and the table's bytes, and lockgen writes it only from a
    table it parsed and checked in full: the same bytes read by the same code give the same answers, so a
    no-op lock answers its few hundred names without parsing a 34k-entry table (docs/performance.md). Any
    other use (a name the memo lacks, iterating) parses. The memo file is read and written by
    :mod:`lockgen.memofile` (a memo that is not this table's, not this code's or not to be trusted is none).
    """

    def __init__(self, data: bytes, where: str, memo_path: Path) -> None:
        self._data = data
        self._where = where
        self._memo_path = memo_path
        self._full: dict[str, Sequence[str] | None] | None = None
        self._known: dict[str, Sequence[str] | None] = {}
        self._absent: set[str] = set()
        self._asked: set[str] = set()
        self.memo_loaded = self._load_memo()

    def _load_memo(self) -> bool:
        from lockgen.memofile import load_memo

        memo = load_memo(self._memo_path, MEMO_DIR)
        if memo is None:
            return False
        entries, absent = memo.get("entries"), memo.get("absent")
        if not isinstance(entries, dict) or not isinstance(absent, list) or any(type(a) is not str for a in absent):
            return False
        for value in entries.values():
            if value is not None and (type(value) is not list or any(type(v) is not str for v in value)):
                return False
        self._known, self._absent = entries, set(absent)
        return True

    @property
    def parsed(self) -> bool:
        """Whether this run parsed the table's bytes (else every lookup was the memo's)."""
        return self._full is not None

    def parse(self) -> dict[str, Sequence[str] | None]:
        if self._full is None:
            self._full = _parse_table(self._data, self._where)
        return self._full

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        self._asked.add(key)
        if self._full is None and (key in self._known or key in self._absent):
            return key in self._known
        return key in self.parse()

    def __getitem__(self, key: str) -> Sequence[str] | None:
        self._asked.add(key)
        if self._full is None and key in self._known:
            return self._known[key]
        return self.parse()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.parse())

    def __len__(self) -> int:
        return len(self.parse())

    def remember(self) -> None:
        """Write the memo of every name asked so far (with what the memo held), when this run parsed
        the table; a memo that answered everything stays as it is. Best effort: a cache that cannot
        be written only costs the next run a parse."""
        if self._full is None:
            return
        from lockgen.memofile import code_stamps, store_memo

        names = self._asked | set(self._known) | self._absent
        entries = {n: self._full[n] for n in sorted(names) if n in self._full}
        absent = sorted(n for n in names if n not in self._full)
        if entries == self._known and set(absent) == self._absent:
            return
        store_memo(self._memo_path, MEMO_DIR, {"entries": entries, "absent": absent}, code_stamps(_READER))


class ParselmouthSource:
    """Fetch parselmouth's table for a channel, cached under ``cache_dir`` for ``refresh_age_s``."""

    def __init__(
        self,
        cache_dir: Path,
        offline: bool = False,
        url_template: str | None = None,
        refresh_age_s: float = REFRESH_AGE_S,
        transport: object | None = None,
        *,
        memo_dir: Path | None = None,
        http: HttpSettings | None = None,
    ) -> None:
        self.cache_dir = cache_dir / "pypi-mapping"
        self.memo_dir = memo_dir
        """Where a cached copy's memo lives (see :class:`_MemoTable`); None: parse the copy."""
        self.offline = offline
        self.url_template = url_template or MAPPING_URL
        self.refresh_age_s = refresh_age_s
        self.transport = transport
        """An httpx transport standing in for the network (tests)."""
        self.http = http or HttpSettings(FETCH_TIMEOUT_S)
        """Proxies and credentials of the fetch (:mod:`lockgen.httpclient`)."""

    def _cached(self, channel: str) -> tuple[Path, float | None]:
        path = self.cache_dir / f"{channel}.json"
        try:
            return path, time.time() - path.stat().st_mtime
        except OSError:
            return path, None

    def load(self, channel: str) -> tuple[Mapping[str, Sequence[str] | None] | None, str | None]:
        path, age = self._cached(channel)
        if age is not None and (age < self.refresh_age_s or self.offline):
            try:
                return _table(path.read_bytes(), str(path), self.memo_dir), None
            except (OSError, ValueError):
                age = None
        if self.offline:
            return None, f"no cached conda→PyPI mapping for {channel} (--offline)"
        url = self.url_template.format(channel=channel)
        try:
            data = self._fetch(url)
            table = _parse_table(data, url)
        except (OSError, ValueError) as exc:
            if age is not None:
                table = _parse_table(path.read_bytes(), str(path))
                return table, f"conda→PyPI mapping for {channel}: {exc}; using the cached copy"
            return None, f"conda→PyPI mapping for {channel} could not be fetched: {exc}"
        from lockgen.cachedir import ensure_cache_dir

        ensure_cache_dir(self.cache_dir)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(data)
        tmp.replace(path)
        return table, None

    def _fetch(self, url: str) -> bytes:
        import httpx

        from lockgen.httpclient import make_client

        cap = self.http.timeout_s  # LOCKGEN_HTTP_TIMEOUT bounds this short fetch too
        timeout = httpx.Timeout(min(FETCH_TIMEOUT_S, cap), connect=min(CONNECT_TIMEOUT_S, cap))
        transport = self.transport if isinstance(self.transport, httpx.BaseTransport) else None
        try:
            with make_client(self.http, transport=transport, timeout=timeout) as client:
                response = client.get(url)
        except httpx.HTTPError as exc:
            raise OSError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise OSError(f"HTTP {response.status_code} from {url}")
        if len(response.content) > MAX_MAPPING_BYTES:
            raise OSError(f"{url} is larger than {MAX_MAPPING_BYTES // 1024 // 1024} MiB")
        return response.content


def snapshot_table(channel: str, memo_dir: Path | None = None) -> Mapping[str, Sequence[str] | None] | None:
    """lockgen's copy of parselmouth's table for ``channel`` (conda-forge, pytorch), or None;
    ``memo_dir`` as for :func:`load_mapping` (an offline no-op then parses no 34k-entry table)."""
    path = _SNAPSHOT_DIR / f"parselmouth-{channel}.json.gz"
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.\-]*", channel) or not path.is_file():
        return None
    import gzip  # here: only a lock with no fetched table reads the snapshot

    return _table(gzip.decompress(path.read_bytes()), str(path), memo_dir)


def _from_file(path: Path, memo_dir: Path | None) -> PypiMapping:
    try:
        table = _table(path.read_bytes(), str(path), memo_dir)
    except OSError as exc:
        raise ConfigError(f"--pypi-mapping {path}: cannot read: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ConfigError(f"--pypi-mapping {exc}") from exc
    return PypiMapping((table,), f"file {path.name}")


def load_mapping(
    channels: Sequence[str], mapping_file: Path | None, source: MappingSource | None, *, memo_dir: Path | None = None
) -> PypiMapping:
    """The mapping for ``channels`` (in priority order): the file, else each channel's table, else fallback.

    ``memo_dir``: where the file's memo lives (lockgen's cache; see :class:`_MemoTable`); None: parse it."""
    if mapping_file is not None:
        return _from_file(mapping_file, memo_dir)
    names = [n for n in (mapping_channel_name(c) for c in channels) if n]
    tables: list[Mapping[str, Sequence[str] | None]] = []
    used: list[str] = []
    notes: list[str] = []
    for name in dict.fromkeys(names):
        table, note = source.load(name) if source is not None else (None, None)
        label = name
        if table is None:
            table = snapshot_table(name, memo_dir)
            if table is not None:
                used_snapshot = f"lockgen's snapshot of {SNAPSHOT_DATE}"
                note = f"{note}; using {used_snapshot}" if note else None
                label = f"{name} ({used_snapshot})"
        if note:
            notes.append(note)
        if table is not None:
            tables.append(table)
            used.append(label)
    if tables:
        return PypiMapping(tuple(tables), "parselmouth " + ", ".join(used), notes=tuple(notes))
    notes.append("no conda→PyPI mapping available: used lockgen's built-in table of common renames")
    return PypiMapping((), "built-in fallback", fallback=True, notes=tuple(notes))
