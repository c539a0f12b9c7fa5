"""The ``lock`` orchestrator in-process, with a fake conda solver, a fake pip resolver and a fake
conda→PyPI mapping source: what it asks the stages for, what it writes, and when it writes nothing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from lockgen.config import Limits, LockOptions
from lockgen.errors import Problem, SolveError
from lockgen.lock import LockResult, lock
from lockgen.lockfiles import packages_digest, parse_explicit
from lockgen.lockfiles.requirements import parse_compiled
from lockgen.models import LockedPackage
from lockgen.plan import PIP_ADDED_NOTE, pip_request, plan
from lockgen.pypi.uv import CompileJob
from lockgen.reporting import RecordingReporter
from lockgen.solverequest import SolveRequest

CHANNEL = "https://conda.anaconda.org/conda-forge"
PLATFORMS = ("linux-64", "osx-64", "win-64")


def env_text(
    conda: Sequence[str] = ("python=3.11", "numpy"),
    pip: Sequence[str] = ("rich",),
    platforms: Sequence[str] = PLATFORMS,
) -> str:
    lines = ["name: t", "channels:", "  - conda-forge", "platforms:", *(f"  - {p}" for p in platforms)]
    lines += ["dependencies:", *(f"  - {spec}" for spec in conda)]
    if pip:
        lines += ["  - pip:", *(f"    - {req}" for req in pip)]
    return "\n".join(lines) + "\n"


class FakeSolver:
    """A channel of ``versions``: each spec's name gets the newest version, unless a preferred URL
    (the previous lock's) names that package and satisfies an ``=version`` spec. Records every call."""

    def __init__(self, versions: Mapping[str, Sequence[str]], fail: Sequence[str] = ()) -> None:
        self.versions = {name: list(v) for name, v in versions.items()}
        self.fail = set(fail)
        self.calls: list[list[SolveRequest]] = []

    def solve(self, requests: Sequence[SolveRequest]) -> dict[str, tuple[LockedPackage, ...]]:
        self.calls.append(list(requests))
        failing = sorted(r.platform for r in requests if r.platform in self.fail)
        if failing:
            raise SolveError(f"nothing provides what {', '.join(failing)} needs", tuple(failing))
        return {r.platform: tuple(self._pick(r, spec) for spec in r.specs) for r in requests}

    def _pick(self, request: SolveRequest, spec: str) -> LockedPackage:
        name, _, pinned = spec.partition("=")
        preferred = [u for u in request.preferred if u.rsplit("/", 1)[-1].startswith(f"{name}-")]
        candidates = [v for v in self.versions[name] if v.startswith(pinned)]
        version = max(candidates, key=lambda v: tuple(int(x) for x in v.split(".")))
        for url in preferred:
            kept = url.rsplit("/", 1)[-1].removeprefix(f"{name}-").split("-")[0]
            if kept in candidates:
                version = kept
        subdir = request.platform if name == "python" else "noarch"
        url = f"{CHANNEL}/{subdir}/{name}-{version}-0.conda"
        return LockedPackage(name, version, "0", subdir, url, md5=hashlib.md5(url.encode()).hexdigest())


class FakePip:
    """uv as a table of ``versions``: the newest, unless the output file pre-filled with earlier pins
    keeps one (and ``--upgrade-package`` does not name it). Records every job."""

    def __init__(self, versions: Mapping[str, Sequence[str]]) -> None:
        self.versions = {name: list(v) for name, v in versions.items()}
        self.jobs: list[CompileJob] = []

    def compile(self, jobs: Sequence[CompileJob]) -> dict[str, str]:
        self.jobs += jobs
        out = {}
        for job in jobs:
            kept = {p.name: p.version for p in parse_compiled(job.output.read_text())}
            text = ""
            for name in job.requirements.read_text().split():
                version = max(self.versions[name])
                if name in kept and name not in job.upgrade_packages:
                    version = kept[name]
                digest = hashlib.sha256(f"{name}{version}".encode()).hexdigest()
                text += f"{name}=={version} \\\n    --hash=sha256:{digest}\n"
            out[job.target.platform] = text
        return out


class FakeMapping:
    def load(self, channel: str) -> tuple[Mapping[str, Sequence[str] | None] | None, str | None]:
        return {"python": None, "numpy": ["numpy"], "scipy": ["scipy"]}, None


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = root / "environment.yml"
        self.locks = root / "locks"
        self.solver = FakeSolver({"python": ["3.11.9"], "numpy": ["1.26.4"], "scipy": ["1.13.0"], "pip": ["24.2"]})
        self.pip = FakePip({"rich": ["13.0.0"], "click": ["8.1.0"]})

    def lock(self, text: str | None = None, reporter: RecordingReporter | None = None, **options: object) -> LockResult:
        if text is not None:
            self.env.write_text(text)
        cache = self.root / "cache"
        settings = LockOptions(files=(self.env,), output_dir=self.locks, chosen_cache_dir=cache, **options)  # type: ignore[arg-type]
        reporter = reporter or RecordingReporter()
        return lock(settings, reporter, self.solver, pip_resolver=self.pip, mapping_source=FakeMapping())

    def versions(self, platform: str) -> dict[str, str]:
        found = parse_explicit((self.locks / f"{platform}.txt").read_text())
        return {e.name: e.version for e in found.entries}

    def pins(self) -> dict[str, str]:
        return {p.name: p.version for p in parse_compiled((self.locks / "requirements.txt").read_text())}

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(self.locks.iterdir()) if p.is_file()}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def test_first_lock_writes_every_platform_and_the_pip_lock(project: Project) -> None:
    result = project.lock(env_text())
    assert sorted(result.written) == ["linux-64.txt", "osx-64.txt", "requirements.txt", "win-64.txt"]
    assert [sorted(r.platform for r in call) for call in project.solver.calls] == [sorted(PLATFORMS)]
    assert all(r.preferred == () for r in project.solver.calls[0])
    assert project.versions("win-64") == {"python": "3.11.9", "numpy": "1.26.4", "pip": "24.2"}
    assert sorted(job.target.platform for job in project.pip.jobs) == sorted(PLATFORMS)
    assert project.pins() == {"rich": "13.0.0"}


def test_a_pip_section_without_pip_in_the_conda_list_gets_pip_and_says_so(project: Project) -> None:
    """The rebuild runs `python -m pip install -r requirements.txt`: the conda lock must carry pip."""
    reporter = RecordingReporter()
    project.lock(env_text(), reporter)
    assert all(r.specs == ("python=3.11", "numpy", "pip") for r in project.solver.calls[0])
    assert "pip" in project.versions("linux-64")
    notes = [n.problem for n in reporter.notices if "`pip` added" in n.problem.message]
    assert notes == [Problem(PIP_ADDED_NOTE, str(project.env), 12, "note")], notes  # the first pip line
    assert str(notes[0]) == f"{project.env}:12: note: {PIP_ADDED_NOTE}"
    assert '# specs: ["python=3.11", "numpy", "pip"]' in (project.locks / "linux-64.txt").read_text()
    # listed (any spelling of the spec), or no pip section: nothing added, nothing said
    for conda, pip in ((("python=3.11", "pip"), ("rich",)), (("python=3.11",), ())):
        reporter = RecordingReporter()
        project.lock(env_text(conda, pip), reporter)
        assert all(r.specs == conda for r in project.solver.calls[-1])
        assert not [n for n in reporter.notices if "`pip` added" in n.problem.message]


def test_a_note_is_reported_with_its_own_severity_whatever_its_words(tmp_path: Path) -> None:
    """A note about a package named ``pytest-warnings`` is a note, an unknown key a warning: each says
    its severity (plan once guessed it from the words, and took any note mentioning "warning" for one)."""
    base, over = tmp_path / "base.yml", tmp_path / "over.yml"
    base.write_text("channels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pytest-warnings=0.2\n")
    over.write_text("dependencies:\n  - pytest-warnings>=0.3\nnotes: x\n")
    reporter = RecordingReporter()
    plan(LockOptions(files=(base, over), output_dir=tmp_path / "locks", chosen_cache_dir=tmp_path / "cache"), reporter)
    said = [(n.problem.severity, str(n.problem)) for n in reporter.notices]
    assert said == [
        (
            "note",
            f"{over}:2: note: `pytest-warnings>=0.3` replaces `pytest-warnings=0.2` from {base}:4 (a later -f file"
            " wins for the same package)",
        ),
        ("warning", f"{over}:3: warning: unknown top-level key `notes` (ignored)"),
    ]


def test_relock_after_an_edit_keeps_pins_of_untouched_packages(project: Project) -> None:
    project.lock(env_text())
    project.solver.versions["numpy"].append("2.0.0")
    project.pip.versions["rich"].append("14.0.0")
    result = project.lock(env_text(conda=("python=3.11", "numpy", "scipy"), pip=("rich", "click")))
    assert project.versions("linux-64") == {"python": "3.11.9", "numpy": "1.26.4", "scipy": "1.13.0", "pip": "24.2"}
    previous_urls = {r.platform: r.preferred for r in project.solver.calls[-1]}
    assert all(any("numpy-1.26.4" in u for u in urls) for urls in previous_urls.values())
    assert project.pins() == {"click": "8.1.0", "rich": "13.0.0"}
    changes = {c.platform: c for c in result.changes}
    assert changes["linux-64"].added == ("scipy",) and changes["linux-64"].changed == ()


def test_update_moves_only_the_named_package(project: Project) -> None:
    project.lock(env_text(conda=("python=3.11", "numpy", "scipy")))
    project.solver.versions["numpy"].append("2.0.0")
    project.solver.versions["scipy"].append("1.14.0")
    project.pip.versions["rich"].append("14.0.0")
    result = project.lock(update=("numpy", "rich"))
    assert project.versions("osx-64") == {"python": "3.11.9", "numpy": "2.0.0", "scipy": "1.13.0", "pip": "24.2"}
    assert all(not any("numpy-" in u for u in r.preferred) for r in project.solver.calls[-1])
    assert {c.platform: c.changed for c in result.changes} == dict.fromkeys(PLATFORMS, ("numpy",))
    assert project.pins() == {"rich": "14.0.0"}
    assert all(job.upgrade_packages == ("numpy", "rich") for job in project.pip.jobs[-3:])
    project.lock(update_all=True)
    assert project.versions("osx-64")["scipy"] == "1.14.0"
    assert all(r.preferred == () for r in project.solver.calls[-1])


def test_nothing_changed_solves_nothing_and_writes_nothing(project: Project) -> None:
    project.lock(env_text())
    before = project.snapshot()
    calls, jobs = len(project.solver.calls), len(project.pip.jobs)
    result = project.lock()
    assert not result.changed and result.written == () and result.removed == ()
    assert all(c.reused for c in result.changes)
    assert (len(project.solver.calls), len(project.pip.jobs)) == (calls, jobs)
    assert project.snapshot() == before  # same bytes, same mtimes: not even rewritten


def test_one_failing_platform_writes_no_file(project: Project) -> None:
    project.lock(env_text())
    before = project.snapshot()
    project.solver.fail = {"win-64"}
    with pytest.raises(SolveError) as failure:
        project.lock(env_text(conda=("python=3.11", "numpy", "scipy")))
    assert failure.value.platforms == ("win-64",)
    assert project.snapshot() == before  # linux-64 and osx-64 solved, but none of it was committed

    fresh = Project(project.root / "fresh")
    fresh.root.mkdir()
    fresh.solver.fail = {"osx-64"}
    with pytest.raises(SolveError):
        fresh.lock(env_text())
    assert not fresh.locks.exists() or [p.name for p in fresh.locks.iterdir() if p.suffix == ".txt"] == []


def test_platform_subset_keeps_requirements_covering_every_target(project: Project) -> None:
    project.lock(env_text())
    edited = env_text(conda=("python=3.11", "numpy", "scipy"), pip=("rich", "click"))
    result = project.lock(edited, platforms=("linux-64",))
    assert [[r.platform for r in call] for call in project.solver.calls[1:]] == [["linux-64"]]
    assert sorted(result.written) == ["linux-64.txt", "requirements.txt"]
    assert sorted(job.target.platform for job in project.pip.jobs[-3:]) == sorted(PLATFORMS)
    header = (project.locks / "requirements.txt").read_text()
    assert "# platforms: linux-64, osx-64, win-64" in header
    assert project.pins() == {"click": "8.1.0", "rich": "13.0.0"}
    assert "scipy" in project.versions("linux-64") and "scipy" not in project.versions("win-64")


def test_platform_dropped_from_the_environment_loses_its_lock(project: Project) -> None:
    project.lock(env_text())
    (project.locks / "linux-aarch64.txt").write_text("@EXPLICIT\n")  # not lockgen's: never removed
    result = project.lock(env_text(platforms=("linux-64", "osx-64")))
    assert result.removed == ("win-64.txt",)
    assert not (project.locks / "win-64.txt").exists()
    assert (project.locks / "linux-aarch64.txt").read_text() == "@EXPLICIT\n"
    assert "# platforms: linux-64, osx-64" in (project.locks / "requirements.txt").read_text()


def test_pip_section_removed_removes_the_pip_lock(project: Project) -> None:
    conda = ("python=3.11", "numpy", "pip")
    project.lock(env_text(conda))
    result = project.lock(env_text(conda, pip=()))
    assert "requirements.txt" in result.removed and not (project.locks / "requirements.txt").exists()
    assert len(project.solver.calls) == 1  # the conda input did not change (the pip section is not part of it)


def test_from_seeds_the_pins_of_a_lock_lockgen_did_not_write(project: Project) -> None:
    """``--from``: another tool's explicit lock stands in for the previous lock (its pins are preferred)."""
    project.solver.versions["numpy"].append("2.0.0")
    old = f"{CHANNEL}/noarch/numpy-1.26.4-0.conda"
    seed = project.root / "conda-linux-64.lock"
    seed.write_text(f"# Generated by conda-lock.\n# platform: linux-64\n@EXPLICIT\n{old}#{'0' * 32}\n")
    result = project.lock(env_text(pip=()), platforms=("linux-64",), from_lock=seed)
    assert project.solver.calls[-1][0].preferred == (old,)
    assert project.versions("linux-64")["numpy"] == "1.26.4"
    assert any("linux-64" in line for line in result.started_from)
    project.lock(update_all=True, platforms=("linux-64",))  # --update-all drops every seeded pin
    assert project.versions("linux-64")["numpy"] == "2.0.0"


def test_pip_request_carries_the_settings_the_pip_backends_take(project: Project) -> None:
    """The uv timeout and the mapping URL (LOCKGEN_UV_TIMEOUT, LOCKGEN_PYPI_MAPPING_URL, read by
    config) reach the pip stage through its request: lock_pip_files builds UvResolver and
    ParselmouthSource from them."""
    project.env.write_text(env_text())
    url = "http://127.0.0.1:9/{channel}.json"
    options = LockOptions(
        files=(project.env,),
        output_dir=project.locks,
        chosen_cache_dir=project.root / "cache",
        limits=Limits(uv_timeout_s=7),
        mapping_url=url,
    )
    request = pip_request(plan(options))
    assert (request.uv_timeout_s, request.mapping_url) == (7, url)


def test_summary_names_each_change_to_a_named_package_and_each_downgrade(project: Project) -> None:
    project.solver.versions["numpy"].append("2.0.0")
    first = project.lock(env_text())
    assert all(c.moves == () for c in first.changes)  # a new lock: nothing moved
    result = project.lock(env_text(conda=("python=3.11", "numpy=1", "scipy")))
    osx = {c.platform: c for c in result.changes}["osx-64"]
    assert osx.downgraded == ("numpy",)
    assert osx.lines() == [
        "osx-64: 4 packages (1 added, 1 downgraded)",  # python, numpy, scipy and the pip the pip: section needs
        "  numpy 2.0.0 → 1.26.4 (downgraded, in your specs)",
        "  scipy 1.13.0 (added, in your specs)",
    ]


def test_summary_says_one_package_not_one_packages(project: Project) -> None:
    result = project.lock(env_text(conda=("python=3.11",), pip=()))
    assert result.changes[0].summary == "linux-64: 1 package (1 added)"


def test_a_lock_whose_package_lines_break_the_specs_is_solved_again(project: Project) -> None:
    """A pull request drops numpy's line and recomputes the packages= digest (it is not keyed): the
    input hash still matches, but lock does not keep a lock that check calls stale."""
    project.lock(env_text())
    path = project.locks / "linux-64.txt"
    lines = [line for line in path.read_text().splitlines() if "/numpy-" not in line]
    body = lines[lines.index("@EXPLICIT") + 1 :]
    lines = [re.sub(r"packages=[0-9a-f]{12}", f"packages={packages_digest(body)}", line) for line in lines]
    path.write_text("\n".join(lines) + "\n")
    calls = len(project.solver.calls)
    project.lock()
    assert [[r.platform for r in call] for call in project.solver.calls[calls:]] == [["linux-64"]]
    assert "numpy" in project.versions("linux-64")
