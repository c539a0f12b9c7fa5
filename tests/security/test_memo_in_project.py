"""A memo a pull request commits never chooses what lockgen reads its inputs as.

lockgen keeps what an environment file parsed to (lockgen.spec.memo) and what the conda→PyPI mapping
answered (lockgen.pypi.mapping) in its cache folder, and trusts them as it trusts the rest of that
cache. So it keeps and reads them only when the cache folder is outside the project: a cache folder
inside it (``--cache-dir`` pointing there, or ``[tool.lockgen] cache-dir``, which must be inside) may
hold a folder the pull request committed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lockgen.plan import env_memo_dir
from lockgen.review.check import check
from lockgen.spec.memo import memo_path
from tests.faults.figures import count
from tests.security.conftest import options


def _forge(project: Path, genuine: Path, memo_dir: Path) -> None:
    """The pull request's memo: the genuine memo of the old text, filed under the new text's name (and
    naming it inside, as the key is no secret)."""
    env = project / "environment.yml"
    forged = memo_path(memo_dir, str(env), env.read_text())
    forged.parent.mkdir(parents=True, exist_ok=True)
    memo = json.loads(genuine.read_text())
    forged.write_text(json.dumps({**memo, "key": forged.stem}))


def test_a_memo_committed_in_the_project_is_not_read(
    project: Path, channel_root: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)  # as CI runs it
    env = project / "environment.yml"
    outside = tmp_path_factory.mktemp("user-cache")
    trusted = options(project, channel_root, cache_dir=outside)
    memo_dir = env_memo_dir(trusted)
    assert memo_dir is not None and outside in memo_dir.parents
    assert check(trusted).stale == ()  # up to date, and the old text's memo kept
    (genuine,) = memo_dir.glob("*.json")

    env.write_text(env.read_text().replace("  - pip\n", "  - pip\n  - pydata\n"))  # added, not locked
    inside = options(project, channel_root)  # --cache-dir project/cache
    assert env_memo_dir(inside) is None
    _forge(project, genuine, project / "cache" / "envfile" / memo_dir.name)
    stale = check(inside).stale
    assert [s.reason for s in stale] == ["specs"] * 2 and "`pydata` added" in stale[0].detail, stale

    (project / "pyproject.toml").write_text('[tool.lockgen]\ncache-dir = "prcache"\n')
    from_pyproject = options(project, channel_root, cache_dir=None)
    assert from_pyproject.cache_dir.name == "prcache" and env_memo_dir(from_pyproject) is None
    _forge(project, genuine, project / "prcache" / "envfile" / memo_dir.name)
    assert [s.reason for s in check(from_pyproject).stale] == ["specs"] * 2
    count("hostile review inputs refused")

    # The same forged file in lockgen's own cache would be believed: the rule above is what stops it.
    _forge(project, genuine, memo_dir)
    assert check(trusted).stale == ()
