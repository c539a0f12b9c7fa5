"""The pip stage begun while conda solves (lockgen.pypi.start.PipStart): a platform's uv run starts with its
own conda solution, and the files are those lock_pip_files makes without it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from lockgen.config import LockOptions
from lockgen.errors import InputError
from lockgen.plan import pip_plan, pip_request, plan
from lockgen.pypi.stage import lock_pip_files
from lockgen.pypi.start import PipStart
from lockgen.reporting import RecordingReporter
from lockgen.secrets import SecretRegistry
from tests.unit.test_lock import PLATFORMS, FakeMapping, FakePip, env_text

CONDA = dict.fromkeys(PLATFORMS, (("python", "3.11.9"), ("numpy", "1.26.4")))


def _request(tmp_path: Path, text: str, **options: object):  # type: ignore[no-untyped-def]
    env = tmp_path / "environment.yml"
    env.write_text(text)
    settings = LockOptions(files=(env,), output_dir=tmp_path / "locks", chosen_cache_dir=tmp_path / "cache", **options)  # type: ignore[arg-type]
    return pip_request(pip_plan(plan(settings)))


def _platforms(pip: FakePip) -> list[str]:
    return [job.target.platform for job in pip.jobs]


def test_a_platform_solved_early_is_resolved_then_and_the_files_are_the_same(tmp_path: Path) -> None:
    request = _request(tmp_path, env_text(pip=("rich", "click")))
    plain = FakePip({"rich": ["13.0.0"], "click": ["8.1.0"]})
    expected = lock_pip_files(request, CONDA, RecordingReporter(), resolver=plain, mapping_source=FakeMapping())

    early = FakePip({"rich": ["13.0.0"], "click": ["8.1.0"]})
    start = PipStart(request, RecordingReporter(), SecretRegistry(), resolver=early, mapping_source=FakeMapping())
    assert start.early  # no requirements.txt yet: uv runs whatever conda gives
    start.solved("osx-64", CONDA["osx-64"])
    found = lock_pip_files(request, CONDA, RecordingReporter(), started=start)
    assert found == expected
    assert _platforms(early)[0] == "osx-64"  # resolved before the others were asked for
    assert sorted(_platforms(early)) == sorted(PLATFORMS)  # and only once


def test_an_early_run_given_other_packages_is_not_used(tmp_path: Path) -> None:
    request = _request(tmp_path, env_text())
    plain = FakePip({"rich": ["13.0.0"]})
    expected = lock_pip_files(request, CONDA, RecordingReporter(), resolver=plain, mapping_source=FakeMapping())

    early = FakePip({"rich": ["13.0.0"]})
    start = PipStart(request, RecordingReporter(), SecretRegistry(), resolver=early, mapping_source=FakeMapping())
    start.solved("linux-64", (("python", "3.11.9"), ("numpy", "2.0.0")))  # not what the lock ends with
    assert lock_pip_files(request, CONDA, RecordingReporter(), started=start) == expected
    assert sorted(_platforms(early)) == sorted([*PLATFORMS, "linux-64"])  # linux-64 resolved again


def test_no_early_run_when_requirements_may_be_up_to_date_or_strict(tmp_path: Path) -> None:
    request = _request(tmp_path, env_text())
    pip = FakePip({"rich": ["13.0.0"]})
    files = lock_pip_files(request, CONDA, RecordingReporter(), resolver=pip, mapping_source=FakeMapping())
    (tmp_path / "locks").mkdir()
    (tmp_path / "locks" / "requirements.txt").write_bytes(files["requirements.txt"] or b"")

    again = FakePip({"rich": ["13.0.0"]})
    start = PipStart(request, RecordingReporter(), SecretRegistry(), resolver=again, mapping_source=FakeMapping())
    assert not start.early
    start.solved("linux-64", CONDA["linux-64"])
    assert lock_pip_files(request, CONDA, RecordingReporter(), started=start) == files
    assert again.jobs == []  # up to date: uv never ran

    (tmp_path / "s").mkdir()
    strict = _request(tmp_path / "s", env_text(), strict=True)  # its warnings need every platform first
    assert not PipStart(strict, RecordingReporter(), SecretRegistry(), resolver=again).early


def test_errors_come_in_the_order_lock_pip_files_raises_them(tmp_path: Path) -> None:
    request = _request(tmp_path, env_text(pip=("rich", "--bogus-option")))
    start = PipStart(request, RecordingReporter(), SecretRegistry(), resolver=FakePip({}), mapping_source=FakeMapping())
    start.solved("linux-64", CONDA["linux-64"])
    with pytest.raises(InputError, match="--bogus-option"):
        lock_pip_files(request, CONDA, RecordingReporter(), started=start)


def test_a_platforms_stub_folder_is_removed_when_its_uv_run_ends(tmp_path: Path) -> None:
    """Not all at the end: while the last platform's uv runs, the others' stub wheels are gone already
    (removing hundreds of stub files after the last run was serial time on every pip lock)."""
    request = _request(tmp_path, env_text(pip=("rich",)))
    early = FakePip({"rich": ["13.0.0"]})
    start = PipStart(request, RecordingReporter(), SecretRegistry(), resolver=early, mapping_source=FakeMapping())
    start.solved("osx-64", CONDA["osx-64"])
    start.runs._runs["osx-64"].result()  # wait for that run to end
    (job,) = early.jobs
    folder = job.requirements.parent
    assert folder.name == "osx-64"
    assert not folder.exists()  # its run is over; the lock goes on (close() is not called yet)
    assert folder.parent.is_dir()
    found = lock_pip_files(request, CONDA, RecordingReporter(), started=start)
    plain = FakePip({"rich": ["13.0.0"]})
    assert found == lock_pip_files(request, CONDA, RecordingReporter(), resolver=plain, mapping_source=FakeMapping())
    assert not folder.parent.exists()



class _HeldPip(FakePip):
    """uv that does not finish until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__({"rich": ["13.0.0"]})
        self.release = threading.Event()

    def compile(self, jobs):  # type: ignore[no-untyped-def]
        self.release.wait(30)
        return super().compile(jobs)


def test_launched_waits_for_each_run_to_hand_its_job_to_uv_not_for_uv(tmp_path: Path) -> None:
    """After the last solve, the lock waits until every platform's job is written and given to uv
    (:meth:`PipStart.launched`), then renders its files while uv runs: its own Python no longer
    delays the last platform's uv. It does not wait for uv itself."""
    request = _request(tmp_path, env_text(pip=("rich",)))
    held = _HeldPip()
    start = PipStart(request, RecordingReporter(), SecretRegistry(), resolver=held, mapping_source=FakeMapping())
    for platform in PLATFORMS:
        start.solved(platform, CONDA[platform])
    start.launched()  # returns while every uv run is still held
    for platform in PLATFORMS:
        folder = start._folder / platform  # type: ignore[operator]
        assert (folder / "requirements.in").read_text() == "rich\n"  # its job is written: uv has it
        assert (folder / "stubs-constraints.txt").read_text() == "numpy==1.26.4+conda\n"
        assert not start.runs._runs[platform].done()
    held.release.set()
    plain = FakePip({"rich": ["13.0.0"]})
    expected = lock_pip_files(request, CONDA, RecordingReporter(), resolver=plain, mapping_source=FakeMapping())
    assert lock_pip_files(request, CONDA, RecordingReporter(), started=start) == expected


def test_launched_returns_when_a_run_ends_before_uv(tmp_path: Path) -> None:
    request = _request(tmp_path, env_text(pip=("rich", "--bogus-option")))  # the pip lines cannot be read
    start = PipStart(request, RecordingReporter(), SecretRegistry(), resolver=_HeldPip(), mapping_source=FakeMapping())
    start.solved("linux-64", CONDA["linux-64"])
    start.launched()
    assert start.runs._runs["linux-64"].result() is None
    start.close()
