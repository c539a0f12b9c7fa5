"""py-rattler's recorded explanations, read by lockgen's parsers: every supported version, every scenario.

``tests/data/rattler-output/<version>/<scenario>.txt`` is what that py-rattler said (``str()`` of its
SolverError) in :mod:`tests.support.rattler_wording`'s scenarios, solved through lockgen's adapter.
The installed py-rattler is checked live by ``tests/integration/test_rattler_wording.py``;
docs/architecture.md ("py-rattler versions") says how to record a new version.
"""

from __future__ import annotations

import pytest
from packaging.version import Version

from lockgen.conda.explanation import NoSolution
from tests.support.pyproject import dependency
from tests.support.rattler_wording import DATA, PLATFORM, SCENARIOS, body, problems, recorded, recorded_versions

RECORDED = recorded_versions()


@pytest.mark.parametrize("version", RECORDED)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_recorded_rattler_output_is_read(version: str, scenario: str) -> None:
    assert problems(scenario, recorded(scenario, version)) == []


@pytest.mark.parametrize("version", RECORDED)
def test_a_long_explanation_is_shown_as_its_shortest_chain(version: str) -> None:
    """More than 8 lines: the short form names how many chains there are and draws the shortest."""
    message = NoSolution(PLATFORM, [], body(recorded("several-conflict-chains", version))).message
    assert message.splitlines()[1:] == [
        "  the shortest of 4 conflict chains the solver reports:",
        "    vision >=0.15 cannot be installed because there are no viable options:",
        "    └─ vision 0.16.1 | 0.16.2 | ... | 0.20.0 would require",
        "       └─ python >=3.12,<3.13.0a0, for which no candidates were found.",
    ]


def test_the_recordings_cover_the_py_rattler_versions_lockgen_allows() -> None:
    """pyproject.toml pins py-rattler to one minor series (``==X.Y.*``): its first release is
    recorded, and no recording lies outside the pin (a wider pin, or a move to another series
    without recording it, fails here)."""
    specifier = dependency("py-rattler").specifier
    pins = [s.version for s in specifier if s.operator == "==" and s.version.endswith(".*")]
    assert len(pins) == 1 and len(specifier) == 1, f"py-rattler must be pinned as `==X.Y.*`, not {specifier}"
    first = Version(f"{pins[0].removesuffix('.*')}.0")
    assert first in {Version(v) for v in RECORDED}, f"py-rattler {first} (the lowest allowed) is not recorded"
    assert all(Version(v) in specifier for v in RECORDED), f"recorded versions outside {specifier}: {RECORDED}"


def test_every_recording_is_complete() -> None:
    for version in RECORDED:
        assert sorted(p.stem for p in (DATA / version).glob("*.txt")) == sorted(SCENARIOS), version
