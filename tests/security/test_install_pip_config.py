"""Audit finding 2: ``install``'s pip step ran its installer in the project, so a pull request steered it
with files no ``lockgen diff`` shows: ``[tool.uv] index-url`` in pyproject.toml or a ``uv.toml`` sent uv
to the PR's host, and a ``pip/`` folder at the project's root was what ``python -m pip`` imported.

The installer now runs in an empty folder of its own with ``UV_NO_CONFIG=1`` and ``PIP_CONFIG_FILE``
set to the null device: it fetches only from the lock's reviewed index lines (and the user's own
environment variables), and runs only the environment's own pip."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.faults.figures import count
from tests.integration.test_install_with_pip import World, conda_part_installed, world  # noqa: F401  (the fixture)
from tests.support.channel import serve_directory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the test channel is linux-64")


def _prefix_with_conda_part(world: World) -> Path:  # noqa: F811
    locked = world.run("lock", "-p", "linux-64")
    assert locked.returncode == 0, locked.stderr
    return conda_part_installed(world)


@pytest.mark.parametrize("where", ["pyproject.toml", "uv.toml"])
def test_a_pull_requests_uv_settings_do_not_steer_the_pip_step(world: World, tmp_path: Path, where: str) -> None:  # noqa: F811
    prefix = _prefix_with_conda_part(world)
    (tmp_path / "pr-host").mkdir()
    with serve_directory(tmp_path / "pr-host") as pr_host:
        # the pull request: settings uv would find in the folder it runs in (not in any lock file)
        settings = f'index-url = "{pr_host.url}/simple"\nextra-index-url = ["{pr_host.url}/x"]\n'
        with (world.root / where).open("a") as file:
            file.write(("[tool.uv]\n" if where == "pyproject.toml" else "") + settings)
        checked = world.run("check", "-p", "linux-64")  # nothing the review reads changed
        assert checked.returncode == 0, checked.stdout + checked.stderr
        installed = world.run("install", "-p", "linux-64", "--prefix", str(prefix))
        assert installed.returncode == 0, installed.stdout + installed.stderr
        assert pr_host.requests == [], pr_host.requests
    assert "installed locks/requirements.txt with uv" in installed.stdout
    assert world.index.requests, "the lock's own index served the pins"
    count("hostile inputs refused")


def test_python_m_pip_does_not_import_a_pip_folder_from_the_project(world: World) -> None:  # noqa: F811
    prefix = _prefix_with_conda_part(world)
    marker = world.root.parent / f"{world.root.name}-pip-ran"
    (world.root / "pip").mkdir()  # the pull request's own `pip` package, at the project's root
    (world.root / "pip" / "__init__.py").write_text("")
    planted = f"from pathlib import Path\nPath({str(marker)!r}).write_text('x')\n"
    (world.root / "pip" / "__main__.py").write_text(planted)
    world.run("install", "-p", "linux-64", "--prefix", str(prefix), "--pip-installer", "pip")
    # the environment's pip here is a stand-in without __main__, so the step fails; what matters is whose ran
    assert not marker.exists(), "install ran the project's pip/__main__.py"
    count("hostile inputs refused")
