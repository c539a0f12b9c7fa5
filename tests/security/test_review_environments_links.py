"""With ``[tool.lockgen.environments]``, a pull request commits ``locks/gpu`` as a symbolic link to a
folder outside the project (issue 18 item 6, for the per-environment folders; found by trying it).

Before: ``check`` read the outside folder and said up to date, ``verify`` checked it, and ``install
-e gpu`` would have installed from it. Now every command refuses an environment's lock folder that
leaves the project through a link (exit 2), as it already did for ``locks`` itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.faults.figures import count
from tests.support.channel import ChannelBuilder, serve_directory
from tests.support.cli import invoke_lockgen

ENV = "name: a\nchannels: [testchan]\nplatforms: [linux-64]\ndependencies:\n  - app {version}\n"


def test_an_environment_lock_folder_linked_out_of_the_project_is_refused(tmp_path: Path) -> None:
    conda = ChannelBuilder(tmp_path / "channels" / "testchan", subdirs=("noarch", "linux-64"))
    conda.add("app", "1.0", build="h0_0", subdir="linux-64")
    conda.add("app", "2.0", build="h0_0", subdir="linux-64")
    conda.write()
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.lockgen.environments]\ngpu = { file = "environment.yml" }\n')
    outside = tmp_path / "outside"
    with serve_directory(tmp_path / "channels") as channel:

        def run(*args: str | Path) -> tuple[int, str]:
            mirror = f"https://conda.anaconda.org={channel.url}"
            done = invoke_lockgen(*args, "--mirror", mirror, "--cache-dir", tmp_path / "cache", cwd=project)
            return done.returncode, done.stdout + done.stderr

        # a pristine copy of the locks for app 2.0 sits outside; the PR moves the environment to it
        (project / "environment.yml").write_text(ENV.format(version="2.0"))
        assert run("lock")[0] == 0
        shutil.copytree(project / "locks" / "gpu", outside / "gpu")
        (project / "environment.yml").write_text(ENV.format(version="1.0"))
        assert run("lock")[0] == 0
        shutil.rmtree(project / "locks" / "gpu")
        (project / "environment.yml").write_text(ENV.format(version="2.0"))
        (project / "locks" / "gpu").symlink_to(outside / "gpu", target_is_directory=True)

        for command in (("check",), ("verify",), ("install", "-e", "gpu", "--prefix", tmp_path / "env")):
            code, output = run(*command)
            assert code == 2, (command, output)
            assert "locks/gpu resolves to" in output and "outside the project, through a symbolic link" in output
            assert f"-o {outside}" in output  # the hint names the folder that holds gpu/
            count("hostile inputs refused" if command[0] == "install" else "hostile review inputs refused")
        assert not (tmp_path / "env").exists()
