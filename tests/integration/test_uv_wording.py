"""The installed uv, run on failing resolutions: lockgen's parsers must read what it prints.

uv's stderr is human text that lockgen reads (lockgen/pypi/uvstderr.py). A uv that changes its
wording fails here, with the scenario and its output in the message; then record it and adapt the
parsers (docs/pip.md, "uv versions"). Each scenario serves its own index on 127.0.0.1
(tests/support/uv_wording.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from packaging.version import Version

from lockgen.pypi.uv import find_uv
from tests.support.pyproject import dependency
from tests.support.uv_wording import SCENARIOS, problems, run, uv_version
from tests.unit.test_uv_output import RECORDED


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_installed_uv_output_is_read(scenario: str, tmp_path: Path) -> None:
    if SCENARIOS[scenario].git and shutil.which("git") is None:
        pytest.skip("needs git")
    output = run(find_uv(), scenario, tmp_path)
    assert problems(scenario, output) == [], f"uv {uv_version(find_uv())}, scenario {scenario}:\n{output}"


def test_the_installed_uv_is_one_whose_output_is_recorded() -> None:
    installed = Version(uv_version(find_uv()))
    assert installed in dependency("uv").specifier
    series = {Version(v).release[:2] for v in RECORDED}
    assert installed.release[:2] in series, (
        f"uv {installed}: no recording of its {installed.major}.{installed.minor} series in tests/data/uv-output"
        " (record one: docs/pip.md, 'uv versions')"
    )
