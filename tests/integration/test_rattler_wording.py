"""The installed py-rattler, run on unsolvable requests and failing downloads: lockgen's parsers must
read what it says.

rattler's explanation of an unsolvable request is human text that lockgen reads
(lockgen/conda/diagnose.py, lockgen/conda/explanation.py). A py-rattler that changes its wording
fails here, with the scenario and its output in the message; then record it and adapt the
parsers (docs/architecture.md, "py-rattler versions"). Each scenario builds its own channels in a
tmp dir and solves in a child process (tests/support/rattler_wording.py); each fetch scenario serves
a channel that fails one way on 127.0.0.1 (tests/support/rattler_fetch_wording.py).
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.support import rattler_fetch_wording as fetch
from tests.support.pyproject import dependency
from tests.support.rattler_wording import DATA, SCENARIOS, problems, recorded, run
from tests.unit.test_rattler_output import RECORDED


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_installed_rattler_output_is_read(scenario: str, tmp_path: Path) -> None:
    output = run(scenario, tmp_path)
    assert problems(scenario, output.text) == [], f"py-rattler {output.rattler}, scenario {scenario}:\n{output.text}"
    assert SCENARIOS[scenario].says in output.message.splitlines(), output.message
    if output.rattler in RECORDED:  # else the test below fails
        assert output.text == recorded(scenario, output.rattler), (
            f"py-rattler {output.rattler} says otherwise than {DATA.name}/{output.rattler}/{scenario}.txt"
            " (the scenario changed? record it again)"
        )


@pytest.mark.parametrize("scenario", sorted(fetch.FETCH_SCENARIOS))
def test_the_installed_rattlers_fetch_errors_are_read(scenario: str, tmp_path: Path) -> None:
    if not fetch.can_run(scenario):
        pytest.skip(f"{scenario}: this machine cannot set it up (no `openssl` command)")
    output = fetch.run(scenario, tmp_path)
    assert fetch.problems(scenario, output.text) == [], f"py-rattler {output.rattler}, scenario {scenario}"
    assert fetch.FETCH_SCENARIOS[scenario].says in output.message.splitlines(), output.message
    if output.rattler in RECORDED and sys.platform.startswith("linux"):  # an OS error's number is the OS's
        assert output.text == fetch.recorded(scenario, output.rattler), (
            f"py-rattler {output.rattler} says otherwise than {DATA.name}/{output.rattler}/fetch/{scenario}.txt"
            " (the scenario changed? record it again)"
        )


def test_the_installed_rattler_is_one_whose_output_is_recorded() -> None:
    installed = version("py-rattler")
    assert installed in dependency("py-rattler").specifier
    assert installed in RECORDED, (
        f"py-rattler {installed}: no recording in tests/data/rattler-output"
        " (record one: docs/architecture.md, 'py-rattler versions')"
    )
