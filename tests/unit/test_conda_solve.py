"""The conda stage in-process, without fakes: rattler's Gateway reads a channel built in a tmp dir.

(Solving itself runs in lockgen subprocesses in tests/integration: a process that solved with
rattler can crash at interpreter exit, which a test runner must not.)
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rattler import PackageRecord, RepoDataRecord
from rattler.exceptions import SolverError
from rattler.package.build_string import BuildString

from lockgen.channels import ResolvedChannel, resolve_channel
from lockgen.conda.diagnose import Diagnosis
from lockgen.conda.locked import to_locked
from lockgen.conda.solve import _spec_sources, several_environments
from lockgen.errors import ChannelError, SolveError
from lockgen.matchspec import spec_matches
from lockgen.repodata.gateway import make_gateway
from lockgen.secrets import SecretRegistry
from lockgen.solverequest import SolveRequest
from tests.support.channel import ChannelBuilder
from tests.support.rattler_wording import recorded


@pytest.fixture
def channel(tmp_path: Path) -> ResolvedChannel:
    builder = ChannelBuilder(tmp_path / "chan")
    builder.add("app", "1.0", depends=["lib >=2"])
    builder.add("lib", "1.0")
    builder.add("lib", "1.5")
    builder.add("numpy", "1.26.4")
    builder.write()
    return resolve_channel(builder.url)


def _translate(channel: ResolvedChannel, cache: Path, text: str, specs: tuple[str, ...]) -> Exception:
    request = SolveRequest("linux-64", specs, (channel,), (), origins=tuple(f"env.yml:{i}" for i in range(len(specs))))
    diagnosis = Diagnosis(make_gateway(cache, offline=False), SecretRegistry(), cache, False, 5, 0)
    return asyncio.run(diagnosis.translate(SolverError(text), request, [channel.fetch], ["linux-64", "noarch"]))


def test_a_missing_dependency_is_explained_with_the_versions_on_offer(channel: ResolvedChannel, tmp_path: Path) -> None:
    error = _translate(channel, tmp_path / "cache", recorded("missing-dependency"), ("app",))
    assert isinstance(error, SolveError)
    lines = error.message.splitlines()
    assert lines[0] == "linux-64: no solution."
    assert lines[1] == f"  `lib >=2`: no build matches for linux-64 in {channel.name} (versions there: 1.0, 1.5)"
    assert "└─ lib >=2, for which no candidates were found." in error.message
    # the channel's linux-64 is empty (everything is noarch): said as a note, with the summary
    assert lines[2].startswith(f"  note: {channel.name} has only noarch packages for linux-64: ")


def test_a_typo_is_named_with_the_closest_package(channel: ResolvedChannel, tmp_path: Path) -> None:
    error = _translate(channel, tmp_path / "cache", recorded("unknown-name"), ("numpi",))
    assert isinstance(error, SolveError)
    assert error.message.splitlines()[:2] == [
        f"linux-64: unknown package name (not in {channel.name}):",
        "  env.yml:0: no package named `numpi`; did you mean `numpy`?",
    ]


def test_a_bug_is_not_dressed_as_a_fetch_failure(channel: ResolvedChannel, tmp_path: Path) -> None:
    bug = KeyError("x")
    request = SolveRequest("linux-64", ("app",), (channel,), ())
    diagnosis = Diagnosis(make_gateway(tmp_path / "cache"), SecretRegistry(), tmp_path / "cache", False, 5, 0)
    assert asyncio.run(diagnosis.translate(bug, request, [channel.fetch], ["linux-64"])) is bug


def test_channel_specs_point_at_the_fetch_url_and_add_their_channel() -> None:
    forge = resolve_channel("conda-forge")
    request = SolveRequest("linux-64", ("conda-forge::numpy", "bioconda/linux-64::samtools 1.*", "scipy"), (forge,), ())
    channels, specs = _spec_sources(request)
    assert [c.name for c in channels] == ["conda-forge", "bioconda"]
    assert specs == [
        "https://conda.anaconda.org/conda-forge::numpy",
        "https://conda.anaconda.org/bioconda/linux-64::samtools 1.*",
        "scipy",
    ]


def _record(url: str, channel: str, subdir: str = "linux-64", md5: str = "ab" * 16) -> RepoDataRecord:
    package = PackageRecord("numpy", "1.26.4", BuildString("py311_0"), 0, subdir)
    package.md5 = bytes.fromhex(md5)
    return RepoDataRecord(package, url.rsplit("/", 1)[-1], url, channel)


def test_a_solved_record_becomes_a_canonical_locked_package(tmp_path: Path) -> None:
    mirror = f"{tmp_path.as_uri()}/conda-forge"
    forge = ResolvedChannel("conda-forge", "https://conda.anaconda.org/conda-forge", mirror)
    locked = to_locked(_record(f"{mirror}/linux-64/numpy-1.26.4-py311_0.conda", mirror + "/"), [forge], "linux-64")
    assert locked.url == "https://conda.anaconda.org/conda-forge/linux-64/numpy-1.26.4-py311_0.conda"
    assert (locked.name, locked.version, locked.build, locked.md5) == ("numpy", "1.26.4", "py311_0", "ab" * 16)


@pytest.mark.parametrize(
    ("url", "subdir", "md5", "problem"),
    [
        ("https://evil.example/x/linux-64/numpy-1.26.4-py311_0.conda", "linux-64", "ab" * 16, "outside the channel"),
        ("{c}/linux-64/numpy-1.26.4-py311_0.conda", "osx-64", "ab" * 16, "claims subdir 'osx-64'"),
        ("{c}/linux-64/numpy-1.26.4-py311_0.conda", "linux-64", "00" * 16, "md5 is missing or all zeros"),
    ],
)
def test_a_record_whose_repodata_lies_is_refused(url: str, subdir: str, md5: str, problem: str) -> None:
    forge = resolve_channel("conda-forge")
    record = _record(url.format(c=forge.fetch), forge.fetch + "/", subdir, md5)
    with pytest.raises(ChannelError, match=problem):
        to_locked(record, [forge], "linux-64")


def test_spec_matches_answers_for_the_named_package_only() -> None:
    assert spec_matches("numpy >=1.26", "numpy", "1.26.4", "py311_0", "linux-64") is True
    assert spec_matches("numpy <1.26", "numpy", "1.26.4", "py311_0", "linux-64") is False
    assert spec_matches("numpy * py312*", "numpy", "1.26.4", "py311_0", "linux-64") is False
    assert spec_matches("scipy <1", "numpy", "1.26.4", "py311_0", "linux-64") is None
    assert spec_matches("numpy >=>=1", "numpy", "1.26.4", "py311_0", "linux-64") is None


def test_only_several_environments_share_the_solver_threads_heaps(channel: ResolvedChannel) -> None:
    """One environment keeps glibc's own heaps (the shared ones cost ~100 ms of CPU on a warm lock);
    a platform solved more than once in a run (several environments) shares two."""
    one = [SolveRequest(p, ("app",), (channel,), ()) for p in ("linux-64", "osx-64", "win-64")]
    assert not several_environments(one)
    assert not several_environments(one[:1])
    second = [SolveRequest(p, ("app",), (channel,), (), label=f"gpu/{p}") for p in ("linux-64", "osx-64")]
    assert several_environments(one + second)
