"""rattler's wording as lockgen reads it: one failing conda solve per shape of explanation lockgen parses.

py-rattler explains an unsolvable request in human text, not an API: a tree drawn with ``├─``/``└─``
(three columns a level) whose leaves say ``..., for which no candidates were found.``, or one line
``No candidates were found for <spec>.``. ``lockgen/conda/diagnose.py`` reads the specs that found
nothing (:func:`~lockgen.conda.diagnose.missing_specs`) and strips the ``Cannot solve the request
because of:`` prefix; ``lockgen/conda/explanation.py`` parses the tree into its shortest conflict
chain (:func:`~lockgen.conda.explanation.shortest_chain`: a path ending where the solver says why)
and, when that ends in a conflict, the branch it conflicts with
(:func:`~lockgen.conda.explanation.conflicting_branch`). Each :class:`Scenario` builds small
channels in a folder and solves one request there through lockgen's own adapter
(:meth:`RattlerSolver._solve_one <lockgen.conda.solve.RattlerSolver._solve_one>`, with the virtual
packages lockgen assumes for linux-64 and strict channel priority); :func:`problems` says what
lockgen's parsers did not read as they must. The solve runs in a child process (a process that
solved with rattler can crash at interpreter exit). ``tests/data/rattler-output/<py-rattler
version>/<scenario>.txt`` keeps what each supported py-rattler said (read by
``tests/unit/test_rattler_output.py``); the installed py-rattler is run by
``tests/integration/test_rattler_wording.py``. Its fetch errors are recorded alongside
(:mod:`tests.support.rattler_fetch_wording`). To record both (docs/architecture.md, "py-rattler versions")::

    .venv/bin/python -m tests.support.rattler_wording record tests/data/rattler-output
    .venv/bin/python -m tests.support.rattler_wording record --python /tmp/r/bin/python tests/data/rattler-output
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from lockgen.conda.diagnose import missing_specs
from lockgen.conda.explanation import conflicting_branch, shortest_chain
from lockgen.platforms import default_virtual_packages
from tests.support.channel import ChannelBuilder

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "rattler-output"
PREFIX = "Cannot solve the request because of: "
"""What rattler puts before every explanation; lockgen drops it (:class:`~lockgen.conda.diagnose.Diagnosis`)."""
PLATFORM = "linux-64"
LINUX = tuple(default_virtual_packages(PLATFORM).values())
"""The virtual packages lockgen assumes for linux-64 (no ``__cuda``; ``__glibc`` 2.28)."""

Channels = Sequence[ChannelBuilder]


@dataclass(frozen=True)
class Scenario:
    """One unsolvable request and what lockgen must read in rattler's explanation of it."""

    name: str
    specs: tuple[str, ...]
    fill: Callable[[Channels], None]
    """Adds the packages to the channels (in priority order)."""
    missing: tuple[str, ...]
    """What :func:`missing_specs` reads: the specs nothing was found for, in order."""
    chain: tuple[str, ...]
    """The shortest root-to-leaf path of the tree that ends where the solver says why (:func:`shortest_chain`) ..."""
    chains: int
    """... how many such paths the tree has ..."""
    says: str
    """A line of lockgen's message for it, made from what the parsers read (checked on live runs:
    the recordings keep rattler's text only)."""
    channels: int = 1
    other: tuple[str, ...] = ()
    """... and the path that chain conflicts with, drawn beside it (:func:`conflicting_branch`)."""
    constraints: tuple[str, ...] = ()
    """Constraints on the solve (what a group of environments agreed on)."""


def _app_and_lib(channels: Channels) -> None:
    channels[0].add("app", "1.0", depends=["lib >=2"])
    channels[0].add("lib", "1.0")
    channels[0].add("lib", "1.5")
    channels[0].add("numpy", "1.26.4")


def _two_users_of_lib(channels: Channels) -> None:
    channels[0].add("app", "1.0", depends=["lib >=1.5"])
    channels[0].add("tool", "1.0", depends=["lib <1.2"])
    channels[0].add("lib", "1.0")
    channels[0].add("lib", "1.5")


def _users_of_lib_deep_down(channels: Channels) -> None:
    channels[0].add("a", "1.0", depends=["b"])
    channels[0].add("b", "1.0", depends=["lib <1.2"])
    channels[0].add("c", "1.0", depends=["d"])
    channels[0].add("d", "1.0", depends=["lib >=1.5"])
    channels[0].add("lib", "1.0")
    channels[0].add("lib", "1.5")


def _app_constrains_lib(channels: Channels) -> None:
    channels[0].add("app", "1.0", constrains=["lib <1.2"])
    channels[0].add("lib", "1.0")
    channels[0].add("lib", "1.5")


def _needs_virtual(channels: Channels) -> None:
    channels[0].add("gpu", "1.0", subdir=PLATFORM, depends=["__cuda >=12"])
    channels[0].add("newc", "1.0", subdir=PLATFORM, depends=["__glibc >=2.34"])


def _lib_newer_in_later_channel(channels: Channels) -> None:
    channels[0].add("app", "1.0", depends=["lib >=2"])
    channels[0].add("lib", "1.0")
    channels[1].add("lib", "2.0")


def _vision(channels: Channels) -> None:
    """The shape of a real environment's explanation (torchvision against python 3.10, pytorch's channel
    first): many versions needing another python (rattler elides the middle of a long version list), one
    through a chain of dependencies, and newer versions a later channel has, excluded by strict priority."""
    first, later = channels
    for version in ("0.16.1", "0.16.2", "0.16.3", "0.16.4", "0.16.5", "0.17.1", "0.19.1", "0.20.0"):
        first.add("vision", version, depends=["python >=3.12,<3.13.0a0"])
    first.add("vision", "0.16.0", depends=["python >=3.11,<3.12.0a0"])
    first.add("vision", "0.15.2", depends=["gpu-runtime 11.8.*"])
    first.add("gpu-runtime", "11.8", depends=["cudart >=11.8,<12.0"])
    first.add("python", "3.10.0")
    later.add("vision", "0.21.0")
    later.add("vision", "0.22.0")


_NO_OPTIONS = "cannot be installed because there are no viable options:"
_INCOMPATIBLE = "The following packages are incompatible"
_REPORTED = "conflicts with the versions reported above."
_NO_CUDA = "  `__cuda >=12` needs the virtual package __cuda, which the target lacks (add it with --cuda VERSION)"

SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "unknown-name",
            ("numpi",),
            _app_and_lib,
            missing=("numpi *",),
            chain=("No candidates were found for numpi *.",),
            chains=1,
            says="  no package named `numpi`; did you mean `numpy`?",
        ),
        Scenario(
            "no-matching-version",
            ("lib >=3",),
            _app_and_lib,
            missing=("lib >=3",),
            chain=("No candidates were found for lib >=3.",),
            chains=1,
            says="  `lib >=3`: no build matches for linux-64 in file://<tmp>/chan0 (versions there: 1.0, 1.5)",
        ),
        Scenario(
            "missing-dependency",
            ("app",),
            _app_and_lib,
            missing=("lib >=2",),
            chain=(f"app * {_NO_OPTIONS}", "app 1.0 would require", "lib >=2, for which no candidates were found."),
            chains=1,
            says="  `lib >=2`: no build matches for linux-64 in file://<tmp>/chan0 (versions there: 1.0, 1.5)",
        ),
        Scenario(
            "conflicting-direct-specs",
            ("lib >=1.4", "lib <1.2"),
            _app_and_lib,
            missing=(),
            chain=(_INCOMPATIBLE, f"lib >=1.4 {_NO_OPTIONS}", f"lib 1.5, which {_REPORTED}"),
            chains=1,
            says="  └─ lib >=1.4 cannot be installed because there are no viable options:",
            other=(_INCOMPATIBLE, "lib <1.2 can be installed with any of the following options:", "lib 1.0"),
        ),
        Scenario(
            "conflict-through-dependencies",
            ("app", "tool"),
            _two_users_of_lib,
            missing=(),
            chain=(
                _INCOMPATIBLE,
                f"app * {_NO_OPTIONS}",
                "app 1.0 would require",
                f"lib >=1.5, which {_NO_OPTIONS}",
                f"lib 1.5, which {_REPORTED}",
            ),
            chains=1,
            says=f"             └─ lib 1.5, which {_REPORTED}",
            other=(
                _INCOMPATIBLE,
                "tool * can be installed with any of the following options:",
                "tool 1.0 would require",
                "lib <1.2, which can be installed with any of the following options:",
                "lib 1.0",
            ),
        ),
        Scenario(
            "conflict-deep-in-both-branches",
            ("a", "c"),
            _users_of_lib_deep_down,
            missing=(),
            chain=(
                _INCOMPATIBLE,
                f"a * {_NO_OPTIONS}",
                "a 1.0 would require",
                f"b *, which {_NO_OPTIONS}",
                "b 1.0 would require",
                f"lib <1.2, which {_NO_OPTIONS}",
                f"lib 1.0, which {_REPORTED}",
            ),
            chains=1,
            says="    │           └─ lib >=1.5, which can be installed with any of the following options:",
            other=(
                _INCOMPATIBLE,
                "c * can be installed with any of the following options:",
                "c 1.0 would require",
                "d *, which can be installed with any of the following options:",
                "d 1.0 would require",
                "lib >=1.5, which can be installed with any of the following options:",
                "lib 1.5",
            ),
        ),
        Scenario(
            "constrained-by-dependency",
            ("app", "lib >=1.5"),
            _app_constrains_lib,
            missing=(),
            chain=(
                _INCOMPATIBLE,
                f"app * {_NO_OPTIONS}",
                "app 1.0 would constrain",
                "lib <1.2, which conflicts with any installable versions previously reported",
            ),
            chains=1,
            says="     └─ app 1.0 would constrain",
            other=(_INCOMPATIBLE, "lib >=1.5 can be installed with any of the following options:", "lib 1.5"),
        ),
        Scenario(
            "constraint-not-fulfilled",  # a group member solved within its group's agreement
            ("app",),
            _two_users_of_lib,
            missing=(),
            chain=(_INCOMPATIBLE, "the constraint lib <1.2 cannot be fulfilled"),
            chains=1,
            says="  └─ the constraint lib <1.2 cannot be fulfilled",
            other=(
                _INCOMPATIBLE,
                "app * can be installed with any of the following options:",
                "app 1.0 would require",
                "lib >=1.5, which can be installed with any of the following options:",
                "lib 1.5",
            ),
            constraints=("lib <1.2",),
        ),
        Scenario(
            "virtual-package-missing",
            ("gpu",),
            _needs_virtual,
            missing=("__cuda >=12",),
            chain=(f"gpu * {_NO_OPTIONS}", "gpu 1.0 would require", "__cuda >=12, for which no candidates were found."),
            chains=1,
            says=_NO_CUDA,
        ),
        Scenario(
            "virtual-package-too-old",
            ("newc",),
            _needs_virtual,
            missing=("__glibc >=2.34",),
            chain=(
                f"newc * {_NO_OPTIONS}",
                "newc 1.0 would require",
                "__glibc >=2.34, for which no candidates were found.",
            ),
            chains=1,
            says="  `__glibc >=2.34` needs the virtual package __glibc, but the target has __glibc=2.28=0"
            " (change it with --virtual-package linux-64:__glibc=VERSION)",
        ),
        Scenario(
            "virtual-package-requested",
            ("__cuda >=12",),
            _needs_virtual,
            missing=("__cuda >=12",),
            chain=("No candidates were found for __cuda >=12.",),
            chains=1,
            says=_NO_CUDA,
        ),
        Scenario(
            "strict-channel-priority",
            ("app",),
            _lib_newer_in_later_channel,
            missing=(),
            chain=(
                _INCOMPATIBLE,
                f"app * {_NO_OPTIONS}",
                "app 1.0 would require",
                f"lib >=2, which {_NO_OPTIONS}",
                "lib 2.0 is excluded because due to strict channel priority not using this option from:"
                " 'file://<tmp>/chan1/'",
            ),
            chains=1,
            says="  The following packages are incompatible",
            channels=2,
        ),
        Scenario(
            "several-conflict-chains",
            ("vision >=0.15", "python 3.10.*"),
            _vision,
            missing=("python >=3.12,<3.13.0a0", "python >=3.11,<3.12.0a0", "cudart >=11.8,<12.0"),
            chain=(
                f"vision >=0.15 {_NO_OPTIONS}",
                "vision 0.16.1 | 0.16.2 | ... | 0.20.0 would require",
                "python >=3.12,<3.13.0a0, for which no candidates were found.",
            ),
            chains=4,
            says="  the shortest of 4 conflict chains the solver reports:",
            channels=2,
        ),
    )
}
"""Every shape of rattler's explanation that lockgen reads, by name (the recorded files' names)."""


def body(text: str) -> str:
    """The explanation as :class:`~lockgen.conda.diagnose.Diagnosis` passes it on: stripped, prefix dropped."""
    return text.strip().removeprefix(PREFIX)


def problems(scenario: str, text: str) -> list[str]:
    """What lockgen's parsers failed to read in ``text``, rattler's explanation for ``scenario``."""
    wanted = SCENARIOS[scenario]
    found: list[str] = []
    if not text.startswith(PREFIX):
        found.append(f"the explanation does not start with {PREFIX!r}:\n{text}")
    missing = missing_specs(text)
    if missing != list(wanted.missing):
        found.append(f"missing_specs: read {missing!r}, expected {list(wanted.missing)!r} in:\n{text}")
    chain, count = shortest_chain(body(text))
    if (chain, count) != (list(wanted.chain), wanted.chains):
        found.append(
            f"shortest_chain: read {chain!r} of {count}, expected {list(wanted.chain)!r} of {wanted.chains} in:\n{text}"
        )
    other = conflicting_branch(body(text), chain)
    if other != list(wanted.other):
        found.append(f"conflicting_branch: read {other!r}, expected {list(wanted.other)!r} in:\n{text}")
    return found


@dataclass(frozen=True)
class Output:
    """One solve's outcome in the child process."""

    rattler: str
    """The py-rattler version that solved."""
    text: str
    """rattler's explanation (``str()`` of its SolverError), the folder written ``<tmp>``; empty when it solved."""
    message: str
    """What lockgen made of it (its SolveError's message), for a person to read; empty when it solved."""


def run(scenario: str, folder: Path, python: str = sys.executable) -> Output:
    """Solve ``scenario`` in ``folder`` with ``python`` (an interpreter with py-rattler and lockgen's
    dependencies; lockgen itself is imported from this tree), in a child process."""
    folder.mkdir(parents=True, exist_ok=True)
    argv = [python, "-m", "tests.support.rattler_wording", "solve", scenario, str(folder)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    data = json.loads(done.stdout)
    return Output(data["rattler"], data["text"], data["message"])


def _solve(scenario_name: str, folder: Path) -> Output:
    """The child's work: build the channels, solve through lockgen's adapter, report what rattler said."""
    import asyncio
    from importlib.metadata import version

    from lockgen.channels import resolve_channel
    from lockgen.conda.solve import RattlerSolver
    from lockgen.errors import SolveError
    from lockgen.repodata.gateway import make_gateway
    from lockgen.solverequest import SolveRequest

    scenario = SCENARIOS[scenario_name]
    builders = [ChannelBuilder(folder / f"chan{i}") for i in range(scenario.channels)]
    scenario.fill(builders)
    for builder in builders:
        builder.write()
    channels = tuple(resolve_channel(b.url) for b in builders)
    request = SolveRequest(
        PLATFORM, scenario.specs, channels, LINUX, channel_priority="strict", constraints=scenario.constraints
    )
    solver = RattlerSolver(folder / "cache")
    text = message = ""
    try:
        asyncio.run(solver._solve_one(make_gateway(folder / "cache"), request, (PLATFORM,)))
    except SolveError as error:
        text, message = str(error.__cause__), error.message
    tmp = folder.resolve()
    return Output(
        version("py-rattler"),
        text.replace(tmp.as_uri(), "file://<tmp>").replace(str(tmp), "<tmp>"),
        message.replace(tmp.as_uri(), "file://<tmp>").replace(str(tmp), "<tmp>"),
    )


def recorded_versions() -> list[str]:
    """The py-rattler versions with a recording, oldest first."""
    return sorted((p.name for p in DATA.iterdir() if p.is_dir()), key=Version)


def recorded(scenario: str, rattler: str | None = None) -> str:
    """What py-rattler ``rattler`` (the newest recorded: None) said in ``scenario``."""
    folder = DATA / (rattler or recorded_versions()[-1])
    return (folder / f"{scenario}.txt").read_text(encoding="utf-8")


def record(data: Path, scratch: Path, python: str = sys.executable) -> Path:
    """Write what ``python``'s py-rattler says in every scenario to ``data/<version>/<scenario>.txt``; the folder."""
    out: Path | None = None
    for name in SCENARIOS:
        output = run(name, scratch / name, python)
        out = data / output.rattler
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.txt").write_text(output.text, encoding="utf-8")
        unread = problems(name, output.text)
        print(f"{name}: {'read' if not unread else 'NOT READ: ' + unread[0]}")
    assert out is not None
    return out


def main(argv: Sequence[str]) -> None:
    if len(argv) == 3 and argv[0] == "solve":
        output = _solve(argv[1], Path(argv[2]))
        sys.stdout.write(json.dumps(output.__dict__))
        sys.stdout.flush()
        os._exit(0)  # a process that solved can crash at interpreter exit
    if argv[:1] == ["record"] and len(argv) in (2, 4) and (len(argv) == 2 or argv[1] == "--python"):
        import tempfile

        python = argv[2] if len(argv) == 4 else sys.executable
        from tests.support import rattler_fetch_wording

        with tempfile.TemporaryDirectory(prefix="rattler-wording-") as scratch:
            print(record(Path(argv[-1]), Path(scratch), python))
            rattler_fetch_wording.record(Path(argv[-1]), Path(scratch) / "fetch", python)
        return
    sys.exit("usage: python -m tests.support.rattler_wording record [--python PATH] <data folder>")


if __name__ == "__main__":
    main(sys.argv[1:])
