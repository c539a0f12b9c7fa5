"""[tool.lockgen.environments]: which environment ``lock --from``/``--conda-lock-file`` are for, and a
group's members agreeing on the options that shape its one solve (each mistake exit 2, with the fix)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from lockgen.environments import EnvTarget, adopting, check_group_options, environment_targets
from lockgen.errors import ConfigError
from lockgen.flags import Flags, LockFlags

TABLE = '[tool.lockgen.environments]\nold = { file = "environment.yml" }\n'
GROUPED = 'a = { file = "environment.yml", group = "g" }\nb = { file = "environment.yml", group = "g" }\n'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "environment.yml").write_text("channels: [conda-forge]\ndependencies: [python]\n")
    (tmp_path / "pyproject.toml").write_text(TABLE + 'new = { file = "environment.yml" }\n' + GROUPED)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _targets(flags: Flags, names: tuple[str, ...]) -> tuple[EnvTarget, ...]:
    targets = environment_targets((), flags, names, whole_groups=True)
    assert targets is not None
    return targets


def _refusal(flags: Flags, names: tuple[str, ...]) -> str:
    with pytest.raises(ConfigError) as caught:
        adopting(_targets(flags, names), flags, names)
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_without_from_or_conda_lock_file_every_environment_is_locked(project: Path) -> None:
    assert adopting(_targets(Flags(), ()), Flags(), ()) is None


def test_from_is_for_the_one_environment_e_names(project: Path) -> None:
    flags = Flags(lock=LockFlags(from_lock=Path("conda-lock.yml"), conda_lock_file=Path("old-lock.yml")))
    found = adopting(_targets(flags, ("old",)), flags, ("old",))
    assert found is not None and found.name == "old"
    assert found.options.output_dir == Path("locks") / "old" and found.options.from_lock == Path("conda-lock.yml")


@pytest.mark.parametrize(("names", "offered"), [((), "old, new, a, b"), (("old", "new"), "old, new")])
def test_from_without_exactly_one_environment_is_refused(project: Path, names: tuple[str, ...], offered: str) -> None:
    message = _refusal(Flags(lock=LockFlags(from_lock=Path("conda-lock.yml"))), names)
    assert "--from is for one environment's lock" in message and f"-e NAME (one of {offered})" in message


def test_from_for_a_member_of_a_group_says_how(project: Path) -> None:
    message = _refusal(Flags(lock=LockFlags(conda_lock_file=Path("x.yml"))), ("a",))
    assert "a is locked together with its group g (a, b)" in message
    assert "pyproject.toml:4)" in message and "`lockgen lock -e a --conda-lock-file PATH`" in message


def test_conda_lock_file_in_pyproject_names_its_line(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.lockgen]\nconda-lock-file = "conda-lock.yml"\n\n' + TABLE)
    message = _refusal(Flags(), ())
    assert "pyproject.toml:2: conda-lock-file names one file" in message
    mine = Flags(lock=LockFlags(conda_lock_file=Path("mine.yml")))  # the command line's, for the one -e names
    found = adopting(_targets(mine, ("old",)), mine, ("old",))
    assert found is not None and found.options.conda_lock_file == Path("mine.yml")


def test_a_group_must_share_its_cutoff_and_channel_priority(project: Path) -> None:
    targets = _targets(Flags(), ("a",))
    check_group_options(targets)  # as locked together: one value
    cut = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
    apart = (targets[0], replace(targets[1], options=replace(targets[1].options, exclude_newer=cut)))
    with pytest.raises(ConfigError) as caught:
        check_group_options(apart)
    message = str(caught.value)
    assert "group g is solved as one" in message and "(a none; b 2024-06-01T00:00:00+00:00)" in message
    assert "`--exclude-newer none` or `--exclude-newer 2024-06-01T00:00:00+00:00`" in message
    flexible = (targets[0], replace(targets[1], options=replace(targets[1].options, channel_priority="flexible")))
    with pytest.raises(ConfigError, match="different --channel-priority"):
        check_group_options(flexible)
