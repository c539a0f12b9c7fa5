"""Hostile channels and projects built in a tmp dir for the security tests.

A channel here is a directory of hand-written ``repodata.json`` files (no archives: ``lock`` never
downloads packages), used through ``--mirror`` so the locks name the canonical
``https://conda.anaconda.org/<channel>`` URLs.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.support.cli import run_lockgen

CHANNEL = "hostchan"
CANONICAL = f"https://conda.anaconda.org/{CHANNEL}"


def record(name: str, version: str = "1.0", subdir: str = "linux-64", **extra: Any) -> dict[str, Any]:
    """A repodata record with plausible hashes (unique per package)."""
    digest = hashlib.sha256(f"{name}-{version}-{subdir}".encode()).hexdigest()
    data: dict[str, Any] = {
        "name": name,
        "version": version,
        "build": "h0_0",
        "build_number": 0,
        "depends": [],
        "subdir": subdir,
        "md5": digest[:32],
        "sha256": digest,
        "size": 100,
        "timestamp": 1_700_000_000_000,
    }
    data.update(extra)
    return data


def write_channel(
    root: Path,
    packages: dict[str, dict[str, Any]],
    *,
    subdir: str = "linux-64",
    info: dict[str, Any] | None = None,
    raw: bytes | None = None,
    name: str = CHANNEL,
) -> Path:
    """``root/hostchan`` with ``packages`` (file name → record) in ``subdir`` and an empty noarch;
    ``raw`` replaces the subdir's repodata.json bytes."""
    chan = root / name
    for sub in ("noarch", subdir):
        (chan / sub).mkdir(parents=True, exist_ok=True)
        body: dict[str, Any] = {"info": {"subdir": sub, **(info or {})}, "packages": {}, "packages.conda": {}}
        if sub == subdir:
            body["packages"] = packages
        (chan / sub / "repodata.json").write_text(json.dumps(body))
    if raw is not None:
        (chan / subdir / "repodata.json").write_bytes(raw)
    return chan


def lock(
    project: Path, channel_root: Path, *args: str, env_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``lockgen lock -p linux-64`` in ``project`` with the channel served from ``channel_root``."""
    if env_text is not None:
        (project / "environment.yml").write_text(env_text)
    return run_lockgen(
        "lock", "-p", "linux-64", "--mirror", f"https://conda.anaconda.org={channel_root}",
        "--cache-dir", project / "cache", *args, cwd=project, timeout=120,
    )  # fmt: skip


def env(*deps: str, pip: tuple[str, ...] | None = None) -> str:
    text = f"channels:\n  - {CHANNEL}\ndependencies:\n" + "".join(f"  - {d}\n" for d in deps)
    if pip is not None:
        text += "  - pip:\n" + "".join(f"    - {p}\n" for p in pip)
    return text


def lock_texts(project: Path) -> str:
    locks = project / "locks"
    return "".join(p.read_text(errors="replace") for p in sorted(locks.glob("*"))) if locks.is_dir() else ""


def dumps(data: object) -> str:
    return json.dumps(data)
