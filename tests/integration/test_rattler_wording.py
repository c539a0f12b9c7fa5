"""The installed py-rattler, run on unsolvable requests: lockgen's parsers must read what it says.

rattler's explanation of an unsolvable request is human text that lockgen reads
(lockgen/conda/diagnose.py, lockgen/conda/explanation.py). A py-rattler that changes its wording
fails here, with the scenario and its output in the message; then record it and adapt the
parsers (docs/architecture.md, "py-rattler versions"). Each scenario builds its own channels in a
tmp dir and solves in a child process (tests/support/rattler_wording.py).
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

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


def test_the_installed_rattler_is_one_whose_output_is_recorded() -> None:
    installed = version("py-rattler")
    assert installed in dependency("py-rattler").specifier
    assert installed in RECORDED, (
        f"py-rattler {installed}: no recording in tests/data/rattler-output"
        " (record one: docs/architecture.md, 'py-rattler versions')"
    )
