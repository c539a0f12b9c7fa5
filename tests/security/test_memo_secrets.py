"""The environment file's memo holds what the file says, credentials included (a channel's ``/t/<token>/``,
an index URL's ``user:password@``): it is readable by its owner only, as the environment file a user
keeps private (mode 600) is, even where the cache folder is readable by all (``~/.cache`` is 755 on
many systems, and a folder set with ``LOCKGEN_CACHE_DIR`` may be shared)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from lockgen.config import build_options
from lockgen.plan import env_memo_dir, plan
from lockgen.spec.memo import load, memo_path
from tests.support.options import flags

SECRET_ENV = """\
channels:
  - https://conda.anaconda.org/t/tk-0123456789abcdef/conda-forge
platforms: [linux-64]
dependencies:
  - python=3.11
  - pip
  - pip:
    - --extra-index-url https://alice:s3cr3t-passw0rd@pypi.example.com/simple
    - requests
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_a_memo_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    env = project / "environment.yml"
    env.write_text(SECRET_ENV)
    env.chmod(0o600)
    cache = tmp_path / "cache"
    options = build_options([env], flags(output_dir=project / "locks", cache_dir=cache))
    memo_dir = env_memo_dir(options)
    assert memo_dir is not None
    old = os.umask(0o022)  # the usual umask: files others may read unless lockgen says otherwise
    try:
        plan(options)
    finally:
        os.umask(old)
    memo = memo_path(memo_dir, str(env), SECRET_ENV)
    assert b"s3cr3t-passw0rd" in memo.read_bytes()  # the memo holds the credentials: hence the mode
    assert stat.S_IMODE(memo.stat().st_mode) & 0o077 == 0, oct(memo.stat().st_mode)
    assert load(memo_dir, str(env), SECRET_ENV) == plan(options).spec  # and it is still read
