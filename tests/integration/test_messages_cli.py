"""The messages for mistakes people make, through the real CLI: each names the place and the fix
and fits one screen (at most 25 lines of stderr)."""

from __future__ import annotations

import pytest

from tests.integration.test_pip_local_index import World, world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow
SCREEN = 25


def test_a_pypi_typo_gets_its_line_and_did_you_mean_said_once_for_every_platform(world: World) -> None:  # noqa: F811
    world.write_env(["appa", "appdd>=1.0"])
    result = world.lock()
    assert result.returncode == 7, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: environment.yml:11: no package named `appdd` on {world.index_url}; did you mean `appd`?"
    assert "linux-64, osx-64, win-64: the pip section cannot be resolved" in result.stderr
    assert result.stderr.count("the pip section cannot be resolved") == 1
    assert len(lines) <= SCREEN
