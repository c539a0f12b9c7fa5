"""``<cache>/explanations/`` stays bounded: writing an explanation keeps the newest
:data:`KEEP_EXPLANATIONS` younger than :data:`KEEP_EXPLANATION_DAYS` days, and removes nothing
lockgen did not write there (other names, links, folders, a folder that is a link)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from lockgen.conda.explanation import KEEP_EXPLANATION_DAYS, KEEP_EXPLANATIONS, keep_explanation

DAY = 86400.0


def _written(folder: Path, index: int, age_s: float) -> Path:
    path = folder / f"solve-{index:016x}.txt"
    path.write_text(f"explanation {index}\n")
    moment = time.time() - age_s
    os.utime(path, (moment, moment))
    return path


def test_the_newest_are_kept_and_nothing_else_is_touched(tmp_path: Path) -> None:
    folder = tmp_path / "explanations"
    folder.mkdir()
    total = KEEP_EXPLANATIONS + 5
    earlier = [_written(folder, i, (total - i) * 60.0) for i in range(total)]  # the last one is the newest
    stale = _written(folder, 999, (KEEP_EXPLANATION_DAYS + 1) * DAY)
    outside = tmp_path / "mine.txt"
    outside.write_text("not lockgen's\n")
    link = folder / f"solve-{'a' * 16}.txt"
    link.symlink_to(outside)
    (folder / f"solve-{'b' * 16}.txt").mkdir()
    others = [folder / "notes.txt", folder / "solve-XYZ.txt", folder / f"solve-{'c' * 17}.txt"]
    for other in others:
        other.write_text("not lockgen's\n")
    os.utime(others[0], (0, 0))  # however old

    new = keep_explanation("the solver's whole explanation", tmp_path)

    assert new is not None and new.read_text() == "the solver's whole explanation\n"
    left = sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink() and p not in others)
    assert left == sorted([new, *earlier[-(KEEP_EXPLANATIONS - 1) :]])
    assert not stale.exists()
    assert link.is_symlink() and outside.read_text() == "not lockgen's\n"
    assert (folder / f"solve-{'b' * 16}.txt").is_dir()
    assert all(other.is_file() for other in others)


def test_an_old_explanation_written_again_counts_as_new(tmp_path: Path) -> None:
    first = keep_explanation("same text", tmp_path)
    assert first is not None
    os.utime(first, (0, 0))
    for i in range(KEEP_EXPLANATIONS + 2):
        _written(first.parent, i, 60.0)
    again = keep_explanation("same text", tmp_path)
    assert again == first and first.is_file()
    assert len(list(first.parent.iterdir())) == KEEP_EXPLANATIONS


def test_a_stale_partial_write_goes_and_a_linked_folder_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "explanations"
    folder.mkdir()
    partial = folder / f".solve-{'d' * 16}.txt.tmp"
    partial.write_text("half")
    os.utime(partial, (0, 0))
    fresh = folder / f".solve-{'e' * 16}.txt.tmp"  # another run is writing it now
    fresh.write_text("half")
    keep_explanation("x", tmp_path)
    assert not partial.exists() and fresh.exists()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    old = [_written(elsewhere, i, (KEEP_EXPLANATION_DAYS + 1) * DAY) for i in range(3)]
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "explanations").symlink_to(elsewhere)
    keep_explanation("y", cache)
    assert all(p.exists() for p in old)
