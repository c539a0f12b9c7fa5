"""The environment file's memo is kept and read only in a cache folder outside the project of every
file read: with ``-f base.yml -f ../pr/gpu.yml`` the second file has a project of its own, which a pull
request fills, and a memo committed there must not choose what that file is read as."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lockgen.config import build_options
from lockgen.plan import env_memo_dir, plan
from lockgen.spec.document import parse_env_text
from lockgen.spec.memo import MEMO_DIR, load, memo_path, store
from tests.support.options import flags

BASE = "channels: [conda-forge]\nplatforms: [linux-64]\ndependencies:\n  - python=3.11\n"
PR = "dependencies:\n  - numpy\n  - evil-package\n"


def test_a_memo_in_the_second_files_project_is_not_read(tmp_path: Path) -> None:
    base, pr = tmp_path / "base", tmp_path / "checkout"
    base.mkdir()
    (pr / ".git").mkdir(parents=True)  # the pull request's work tree
    (base / "environment.yml").write_text(BASE)
    gpu = pr / "gpu.yml"
    gpu.write_text(PR)
    cache = pr / ".cache"  # as CI keeps its cache in the work tree
    files = [base / "environment.yml", gpu]
    options = build_options(files, flags(output_dir=tmp_path / "locks", cache_dir=cache))
    assert env_memo_dir(options) is None

    # The memo the pull request commits: its file read as if it asked for numpy only.
    forged = parse_env_text("dependencies:\n  - numpy\n", str(gpu))
    store(cache / "envfile" / MEMO_DIR, str(gpu), PR, forged)
    assert [d.name for d in plan(options).spec.dependencies] == ["python", "numpy", "evil-package"]

    outside = tmp_path / "user-cache"  # a cache outside both projects keeps memos
    trusted = build_options(files, flags(output_dir=tmp_path / "locks", cache_dir=outside))
    assert env_memo_dir(trusted) == outside / "envfile" / MEMO_DIR


def test_a_memo_folder_linked_into_the_project_is_not_read(tmp_path: Path) -> None:
    """The cache folder is outside the project, but its ``envfile`` folder is a link into it: the
    memos would be read from where the pull request commits them."""
    project = tmp_path / "checkout"
    (project / ".git").mkdir(parents=True)
    env = project / "environment.yml"
    env.write_text(BASE + "  - evil-package\n")
    cache = tmp_path / "user-cache"
    cache.mkdir()
    (cache / "envfile").symlink_to(project / "committed", target_is_directory=True)
    options = build_options([env], flags(output_dir=project / "locks", cache_dir=cache))
    assert env_memo_dir(options) is None
    forged = parse_env_text(BASE, str(env))
    store(project / "committed" / MEMO_DIR, str(env), env.read_text(), forged)
    assert [d.name for d in plan(options).spec.dependencies] == ["python", "evil-package"]


def test_a_cache_folder_that_is_a_loop_of_links_keeps_no_memo(tmp_path: Path) -> None:
    """``--cache-dir`` a link to itself: ``check`` needs the cache only for the memo, and read the file
    itself before the memo; resolving the folder raised (an internal error, exit 1)."""
    project = tmp_path / "project"
    project.mkdir()
    env = project / "environment.yml"
    env.write_text(BASE)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    options = build_options([env], flags(output_dir=project / "locks", cache_dir=loop))
    assert env_memo_dir(options) is None
    assert [d.name for d in plan(options).spec.dependencies] == ["python"]


def test_a_memo_in_the_project_lockgen_runs_in_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout without ``.git`` (an exported tree, a container build), locked from its root with an
    environment file in a folder of its own: the cache folder given inside the checkout is outside
    that file's folder, but inside the project lockgen runs in, which the pull request fills."""
    checkout = tmp_path / "checkout"
    (checkout / "envs").mkdir(parents=True)
    (checkout / "environment.yml").write_text(BASE)
    gpu = checkout / "envs" / "gpu.yml"
    gpu.write_text(BASE + "  - evil-package\n")
    monkeypatch.chdir(checkout)
    options = build_options([Path("envs/gpu.yml")], flags(output_dir=Path("locks"), cache_dir=Path(".cache")))
    assert env_memo_dir(options) is None
    store(Path(".cache/envfile") / MEMO_DIR, "envs/gpu.yml", gpu.read_text(), parse_env_text(BASE, "envs/gpu.yml"))
    assert [d.name for d in plan(options).spec.dependencies] == ["python", "evil-package"]

    (checkout / "environment.yml").unlink()  # a folder that is no project: its cache is the user's choice
    (checkout / ".git").mkdir()  # ... unless it is a git work tree
    assert env_memo_dir(options) is None
    (checkout / ".git").rmdir()
    assert env_memo_dir(options) is not None
    (checkout / "pyproject.toml").write_text('[project]\nname = "x"\n')  # any Python project, unparsed
    assert env_memo_dir(options) is None


def _kept(tmp_path: Path) -> tuple[Path, Path, Path]:
    env = tmp_path / "environment.yml"
    env.write_text(BASE)
    memo_dir = tmp_path / "cache" / "envfile" / MEMO_DIR
    store(memo_dir, str(env), BASE, parse_env_text(BASE, str(env)))
    return env, memo_dir, memo_path(memo_dir, str(env), BASE)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="no file owners here")
def test_a_memo_others_may_write_is_not_read(tmp_path: Path) -> None:
    """A cache folder shared with others (group- or world-writable): a memo they may rewrite, or one
    they wrote, is not read; the memos lockgen writes are writable by their owner only."""
    env, memo_dir, path = _kept(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600 & ~_umask()  # and readable by them only: test_memo_secrets.py
    assert load(memo_dir, str(env), BASE) is not None
    for mode in (0o664, 0o646):
        path.chmod(mode)
        assert load(memo_dir, str(env), BASE) is None
    path.chmod(0o644)
    assert load(memo_dir, str(env), BASE) is not None
    if os.geteuid() == 0:  # only root can give a file to another user
        os.chown(path, 12345, -1)
        assert load(memo_dir, str(env), BASE) is None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_writing_a_memo_never_follows_a_link(tmp_path: Path) -> None:
    """Another user of a shared cache folder puts a link where lockgen writes its temporary file: the
    file it leads to is left as it was (the memo is not written this time)."""
    env = tmp_path / "environment.yml"
    env.write_text(BASE)
    memo_dir = tmp_path / "cache"
    memo_dir.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    path = memo_path(memo_dir, str(env), BASE)
    (memo_dir / f"{path.stem}.tmp{os.getpid()}").symlink_to(victim)
    store(memo_dir, str(env), BASE, parse_env_text(BASE, str(env)))
    assert victim.read_text() == "mine\n"
    assert (memo_dir / f"{path.stem}.tmp{os.getpid()}").is_symlink()  # not lockgen's: left there


def test_a_memo_renamed_to_another_texts_name_is_not_read(tmp_path: Path) -> None:
    """Another user of a shared cache folder (or anyone who can write in it) renames or links the memo
    of one text to the name of another's: what the first text parsed to is not the second's."""
    env, memo_dir, genuine = _kept(tmp_path)
    changed = BASE + "  - evil-package\n"
    forged = memo_path(memo_dir, str(env), changed)
    os.link(genuine, forged)
    assert load(memo_dir, str(env), BASE) is not None
    assert load(memo_dir, str(env), changed) is None


def test_finding_the_project_lockgen_runs_in_parses_no_pyproject(tmp_path: Path) -> None:
    """A pyproject.toml in the working folder counts without being read: parsing it would import
    tomllib (~3 ms) on every no-op, which the memo is there to spare."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n')
    script = (
        "import sys\nfrom pathlib import Path\nfrom lockgen.project import memo_allowed\n"
        "print(memo_allowed(Path('cache'), Path('envs/environment.yml')), 'tomllib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
