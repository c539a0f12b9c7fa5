""""Did you mean" for a pip requirement no index has (``transformrs``), asked only when uv failed.

PyPI's list of every project (``/simple/``) is about 40 MB: far too much to fetch for a typo. The
candidates come from what lockgen already holds: the PyPI names of the conda→PyPI mapping in use
and of lockgen's snapshot of parselmouth's tables (the Python packages conda-forge and pytorch
build, which covers the ones deep-learning environments name), and the pip section's other
names; an index other than PyPI (a private or test index, small) is asked for its project list,
at most :data:`MAX_LISTING_BYTES`. The closest few are then checked on the index itself, one
request each (``<index>/<name>/``), so a suggestion always exists where uv looked. With
``--no-index`` uv looked in the ``--find-links`` locations only: the message says so, and close
names come from the files of those folders, never from PyPI's names (:func:`no_index_lines`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

from lockgen.httpclient import HttpSettings
from lockgen.secrets import strip_credentials

__all__ = ["candidate_names", "close_names", "no_index_lines", "suggestion_lines"]

PYPI_SIMPLE = "https://pypi.org/simple"
MAX_LISTING_BYTES = 2 * 1024 * 1024
TIMEOUT_S = 5.0
CHECK_BUDGET_S = 10.0
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?")
_ANCHOR = re.compile(r"<a\b[^>]*>\s*([^<\s]+)\s*</a>", re.IGNORECASE)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def candidate_names(tables: Iterable[object], extra: Iterable[str] = ()) -> set[str]:
    """Canonical PyPI names found in mapping tables (``{conda: [pypi, ...] | None}``) and ``extra``."""
    from lockgen.pypi.mapping import snapshot_table

    found = {_canonical(n) for n in extra}
    for table in [*tables, snapshot_table("conda-forge"), snapshot_table("pytorch")]:
        if not isinstance(table, dict):
            continue
        for names in table.values():
            found.update(_canonical(n) for n in names or () if isinstance(n, str))
    return {n for n in found if _NAME.fullmatch(n)}


def close_names(name: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """The candidates closest to ``name`` (difflib's ratio, at least 0.8), best first."""
    wanted = _canonical(name)
    return list(difflib.get_close_matches(wanted, sorted(set(candidates) - {wanted}), n=n, cutoff=0.8))


def _listing(index: str, http: HttpSettings) -> list[str]:
    """The project names an index lists at its root, when the listing is small; [] otherwise."""
    import httpx

    from lockgen.httpclient import make_client

    if strip_credentials(index).rstrip("/") == PYPI_SIMPLE:
        return []  # about 40 MB: never fetched for a hint
    try:
        with (
            make_client(http, timeout=min(TIMEOUT_S, http.timeout_s), follow_redirects=False) as client,
            client.stream("GET", index.rstrip("/") + "/", headers={"Accept": "text/html"}) as response,
        ):
            if response.status_code != 200:
                return []
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_LISTING_BYTES:
                    return []
    except (httpx.HTTPError, OSError, ValueError):
        return []
    text = body.decode("utf-8", errors="replace")
    return [c for c in (_canonical(m) for m in _ANCHOR.findall(text)) if _NAME.fullmatch(c)]


def _exists(index: str, name: str, http: HttpSettings) -> bool:
    import httpx

    from lockgen.httpclient import make_client

    try:
        with make_client(http, timeout=min(TIMEOUT_S, http.timeout_s), follow_redirects=False) as client:
            response = client.get(f"{index.rstrip('/')}/{name}/", headers={"Accept": "text/html"})
    except (httpx.HTTPError, OSError, ValueError):
        return False
    return response.status_code == 200


def suggestion_lines(
    missing: Sequence[str],
    origins: dict[str, str],
    indexes: Sequence[str],
    candidates: set[str],
    *,
    network: bool,
    http: HttpSettings | None = None,
) -> list[str]:
    """One line per name no index has: where it is written, where uv looked, and the close names
    that exist there (``environment.yml:9: `transformrs` is on no index searched (https://pypi.org/simple);
    did you mean `transformers`?``). ``network`` False (offline, ``--no-index``): the close names
    are not checked on the index. ``http``: proxies and credentials (:mod:`lockgen.httpclient`)."""
    import time

    settings = http or HttpSettings(TIMEOUT_S)

    deadline = time.monotonic() + CHECK_BUDGET_S  # a slow index delays the error message at most this much
    lines = []
    listed: set[str] = set()
    if network:
        for index in indexes:
            listed.update(_listing(index, settings))
    shown = ", ".join(strip_credentials(i) for i in indexes) or "the given package locations"
    for name in missing:
        close = close_names(name, candidates | listed)
        if network:  # checked one by one, best first, until three exist
            confirmed: list[str] = []
            for candidate in close:
                if len(confirmed) == 3 or (candidate not in listed and time.monotonic() > deadline):
                    break
                if candidate in listed or any(_exists(i, candidate, settings) for i in indexes):
                    confirmed.append(candidate)
            close = confirmed
        where = f"{origins[name]}: " if name in origins else ""
        guess = f"; did you mean {', '.join(f'`{c}`' for c in close[:3])}?" if close else "; check the name"
        lines.append(f"{where}no package named `{name}` on {shown}{guess}")
    return lines


def _folder_names(folder: str) -> set[str]:
    """The project names of the wheels and sdists in a local find-links folder (none for a URL)."""
    from pathlib import Path

    from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

    path = Path(folder)
    if "://" in folder or not path.is_dir():
        return set()
    names = set()
    for file in path.iterdir():
        try:
            if file.name.endswith(".whl"):
                names.add(_canonical(parse_wheel_filename(file.name)[0]))
            elif file.name.endswith((".tar.gz", ".zip")):
                names.add(_canonical(parse_sdist_filename(file.name)[0]))
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
    return names


def no_index_lines(
    missing: Sequence[str], origins: dict[str, str], find_links: Sequence[str], shown: Sequence[str], no_index_at: str
) -> list[str]:
    """One line per name uv did not find with ``--no-index`` (written at ``no_index_at``): it looked
    only in the ``find_links`` locations (``shown``: as the message names them), so the close names
    are those of the files there."""
    cause = f"`--no-index` ({no_index_at}) turns the package index off" if no_index_at else "`--no-index` is set"
    folders: set[str] = set()
    for location in find_links:
        folders |= _folder_names(location)
    lines = []
    for name in missing:
        where = f"{origins[name]}: " if name in origins else ""
        if not find_links:
            lines.append(
                f"{where}no package named `{name}`: {cause} and the pip section names no --find-links location,"
                f" so only what conda installs is there; add `--find-links DIR` with a wheel of {name},"
                " or remove --no-index"
            )
            continue
        close = close_names(name, folders)
        plural = "s" if len(shown) > 1 else ""
        guess = (
            f"; did you mean {', '.join(f'`{c}`' for c in close[:3])}?"
            if close
            else f"; add a wheel of {name} there, or remove --no-index"
        )
        lines.append(
            f"{where}no package named `{name}` in the --find-links location{plural} {', '.join(shown)}: {cause}{guess}"
        )
    return lines
