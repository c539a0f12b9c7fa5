"""uv's wording as lockgen reads it: ``uv pip compile`` runs, one per kind of output lockgen parses.

uv's stderr is human text, not an API, and ``lockgen/pypi/uvstderr.py`` reads it with patterns.
Each :class:`Scenario` builds a tiny index in a folder (served on 127.0.0.1), runs a uv binary
there with lockgen's own arguments and environment (:meth:`UvResolver.argv`,
:meth:`UvResolver.environment`) and a requirement that fails one way (or, for ``resolved``,
succeeds: the requirements file uv writes is read too); :func:`problems` says what lockgen's
parsers failed to read. ``tests/data/uv-output/<uv version>/<scenario>.txt`` keeps what each
supported uv printed (read by ``tests/unit/test_uv_output.py``); the installed uv is run by
``tests/integration/test_uv_wording.py``. To record a uv's output (docs/pip.md, "uv versions")::

    .venv/bin/python -m tests.support.uv_wording record <path to uv> tests/data/uv-output
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lockgen.lockfiles.requirements import VIA_PIP_SECTION, parse_compiled
from lockgen.pypi.stubs import ProvidedPackage, write_stubs
from lockgen.pypi.targets import PipTarget
from lockgen.pypi.uv import CompileJob, UvResolver
from lockgen.pypi.uvstderr import (
    NETWORK,
    NO_SDIST,
    NOT_FOUND,
    NOT_IN_REGISTRY,
    GitFailure,
    explain_failure,
    failure_said,
    git_failure,
    matched_names,
    needs_build,
    resolved_warnings,
)
from tests.support.projects import build_tool_files, legacy_sdist_bytes, make_git_repo, sdist_bytes
from tests.support.pypi_index import SimpleIndex, serve_index

LINUX = PipTarget("linux-64", "x86_64-manylinux_2_28", "3.11.9", "linux", "x86_64")
OSX = PipTarget("osx-64", "x86_64-apple-darwin", "3.11.9", "darwin", "x86_64", "11.0")
BETA = ProvidedPackage("beta", "1.0", "beta-conda", "1.0")
"""What conda installs in the clash scenarios: beta 1.0, as the conda package ``beta-conda``."""
BROKEN = 'raise RuntimeError("brokenpkg\'s setup.py supports Python 2 only")\n'
"""The first line of the setup.py whose build fails (the last error line is what lockgen shows)."""


@dataclass(frozen=True)
class Scenario:
    """One failing uv run and what lockgen must read in its stderr."""

    name: str
    requirement: str
    check: Callable[[str], list[str]]
    """uv's output → what lockgen's parsers did not read as they must (empty: all read)."""
    target: PipTarget = LINUX
    builds: tuple[str, ...] = ()
    """Packages allowed to build from source (the later rounds of :meth:`UvResolver._rounds`)."""
    provided: tuple[ProvidedPackage, ...] = ()
    unreachable: bool = False
    """The index URL points at a port nothing listens on."""
    index: Callable[[SimpleIndex], None] = field(default=lambda index: None)
    git: bool = False
    """A git repository of project ``gitpkg`` is made in ``<folder>/repo``; ``{folder}`` in the
    requirement is the folder's ``file://`` URL."""
    stderr: bool = False
    """The run succeeds and what lockgen reads is its stderr (the warnings), not the file it wrote."""


def _expect(found: object, wanted: object, what: str) -> list[str]:
    return [] if found == wanted else [f"{what}: read {found!r}, expected {wanted!r}"]


def _in(text: str, part: str, what: str) -> list[str]:
    return [] if part in text else [f"{what}: {part!r} not in:\n{text}"]


def _message(stderr: str, scenario_name: str) -> str:
    scenario = SCENARIOS[scenario_name]
    provided = {p.name: p for p in scenario.provided}
    return explain_failure(stderr, scenario.target, provided, {"alpha": "environment.yml:9"}, only_binary=False)


def _wheels_required(stderr: str) -> list[str]:
    return _expect(needs_build(stderr), ["onlysd"], "needs_build")


def _no_wheel(stderr: str) -> list[str]:
    message = _message(stderr, "no-wheel-for-platform")
    return [
        *_expect(needs_build(stderr), ["linonly"], "needs_build"),
        *_in(message, "has no wheel for osx-64", "message"),
    ]


def _no_sdist(stderr: str) -> list[str]:
    return [
        *_expect(matched_names(NO_SDIST, stderr), ["linonly"], "no source distribution"),
        *_expect(needs_build(stderr), [], "needs_build"),
    ]


def _depends_on_conda(stderr: str) -> list[str]:
    message = _message(stderr, "dependency-clashes-with-conda")
    found = _in(message, "needs beta>=2; conda provides beta 1.0 (as beta-conda) on linux-64", "message")
    return [*found, *_in(message, "hint: add `beta-conda>=2` to the conda dependencies", "message")]


def _requires_conda(stderr: str) -> list[str]:
    message = _message(stderr, "requirement-clashes-with-conda")
    return _in(message, "pip: asks for beta>=2; conda provides beta 1.0 (as beta-conda) on linux-64", "message")


def _not_found(stderr: str) -> list[str]:
    flat = " ".join(stderr.split())
    said = [] if NOT_FOUND.search(flat) else [f"not found: no match in:\n{stderr}"]
    return [*said, *_expect(matched_names(NOT_IN_REGISTRY, stderr), ["nosuchpkg"], "not in the registry")]


def _no_version(stderr: str) -> list[str]:
    message = _message(stderr, "no-such-version")
    return _in(message, "- beta==9.0: no version on the index matches; pin a version it has", "message")


def _build_failed(stderr: str) -> list[str]:
    message = _message(stderr, "build-failed")
    return [
        *_in(message, "building its sdist for metadata failed on this machine", "message"),
        *_in(message, "RuntimeError: brokenpkg's setup.py supports Python 2 only", "message"),
    ]


def _resolved(text: str) -> list[str]:
    pins = {p.name: (p.version, len(p.hashes), p.via) for p in parse_compiled(text)}
    wanted = {"alpha": ("1.0", 1, (VIA_PIP_SECTION,)), "beta": ("2.0", 1, ("alpha",))}
    return _expect(pins, wanted, f"the requirements uv wrote (or its stderr):\n{text}\n")


def _warned(stderr: str) -> list[str]:
    wanted = [
        "environment.yml:7: gamma 1.0 is yanked on the index (reason: broken build); the lock pins it with `==`,"
        " so pip installs it (with a warning): pin a version that is not yanked (`--update gamma` if the earlier"
        " lock kept it)",
        "environment.yml:8: alpha 1.0 has no extra `nosuch`: nothing is locked for it (pip ignores it too, with a"
        " warning); check the extra's name",
    ]
    found = resolved_warnings(stderr, {"gamma": "environment.yml:7", "alpha": "environment.yml:8"})
    return _expect(found, wanted, f"resolved_warnings, in:\n{stderr}\n")


def _unreachable(stderr: str) -> list[str]:
    network = NETWORK.search(stderr) is not None and "No solution found" not in stderr
    return [] if network else [f"network failure: not read as one in:\n{stderr}"]


def _git(stderr: str, url_end: str) -> tuple[list[str], GitFailure | None]:
    failure = git_failure(stderr)
    if failure is None:
        return [f"git failure: not read in:\n{stderr}"], None
    message = _message(stderr, "git-ref-missing")
    said = _in(failure.url, url_end, "the URL git fetched")
    return [*said, *([f"read as a build failure:\n{message}"] if "building its sdist" in message else [])], failure


def _git_ref_missing(stderr: str) -> list[str]:
    found, failure = _git(stderr, "/repo")
    if failure is None:
        return found
    read = (failure.ref, failure.ref_missing, failure.said)
    return [*found, *_expect(read, ("nosuchref", True, "couldn't find remote ref refs/tags/nosuchref"), "the ref")]


def _git_repository_missing(stderr: str) -> list[str]:
    found, failure = _git(stderr, "/missing")
    if failure is None:
        return found
    said = failure.said.replace(str(Path(failure.url.removeprefix("file://")).parent), "<tmp>")  # a live run
    wanted = (True, "'<tmp>/missing' does not appear to be a git repository")
    return [*found, *_expect((failure.repository_missing, said), wanted, "the missing repository")]


def _sdist_only(index: SimpleIndex) -> None:
    index.add_sdist("onlysd", "1.0", sdist_bytes("onlysd", "1.0"))


def _linux_only(index: SimpleIndex) -> None:
    index.add("linonly", "1.0", tag="py3-none-manylinux_2_17_x86_64")


def _beta(index: SimpleIndex) -> None:
    index.add("alpha", "1.0", requires=["beta>=2"])
    index.add("beta", "2.0")


def _yanked(index: SimpleIndex) -> None:
    _beta(index)
    index.add("gamma", "1.0", yanked="broken build")
    index.add("gamma", "0.9")


def _broken(index: SimpleIndex) -> None:
    index.add("setuptools", "69.5.1", files=build_tool_files("setuptools"))
    index.add("wheel", "0.43.0", files=build_tool_files("wheel"))
    index.add_sdist("brokenpkg", "1.0", legacy_sdist_bytes("brokenpkg", "1.0", prelude=BROKEN))


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("wheels-required", "onlysd", _wheels_required, index=_sdist_only),
        Scenario("no-wheel-for-platform", "linonly", _no_wheel, target=OSX, index=_linux_only),
        Scenario("no-sdist", "linonly", _no_sdist, target=OSX, builds=("linonly",), index=_linux_only),
        Scenario("dependency-clashes-with-conda", "alpha", _depends_on_conda, provided=(BETA,), index=_beta),
        Scenario("requirement-clashes-with-conda", "beta>=2", _requires_conda, provided=(BETA,), index=_beta),
        Scenario("not-found", "nosuchpkg", _not_found, index=_beta),
        Scenario("no-such-version", "beta==9.0", _no_version, index=_beta),
        Scenario("build-failed", "brokenpkg", _build_failed, builds=("brokenpkg",), index=_broken),
        Scenario("unreachable-index", "alpha", _unreachable, unreachable=True),
        Scenario("resolved", "alpha", _resolved, index=_beta),
        Scenario("resolved-with-warnings", "gamma==1.0\nalpha[nosuch]", _warned, index=_yanked, stderr=True),
        Scenario("git-ref-missing", "gitpkg @ git+{folder}/repo@nosuchref", _git_ref_missing, git=True),
        Scenario("git-repository-missing", "gitpkg @ git+{folder}/missing", _git_repository_missing, git=True),
    )
}
"""Every failure of uv's that lockgen reads, by name (the recorded files' names)."""


def problems(scenario: str, stderr: str) -> list[str]:
    """What lockgen's parsers failed to read in ``stderr``, a uv run's output for ``scenario`` (for
    ``resolved``: the requirements file uv wrote)."""
    return SCENARIOS[scenario].check(stderr)


@contextmanager
def _index_url(scenario: Scenario, folder: Path) -> Iterator[str]:
    if scenario.unreachable:
        yield "http://127.0.0.1:9/simple"  # the discard port: nothing listens
        return
    index = SimpleIndex(folder / "index")
    scenario.index(index)
    index.write()
    with serve_index(folder / "index") as server:
        yield f"{server.url}/simple"


def run(uv: str, scenario_name: str, folder: Path) -> str:
    """``uv``'s stderr for ``scenario_name`` (the file it wrote, when it succeeded), run in ``folder`` as
    lockgen runs it; the folder and the index's port replaced by ``<tmp>`` and ``<port>`` (so a
    recording does not depend on them)."""
    scenario = SCENARIOS[scenario_name]
    folder.mkdir(parents=True, exist_ok=True)
    if scenario.git:
        make_git_repo(folder / "repo", "gitpkg", "1.0")
    (folder / "requirements.in").write_text(f"{scenario.requirement.replace('{folder}', folder.as_uri())}\n")
    stubs = write_stubs(folder / "stubs", scenario.provided)
    resolver = UvResolver(folder / "cache", uv_path=uv)
    with _index_url(scenario, folder) as url:
        job = CompileJob(
            target=scenario.target,
            requirements=folder / "requirements.in",
            constraints=(stubs.constraints,),
            build_constraints=(stubs.build_constraints,),
            output=folder / "requirements.txt",
            find_links=(str(stubs.folder),),
            index_url=url,
            provided={p.name: p for p in scenario.provided},
        )
        env = {**resolver.environment(job), "UV_HTTP_RETRIES": "0"}  # the unreachable index: no waiting
        done = subprocess.run(
            resolver.argv(job, scenario.builds), env=env, capture_output=True, text=True, timeout=120, check=False
        )
    succeeded = done.returncode == 0 and not scenario.stderr
    text = job.output.read_text(encoding="utf-8") if succeeded else done.stderr
    text = text if done.returncode == 0 else failure_said(text)  # what lockgen reads of a failure
    text = re.sub(r"(git-v\d+/db/)[0-9a-f]+", r"\1<key>", text.replace(str(folder), "<tmp>"))
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)


def uv_version(uv: str) -> str:
    """``0.13.9`` for ``uv 0.13.9 (x86_64-unknown-linux-gnu)``."""
    done = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True, timeout=30)
    return done.stdout.split()[1]


def record(uv: str, data: Path, scratch: Path) -> Path:
    """Write ``uv``'s output for every scenario to ``data/<version>/<scenario>.txt``; the folder."""
    out = data / uv_version(uv)
    out.mkdir(parents=True, exist_ok=True)
    for name in SCENARIOS:
        stderr = run(uv, name, scratch / name)
        (out / f"{name}.txt").write_text(stderr, encoding="utf-8")
        unread = problems(name, stderr)
        print(f"{name}: {'read' if not unread else 'NOT READ: ' + unread[0]}")
    return out


def main() -> None:
    import tempfile

    if len(sys.argv) != 4 or sys.argv[1] != "record":
        sys.exit("usage: python -m tests.support.uv_wording record <path to uv> <data folder>")
    with tempfile.TemporaryDirectory(prefix="uv-wording-") as scratch:
        print(record(sys.argv[2], Path(sys.argv[3]), Path(scratch)))


if __name__ == "__main__":
    main()
