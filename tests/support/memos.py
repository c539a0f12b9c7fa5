"""Memo folders as a stopped run leaves them (lockgen.memofile): temporary files, old and recent."""

from __future__ import annotations

import os
from pathlib import Path

DAY_AND_MORE_NS = 25 * 3600 * 10**9


def leftover_temporaries(memo_dir: Path) -> str:
    """Two temporary files in ``memo_dir`` (made), one older than a day; the recent one's name."""
    memo_dir.mkdir(parents=True, exist_ok=True)
    old, recent = memo_dir / "0123abcd.tmp4242", memo_dir / "4567abcd.tmp4343"
    for leftover in (old, recent):
        leftover.write_text("{")
    long_ago = old.stat().st_mtime_ns - DAY_AND_MORE_NS
    os.utime(old, ns=(long_ago, long_ago))
    return recent.name


def temporaries(memo_dir: Path) -> list[str]:
    return sorted(p.name for p in memo_dir.iterdir() if ".tmp" in p.name)
