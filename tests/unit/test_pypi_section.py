"""lock_pip_files with a fake resolver: what it asks for, what it writes, when it does nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from lockgen.cli.runner import progress_line
from lockgen.config import LockOptions
from lockgen.errors import InputError
from lockgen.lockfiles.lockdir import REQUIREMENTS_NAME
from lockgen.plan import PipRequest, pip_request, plan
from lockgen.pypi.stage import lock_pip_files
from lockgen.pypi.uv import CompileJob
from lockgen.reporting import RecordingReporter

ENV = """\
name: t
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pytorch
  - pip:
    - --index-url https://user:hunter22@pypi.example/simple
    - accelerate
    - colorama  # [win]
"""
CONDA = {
    "linux-64": (("python", "3.11.9"), ("pytorch", "2.1.0"), ("libgcc", "14.2.0"), ("filelock", "3.13.1")),
    "win-64": (("python", "3.11.9"), ("pytorch", "2.1.0"), ("filelock", "3.13.1")),
}


class FakeResolver:
    """Answers like uv would: accelerate (+ torch, filelock as stubs), colorama on windows."""

    def __init__(self) -> None:
        self.jobs: list[CompileJob] = []
        self.preferences: dict[str, str] = {}
        self.stubs: dict[str, list[str]] = {}

    def compile(self, jobs: Sequence[CompileJob]) -> dict[str, str]:
        self.jobs += jobs
        out = {}
        for job in jobs:
            self.preferences[job.target.platform] = job.output.read_text()
            assert "accelerate\n" in job.requirements.read_text()
            self.stubs[job.target.platform] = sorted(p.name for p in Path(job.find_links[0]).iterdir())
            text = "accelerate==1.2.1 \\\n    --hash=sha256:aa\ntorch==2.1.0+conda \\\n    --hash=sha256:st\n"
            text += "filelock==3.13.1+conda \\\n    --hash=sha256:fl\n"
            if job.target.platform == "win-64":
                text += "colorama==0.4.6 \\\n    --hash=sha256:cc\n"
            out[job.target.platform] = text
        return out


def make_request(tmp_path: Path, env: str = ENV, **kwargs: object) -> PipRequest:
    (tmp_path / "environment.yml").write_text(env)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"pytorch": ["torch"], "python": None, "libgcc": None, "filelock": ["filelock"]}))
    options = LockOptions(
        files=(tmp_path / "environment.yml",),
        output_dir=tmp_path / "locks",
        platforms=("linux-64", "win-64"),
        chosen_cache_dir=tmp_path / "cache",
        pypi_mapping=mapping,
        **kwargs,  # type: ignore[arg-type]
    )
    return pip_request(plan(options))


def requirements(files: dict[str, bytes | None]) -> bytes:
    """requirements.txt's bytes among the files lock_pip_files returns."""
    text = files[REQUIREMENTS_NAME]
    assert text is not None
    return text


def test_writes_merged_file_without_conda_packages_or_secrets(tmp_path: Path) -> None:
    resolver = FakeResolver()
    text = requirements(lock_pip_files(make_request(tmp_path), CONDA, RecordingReporter(), resolver=resolver)).decode()
    assert [j.target.platform for j in resolver.jobs] == ["linux-64", "win-64"]
    stubs = ["filelock-3.13.1+conda-py3-none-any.whl", "torch-2.1.0+conda-py3-none-any.whl"]
    assert resolver.stubs == {"linux-64": stubs, "win-64": stubs}
    assert resolver.jobs[0].provided["torch"].conda_name == "pytorch"
    assert "hunter22" not in text and "user" not in text
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body == [
        "--index-url https://pypi.example/simple",
        "accelerate==1.2.1 \\",
        "    --hash=sha256:aa",
        'colorama==0.4.6 ; sys_platform == "win32" \\',
        "    --hash=sha256:cc",
    ]
    assert "# conda→PyPI names: digest " in text and "mapping.json" not in text


def test_unchanged_inputs_return_the_existing_bytes_without_resolving(tmp_path: Path) -> None:
    the_plan = make_request(tmp_path)
    data = requirements(lock_pip_files(the_plan, CONDA, RecordingReporter(), resolver=FakeResolver()))
    (tmp_path / "locks").mkdir()
    (tmp_path / "locks" / "requirements.txt").write_bytes(data)
    idle = FakeResolver()
    assert requirements(lock_pip_files(the_plan, CONDA, RecordingReporter(), resolver=idle)) == data
    assert idle.jobs == []
    changed = dict(CONDA, **{"win-64": (("python", "3.11.9"), ("pytorch", "2.2.0"), ("filelock", "3.13.1"))})
    busy = FakeResolver()
    lock_pip_files(the_plan, changed, RecordingReporter(), resolver=busy)  # conda's torch moved: resolve again
    assert len(busy.jobs) == 2
    assert "torch-2.2.0+conda-py3-none-any.whl" in busy.stubs["win-64"]
    assert busy.preferences["win-64"] == "accelerate==1.2.1\ncolorama==0.4.6\n"  # earlier pins preferred
    assert busy.preferences["linux-64"] == "accelerate==1.2.1\n"


class _Unreachable:
    """A mapping source whose download always fails (as on a machine without access)."""

    def load(self, channel: str) -> tuple[None, str]:
        return None, f"conda→PyPI mapping for {channel} could not be fetched: no route"


def test_mapping_is_recorded_by_content_not_by_source(tmp_path: Path) -> None:
    from lockgen.pypi.mapping import snapshot_table

    table = snapshot_table("conda-forge")
    assert table is not None
    the_plan = make_request(tmp_path)
    (tmp_path / "mapping.json").write_text(json.dumps(dict(table)))  # the same content, as a file
    from_file = requirements(lock_pip_files(the_plan, CONDA, RecordingReporter(), resolver=FakeResolver())).decode()
    offline = replace(the_plan, pypi_mapping=None)
    reporter = RecordingReporter()
    from_snapshot = requirements(
        lock_pip_files(offline, CONDA, reporter, resolver=FakeResolver(), mapping_source=_Unreachable())
    )
    assert from_snapshot.decode() == from_file  # no "file ..." or "snapshot" in the header: same bytes
    assert any("using lockgen's snapshot" in n.problem.message for n in reporter.notices)
    header = next(line for line in from_file.splitlines() if line.startswith("# conda→PyPI names:"))
    assert "conda packages locked" in header and "file" not in header

    (tmp_path / "locks").mkdir()
    (tmp_path / "locks" / "requirements.txt").write_text(from_file)
    idle = FakeResolver()
    lock_pip_files(offline, CONDA, RecordingReporter(), resolver=idle, mapping_source=_Unreachable())
    assert idle.jobs == []  # the mapping is unavailable, the snapshot answers the same: nothing to do
    # a mapping that answers differently for a locked package is an input change
    (tmp_path / "mapping.json").write_text(json.dumps({**table, "libgcc": ["libgcc"]}))
    busy = FakeResolver()
    changed = requirements(lock_pip_files(the_plan, CONDA, RecordingReporter(), resolver=busy)).decode()
    assert len(busy.jobs) == 2 and changed.splitlines()[3] != header


def test_update_all_forgets_earlier_pins(tmp_path: Path) -> None:
    data = requirements(lock_pip_files(make_request(tmp_path), CONDA, RecordingReporter(), resolver=FakeResolver()))
    (tmp_path / "locks").mkdir()
    (tmp_path / "locks" / "requirements.txt").write_bytes(data)
    resolver = FakeResolver()
    lock_pip_files(make_request(tmp_path, update_all=True), CONDA, RecordingReporter(), resolver=resolver)
    assert resolver.preferences == {"linux-64": "", "win-64": ""}
    named = FakeResolver()
    lock_pip_files(make_request(tmp_path, update=("accelerate",)), CONDA, RecordingReporter(), resolver=named)
    assert named.jobs[0].upgrade_packages == ("accelerate",)


def test_conda_and_pip_overlap_warns_and_strict_refuses(tmp_path: Path) -> None:
    env = ENV.replace("    - accelerate\n", "    - accelerate\n    - torch>=2\n")
    reporter = RecordingReporter()
    text = requirements(lock_pip_files(make_request(tmp_path, env), CONDA, reporter, resolver=FakeResolver())).decode()
    warning = (
        "environment.yml:10: torch is listed under pip: and as conda dependency `pytorch` (environment.yml:6);"
        " conda's torch 2.1.0 is kept and pip does not install it"
    )
    assert f"# warning: {warning}" in text
    (said,) = [str(n.problem) for n in reporter.notices if n.problem.severity == "warning"]
    assert said.startswith("warning: ") and said.replace(f"{tmp_path}/", "") == f"warning: {warning}"
    with pytest.raises(InputError, match=r"environment.yml:10: torch is listed .* \(--strict\)"):
        lock_pip_files(make_request(tmp_path, env, strict=True), CONDA, RecordingReporter(), resolver=FakeResolver())


def test_platform_without_pip_lines_is_not_resolved(tmp_path: Path) -> None:
    env = ENV.replace("    - accelerate\n", "").replace(
        "colorama  # [win]", "colorama  # [win]\n    - accelerate  # [win]"
    )
    resolver = FakeResolver()
    text = requirements(
        lock_pip_files(make_request(tmp_path, env), CONDA, RecordingReporter(), resolver=resolver)
    ).decode()
    assert [j.target.platform for j in resolver.jobs] == ["win-64"]
    assert "# linux-64: no pip packages" in text
    assert 'accelerate==1.2.1 ; sys_platform == "win32"' in text


class EchoResolver(FakeResolver):
    def compile(self, jobs: Sequence[CompileJob]) -> dict[str, str]:
        out = super().compile(jobs)
        return {platform: text + "user-agents==2.2.0 \\\n    --hash=sha256:ua\n" for platform, text in out.items()}


def test_secrets_are_masked_but_names_like_them_are_not(tmp_path: Path) -> None:
    env = ENV.replace(
        "    - accelerate\n",
        "    - accelerate\n    - user-agents\n    - -e git+https://user:hunter22@github.com/x/y.git\n",
    )
    reporter = RecordingReporter()
    text = requirements(lock_pip_files(make_request(tmp_path, env), CONDA, reporter, resolver=EchoResolver())).decode()
    assert "hunter22" not in text
    assert "user-agents==2.2.0 \\\n" in text  # the index user name "user" is no reason to mangle this line
    assert "# warning: environment.yml:11: `-e git+https://github.com/x/y.git` is installed as a regular" in text
    assert not any("hunter22" in progress_line(event)[1] for event in reporter.events)
    with pytest.raises(InputError) as info:
        lock_pip_files(make_request(tmp_path, env, strict=True), CONDA, RecordingReporter(), resolver=EchoResolver())
    assert "hunter22" not in info.value.message


def test_platforms_with_the_same_pip_lines_share_one_reading(tmp_path: Path) -> None:
    """The pip lines (and the files they include) are read once per distinct list, not once per platform (Round 7)."""
    from lockgen.pypi.inputs import read_inputs
    from lockgen.secrets import SecretRegistry

    inputs = read_inputs(make_request(tmp_path), SecretRegistry())
    assert inputs["win-64"].requirements == ("accelerate", "colorama")  # colorama: windows only
    assert inputs["linux-64"].requirements == ("accelerate",)
    same = read_inputs(make_request(tmp_path, ENV.replace("  # [win]", "")), SecretRegistry())
    assert same["linux-64"] is same["win-64"]
    assert same["linux-64"].requirements == ("accelerate", "colorama")
