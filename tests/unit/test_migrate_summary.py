"""``lock --from``'s summary reads one :class:`PlatformOutcome` per target platform (issue 24 item 7)."""

from __future__ import annotations

from lockgen.frompins import PreviousPins
from lockgen.lockfiles import ExplicitEntry, ExplicitLock
from lockgen.migrate import PlatformOutcome, SolveFacts, summarize
from lockgen.models import LockedPackage

CHANNEL = "https://conda.anaconda.org/conda-forge"


def _url(platform: str, name: str, version: str) -> str:
    return f"{CHANNEL}/{platform}/{name}-{version}-h0_0.conda"


def _seed(platform: str, *packages: tuple[str, str]) -> ExplicitLock:
    entries = tuple(ExplicitEntry(_url(platform, n, v), None, None, i) for i, (n, v) in enumerate(packages, 1))
    return ExplicitLock(platform, None, entries, ())


def _solved(platform: str, *packages: tuple[str, str]) -> tuple[LockedPackage, ...]:
    return tuple(LockedPackage(n, v, "h0_0", platform, _url(platform, n, v)) for n, v in packages)


def test_each_outcome_is_summarized_for_its_own_platform() -> None:
    pins = PreviousPins(
        "conda-lock.yml",
        {
            "linux-64": _seed("linux-64", ("numpy", "1.26.4"), ("python", "3.11.9")),
            "osx-64": _seed("osx-64", ("numpy", "1.26.4")),
            "win-64": _seed("win-64", ("numpy", "1.26.4")),
        },
        {},
        {},
    )
    specs = SolveFacts(specs=(("numpy>=2", "environment.yml:5"),))
    outcomes = [
        PlatformOutcome("linux-64", _solved("linux-64", ("numpy", "2.0.0"), ("python", "3.11.9")), specs),
        PlatformOutcome("osx-64", None),  # not solved this run (a failed solve summarizes the others)
    ]
    lines = summarize(pins, outcomes, None, listed=("linux-64", "osx-64"))
    assert lines == (
        "started from conda-lock.yml:",
        "linux-64: 1 of 2 conda pins kept (1 moved)",
        "  moved numpy 1.26.4 h0_0 -> 2.0.0 h0_0: environment.yml:5 `numpy>=2` excludes it",
        "not locked: win-64 (in conda-lock.yml but not a target; add them to `platforms:` in environment.yml or"
        " [tool.lockgen], or pass -p)",
        "kept 1 of 2 pins (50%)",
    )
