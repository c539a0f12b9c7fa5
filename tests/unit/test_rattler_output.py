"""py-rattler's recorded explanations and fetch errors, read by lockgen's parsers: every supported
version, every scenario.

``tests/data/rattler-output/<version>/<scenario>.txt`` is what that py-rattler said (``str()`` of its
SolverError) in :mod:`tests.support.rattler_wording`'s scenarios, solved through lockgen's adapter;
``<version>/fetch/<scenario>.txt`` what it said when repodata could not be fetched
(:mod:`tests.support.rattler_fetch_wording`).
The installed py-rattler is checked live by ``tests/integration/test_rattler_wording.py``;
docs/architecture.md ("py-rattler versions") says how to record a new version.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from packaging.version import Version

from lockgen.conda.diagnose import combine_failures
from lockgen.conda.explanation import SCREEN_LINES, NoSolution
from lockgen.errors import LockgenError
from lockgen.repodata.failures import fetch_reason
from tests.support import rattler_fetch_wording as fetch
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


@pytest.mark.parametrize("version", RECORDED)
def test_a_conflict_is_shown_with_both_sides_ending_where_it_fails(version: str) -> None:
    """tool needs lib <1.2, app needs lib >=1.5: the chain shown ends at the leaf saying why (lib 1.5
    conflicts with the versions reported above), drawn beside the branch it conflicts with, the
    one that picked lib 1.0. (Before: the shortest path of all, tool's branch down to `lib 1.0`,
    which can be installed: the message named neither app nor lib >=1.5.)"""
    message = NoSolution(PLATFORM, [], body(recorded("conflict-through-dependencies", version))).message
    assert message.splitlines()[1:] == [
        "  why:",
        "    The following packages are incompatible",
        "    ├─ tool * can be installed with any of the following options:",
        "    │  └─ tool 1.0 would require",
        "    │     └─ lib <1.2, which can be installed with any of the following options:",
        "    │        └─ lib 1.0",
        "    └─ app * cannot be installed because there are no viable options:",
        "       └─ app 1.0 would require",
        "          └─ lib >=1.5, which cannot be installed because there are no viable options:",
        "             └─ lib 1.5, which conflicts with the versions reported above.",
    ]


_PLATFORMS = ("linux-64", "osx-64", "win-64")


@pytest.mark.parametrize("version", RECORDED)
def test_among_several_chains_the_conflict_is_said_to_be_drawn_beside_its_other_side(version: str) -> None:
    """Two trees in one explanation (as rattler writes one per group of problems): the shorter
    conflict is shown, with the branch it conflicts with, and the header says which is which."""
    tree = "\n".join(
        body(recorded(s, version)) for s in ("conflict-through-dependencies", "conflict-deep-in-both-branches")
    )
    lines = NoSolution(PLATFORM, [], tree).message.splitlines()
    assert lines[1] == "  the shortest of 2 conflict chains the solver reports, beside what it conflicts with:"
    assert lines[2:] == [
        f"    {line}" for line in body(recorded("conflict-through-dependencies", version)).splitlines()
    ]


def _conflict_on(platform: str, version: str, hints: int = 0) -> NoSolution:
    """conflict-through-dependencies with a number per platform in every package name: a different tree each."""
    tree = body(recorded("conflict-through-dependencies", version))
    for name in ("tool", "app", "lib"):
        tree = tree.replace(f"{name} ", f"{name}{_PLATFORMS.index(platform)} ")
    return NoSolution(platform, [f"summary line {i}" for i in range(hints)], tree)


def _shown(failures: list[NoSolution]) -> dict[str, list[str]]:
    """Each platform's lines of the combined message, below its headline; the whole fits the screen."""
    error = combine_failures([(f.platforms[0], f) for f in failures])
    assert isinstance(error, LockgenError)
    lines = error.message.splitlines()
    assert len(lines) < SCREEN_LINES
    starts = [i for i, line in enumerate(lines) if line.endswith(": no solution.")] + [len(lines) + 1]
    return {lines[a].split(":")[0]: lines[a + 1 : b - 1] for a, b in pairwise(starts)}


@pytest.mark.parametrize("version", RECORDED)
def test_both_sides_of_conflicts_on_several_platforms_fit_one_screen(version: str) -> None:
    """Two platforms' different conflicts: both sides of each (with many summary lines too, their
    middles elided); three: the screen keeps each platform's chain to where it fails, its middle
    elided, without the other side."""
    two = [_conflict_on(p, version) for p in _PLATFORMS[:2]]
    for failure, (platform, lines) in zip(two, _shown(two).items(), strict=True):
        assert lines == ["  why:", *(f"    {line}" for line in failure.parts[0].tree.splitlines())], platform
    crowded = _shown([_conflict_on(p, version, hints=5) for p in _PLATFORMS[:2]])
    for n, lines in enumerate(crowded.values()):
        assert lines[2:] == [
            "  why:",
            "    The following packages are incompatible",
            f"    ├─ tool{n} * can be installed with any of the following options:",
            "    │  └─ … 2 more steps",
            f"    │     └─ lib{n} 1.0",
            f"    └─ app{n} * cannot be installed because there are no viable options:",
            "       └─ … 2 more steps",
            f"          └─ lib{n} 1.5, which conflicts with the versions reported above.",
        ]
    three = _shown([_conflict_on(p, version) for p in _PLATFORMS])
    assert list(three) == list(_PLATFORMS)
    for n, lines in enumerate(three.values()):
        assert lines == [
            "  why:",
            "    The following packages are incompatible",
            "    └─ … 3 more steps",
            f"       └─ lib{n} 1.5, which conflicts with the versions reported above.",
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
        fetched = (DATA / version / fetch.FOLDER).glob("*.txt")
        assert sorted(p.stem for p in fetched) == sorted(fetch.FETCH_SCENARIOS), version


@pytest.mark.parametrize("version", RECORDED)
@pytest.mark.parametrize("scenario", sorted(fetch.FETCH_SCENARIOS))
def test_recorded_fetch_errors_are_read(version: str, scenario: str) -> None:
    """Which URL failed and why, in words (lockgen/repodata/failures.py), from rattler's error chain."""
    assert fetch.problems(scenario, fetch.recorded(scenario, version)) == []


@pytest.mark.parametrize("version", RECORDED)
def test_a_tls_failure_is_not_read_as_corrupt_repodata(version: str) -> None:
    """rustls says `received corrupt message` when https:// meets a plain-http server; lockgen read
    "corrupt" as a corrupt compressed repodata file (and said nothing of an untrusted certificate)."""
    for scenario in ("tls-to-plain-http", "self-signed"):
        reason = fetch_reason(fetch.restore_port(fetch.recorded(scenario, version)), fetch.TIMEOUT_S, 0)
        assert "TLS" in reason and "compressed" not in reason, (scenario, reason)
