"""conda-lock's ``content_hash``, reproduced for ``lockgen lock --conda-lock-file``.

conda-lock writes a per-platform hash of its inputs into ``conda-lock.yml`` and compares it to
decide whether a lock is stale. :func:`conda_lock_content_hash` computes it the way ``conda-lock
lock`` does, for the plain spec forms; :mod:`lockgen.export` writes it (or lockgen's own input hash
where it cannot be reproduced, docs/from-conda-lock.md). The file format itself is
:mod:`lockgen.lockfiles.condalock`'s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lockgen.models import PACKAGE_NAME

__all__ = ["conda_lock_content_hash"]


_VP_TIMESTAMP = 1577854800000  # conda-lock's fixed time for its virtual packages (2020-01-01)
_DEFAULT_VIRTUAL: dict[str, tuple[tuple[str, str, str], ...]] = {
    # conda-lock's default-virtual-packages.yaml: (name, version, build string)
    "linux-64": (("__unix", "0", ""), ("__linux", "5.10", ""), ("__archspec", "1", "x86_64"), ("__glibc", "2.28", "")),
    "linux-aarch64": (
        ("__unix", "0", ""),
        ("__linux", "5.10", ""),
        ("__archspec", "1", "aarch64"),
        ("__glibc", "2.28", ""),
    ),
    "linux-ppc64le": (
        ("__unix", "0", ""),
        ("__linux", "5.10", ""),
        ("__archspec", "1", "ppc64le"),
        ("__glibc", "2.28", ""),
    ),
    # osx-64 carries both __osx 10.15 and 11.0: conda-lock kept that quirk so its hashes stay stable
    "osx-64": (("__unix", "0", ""), ("__archspec", "1", "x86_64"), ("__osx", "10.15", ""), ("__osx", "11.0", "")),
    "osx-arm64": (("__unix", "0", ""), ("__archspec", "1", "arm64"), ("__osx", "11.0", "")),
    "win-64": (("__win", "0", ""), ("__archspec", "1", "x86_64")),
}
_CUDA_DEFAULT = "11.4"
_OPS = r"(?:>=|<=|>|<|!=)"
_SIMPLE_SPEC = re.compile(
    rf"^(?:(?P<channel>{PACKAGE_NAME})::)?(?P<name>{PACKAGE_NAME})\s*(?P<rest>.*)$"
)


def _virtual_repodata(platform: str, cuda: str | None) -> dict[str, object] | None:
    packages = _DEFAULT_VIRTUAL.get(platform)
    if packages is None:
        return None
    entries = list(packages)
    if platform.startswith(("linux-", "win-")):
        entries.append(("__cuda", cuda or _CUDA_DEFAULT, ""))
    found: dict[str, object] = {}
    for name, version, build_string in entries:
        build = f"{build_string}_0" if build_string else "0"  # conda-lock's "spurious build number"
        found[f"{name}-{version}-{build}.tar.bz2"] = {
            "build": build,
            "build_number": 0,
            "build_string": build_string,
            "depends": [],
            "name": name,
            "noarch": "",
            "package_type": "virtual_system",
            "subdir": platform,
            "timestamp": _VP_TIMESTAMP,
            "version": version,
        }
    return {"info": {"subdir": platform}, "packages": found}


def _conda_lock_spec(spec: str) -> dict[str, object] | None:
    """A conda spec as conda-lock serializes it for hashing; None for forms we do not normalize as conda does."""
    match = _SIMPLE_SPEC.match(spec.strip())
    if match is None:
        return None
    rest = match.group("rest").strip()
    version, build = "", None
    if not rest:
        pass
    elif m := re.fullmatch(r"==\s*(?P<v>[0-9][0-9A-Za-z_.]*)", rest):
        version = m.group("v")
    elif m := re.fullmatch(r"=\s*(?P<v>[0-9][0-9A-Za-z_.]*)(?P<star>\.\*)?(?:=(?P<b>[A-Za-z0-9_.]+))?", rest):
        version, build = m.group("v"), m.group("b")
        if build is None:
            version += ".*"
        elif m.group("star"):
            return None
    elif re.fullmatch(rf"{_OPS}\s*[0-9][0-9A-Za-z_.*]*(?:\s*,\s*{_OPS}\s*[0-9][0-9A-Za-z_.*]*)*", rest):
        version = re.sub(r"\s+", "", rest)
    elif m := re.fullmatch(r"(?P<v>[0-9][0-9A-Za-z_.]*(?:\.\*)?)(?:\s+(?P<b>[A-Za-z0-9_.]+))?", rest):
        version, build = m.group("v"), m.group("b")
    else:
        return None
    return {
        "build": build,
        "category": "main",
        "conda_channel": match.group("channel"),
        "extras": [],
        "hash": None,
        "manager": "conda",
        "name": match.group("name").lower(),
        "version": version,
    }


def conda_lock_content_hash(
    platform: str, channels: Sequence[str], specs: Sequence[str], cuda: str | None = None
) -> str | None:
    """conda-lock's ``content_hash`` for one platform, as ``conda-lock lock`` computes it, or None.

    That hash is the sha256 of a JSON document (``json.dumps(..., sort_keys=True)``) holding each
    channel as its model's JSON (``{"url": ..., "used_env_vars": []}``), each dependency as
    conda-lock's VersionedDependency (conda's MatchSpec normalization: ``python=3.11`` →
    ``3.11.*``, ``numpy==1.2`` → ``1.2``), sorted by manager and name, and the fake repodata of
    its virtual packages for the platform (default-virtual-packages.yaml, ``__cuda`` from
    ``--with-cuda``). lockgen reproduces it for conda dependencies in the plain spec forms only:
    None when a spec, a channel (credentials, environment variables) or the platform is outside
    them; the caller then writes lockgen's own input hash (docs/from-conda-lock.md).
    """
    import hashlib
    import json

    virtual = _virtual_repodata(platform, cuda)
    if virtual is None:
        return None
    serialized = []
    for spec in specs:
        item = _conda_lock_spec(spec)
        if item is None:
            return None
        serialized.append(item)
    serialized.sort(key=lambda d: (str(d["manager"]), str(d["name"])))
    channel_json = []
    for channel in channels:
        if "$" in channel or "@" in channel or "/t/" in channel or not channel.strip():
            return None
        channel_json.append(json.dumps({"url": channel, "used_env_vars": []}, separators=(",", ":")))
    content = {
        "channels": channel_json,
        "specs": serialized,
        "virtual_package_hash": {"noarch": {"info": {"subdir": "noarch"}, "packages": {}}, platform: virtual},
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()
