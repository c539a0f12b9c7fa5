"""Typed reporter events (issue 24 item 7): the core reports data, the CLI words it.

Each event reads on stderr exactly as the core's pre-formatted prose did before the events were
typed (bench/run.py and users' scripts read these lines); notes and warnings show unless --quiet,
progress only with -v (or on a terminal), a repeated note only as progress.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgen.cli.runner import StderrReporter, progress_line
from lockgen.errors import Problem
from lockgen.pipprogress import PipMapping, PipResolved, PipResolving, PipRetrying, PipUpToDate
from lockgen.progress import (
    Extracting,
    Fetching,
    Linking,
    LinkingPackage,
    PipInstalling,
    ReadingRepodata,
    RepodataNotReleased,
    Solved,
    Solving,
    SolvingInTurns,
)
from lockgen.reporting import Event, Notice

PROGRESS: list[tuple[Event, str]] = [
    (SolvingInTurns("memory budget 2 GiB"), "not every platform at once: memory budget 2 GiB"),
    (Solving("linux-64", 12), "[linux-64] solving 12 specs"),
    (Solving("train/osx-64", 3), "[train/osx-64] solving 3 specs"),
    (Solved("win-64", 87), "[win-64] 87 packages"),
    (RepodataNotReleased("osx-64", "boom"), "[osx-64] could not release repodata of osx-64: boom"),
    (ReadingRepodata(140), "reading repodata for 140 lines"),
    (
        PipMapping("parselmouth conda-forge", "ab12cd34", 90),
        "conda→PyPI names from parselmouth conda-forge: digest ab12cd34 over 90 conda packages",
    ),
    (PipUpToDate("requirements.txt"), "requirements.txt is up to date"),
    (PipResolving("linux-64", "x86_64-manylinux_2_17"), "[linux-64] resolving pip packages for x86_64-manylinux_2_17"),
    (
        PipRetrying("osx-64", ("sdep",), ("wget", "sdep")),
        "[osx-64] no wheel fits sdep: resolving again, sdists only for wget, sdep",
    ),
    (PipResolved("win-64"), "[win-64] pip packages resolved"),
    (Fetching("linux-64", 5), "[linux-64] fetching 5 packages"),
    (Extracting("linux-64", 2, 5), "[linux-64] extracting 2 and checking 5 packages"),
    (Linking("linux-64", 5, Path("/opt/env")), "[linux-64] linking 5 packages into /opt/env"),
    (LinkingPackage("linux-64", "numpy"), "[linux-64] linking numpy"),
    (LinkingPackage("linux-64", "numpy", removing=True), "[linux-64] removing numpy"),
    (
        PipInstalling("linux-64", "uv", Path("locks/requirements.txt")),
        "[linux-64] uv: installing locks/requirements.txt",
    ),
]

NOTICES: list[tuple[Problem, str]] = [
    (
        Problem("unknown top-level key `colour` (ignored)", "environment.yml", 3, "warning"),
        "environment.yml:3: warning: unknown top-level key `colour` (ignored)",
    ),
    (
        Problem("`prefix:` is ignored by lockgen", "environment.yml", 2, "note"),
        "environment.yml:2: note: `prefix:` is ignored by lockgen",
    ),
    (
        Problem("linux-64: pip wheels chosen for manylinux_2_28", severity="note"),
        "note: linux-64: pip wheels chosen for manylinux_2_28",
    ),
    (Problem("conda-lock file: index down", severity="warning"), "warning: conda-lock file: index down"),
    # an error has no label, as before
    (Problem("invalid conda spec 'x['", "e.yml", 5), "e.yml:5: invalid conda spec 'x['"),
    (Problem("no channels listed", "e.yml"), "e.yml: no channels listed"),
]


def _said(capsys: pytest.CaptureFixture[str], events: list[Event], *, quiet: bool, verbose: bool) -> list[str]:
    reporter = StderrReporter(quiet, verbose)
    for event in events:
        reporter.report(event)
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err.splitlines()


@pytest.mark.parametrize(("event", "line"), PROGRESS)
def test_each_progress_event_reads_as_before(capsys: pytest.CaptureFixture[str], event: Event, line: str) -> None:
    assert _said(capsys, [event], quiet=False, verbose=True) == [line]
    assert _said(capsys, [event], quiet=False, verbose=False) == []  # not a terminal, no -v: no progress
    assert _said(capsys, [event], quiet=True, verbose=True) == []


@pytest.mark.parametrize(("problem", "line"), NOTICES)
def test_notes_and_warnings_read_file_line_severity_message(
    capsys: pytest.CaptureFixture[str], problem: Problem, line: str
) -> None:
    assert str(problem) == line
    notice = Notice(problem, "linux-64")
    assert _said(capsys, [notice], quiet=False, verbose=False) == [line]  # shown without -v
    assert _said(capsys, [notice], quiet=True, verbose=True) == []
    again = Notice(problem, repeated=True)  # said when the file was made: progress only now
    assert _said(capsys, [again], quiet=False, verbose=False) == []
    assert _said(capsys, [again], quiet=False, verbose=True) == [line]


def test_every_event_kind_has_its_wording() -> None:
    """A new event class without a progress line fails here (the CLI's wording is one function)."""
    import typing

    from lockgen import pipprogress, progress, reporting

    names = {**vars(pipprogress), **vars(progress), **vars(reporting)}
    kinds = set(typing.get_args(eval(typing.cast(str, reporting.Event), names)))  # a string alias at run time
    worded = {type(event) for event, _ in PROGRESS} | {Notice}
    assert kinds == worded
    for event, line in PROGRESS:
        platform, words = progress_line(event)
        assert f"[{platform}] {words}" == line if platform else words == line


def test_credentials_in_an_event_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    events: list[Event] = [
        RepodataNotReleased("linux-64", "GET https://user:hunter22@example.com/x failed"),
        Notice(Problem("index https://user:hunter22@example.com/simple is slow", severity="warning")),
    ]
    said = _said(capsys, events, quiet=False, verbose=True)
    assert len(said) == 2 and not any("hunter22" in line for line in said), said
