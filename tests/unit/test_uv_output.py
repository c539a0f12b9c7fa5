"""uv's recorded output, read by lockgen's parsers: every supported uv version, every scenario.

``tests/data/uv-output/<version>/<scenario>.txt`` is what that uv printed (or, for ``resolved``,
wrote) in :mod:`tests.support.uv_wording`'s scenarios, run with lockgen's own arguments. The
installed uv is checked live by ``tests/integration/test_uv_wording.py``; docs/pip.md ("uv
versions") says how to record a new version.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from tests.support.pyproject import dependency
from tests.support.uv_wording import SCENARIOS, problems

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "uv-output"
RECORDED = sorted((p.name for p in DATA.iterdir() if p.is_dir()), key=Version)


@pytest.mark.parametrize("version", RECORDED)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_recorded_uv_output_is_read(version: str, scenario: str) -> None:
    text = (DATA / version / f"{scenario}.txt").read_text(encoding="utf-8")
    assert problems(scenario, text) == []


def test_the_recordings_span_the_uv_versions_lockgen_allows() -> None:
    """pyproject.toml bounds uv on both sides; its lowest allowed version is recorded, and so is a
    version of the newest minor series it allows: a range wider than what was tested fails here."""
    specifier = dependency("uv").specifier
    lower = [s.version for s in specifier if s.operator == ">="]
    upper = [s.version for s in specifier if s.operator == "<"]
    assert len(lower) == 1 and len(upper) == 1, f"uv must be bounded as `uv>=X,<Y`, not {specifier}"
    assert Version(lower[0]) in {Version(v) for v in RECORDED}, f"uv {lower[0]} (the lowest allowed) is not recorded"
    assert all(Version(v) in specifier for v in RECORDED), f"recorded versions outside {specifier}: {RECORDED}"
    newest = Version(RECORDED[-1])
    below = Version(upper[0])
    assert (newest.major, newest.minor + 1) == (below.major, below.minor), (
        f"pyproject.toml allows uv up to {below} but the newest recorded is {newest}"
    )


def test_every_recording_is_complete() -> None:
    for version in RECORDED:
        assert sorted(p.stem for p in (DATA / version).glob("*.txt")) == sorted(SCENARIOS), version
