"""The messages for mistakes people make: each names the place (file:line), says the fix, and fits
one screen (at most 25 lines). In-process; the CLI-level cases are in
tests/integration/test_messages_cli.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from lockgen.config import LockOptions
from lockgen.errors import ConfigError, InputError
from lockgen.lock import LockResult, lock
from lockgen.pypi.summary import Divergence, PipSummary
from lockgen.reporting import RecordingReporter
from lockgen.spec.document import parse_env_text
from tests.support.rattler_wording import body, recorded
from tests.unit.test_lock import FakeMapping, Project, env_text

SCREEN = 25


def _problems(text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        parse_env_text(text, "environment.yml")
    message = info.value.message
    assert len(message.splitlines()) <= SCREEN
    return [str(p) for p in info.value.problems]


HEAD = "name: x\nchannels:\n  - conda-forge\ndependencies:\n"


def test_pip_items_at_the_conda_level_under_an_empty_pip_key_are_refused_at_their_line() -> None:
    text = HEAD + "  - python=3.11\n  - pip\n  - pip:\n  - einops\n  - transformers>=4.30\n"
    (problem,) = _problems(text)
    assert problem.startswith("environment.yml:8: `- pip:` (line 7) has nothing indented under it")
    assert "`- einops`, `- transformers>=4.30`" in problem
    assert "indent them under `- pip:`" in problem


def test_an_empty_pip_key_at_the_end_is_still_accepted() -> None:
    spec = parse_env_text(HEAD + "  - python=3.11\n  - pip\n  - pip:\n", "environment.yml")
    assert spec.pip == ()


@pytest.mark.parametrize(
    ("entry", "line", "fix"),
    [
        ("  - pandas=>2.0\n", 5, "did you mean `pandas>=2.0`?"),
        ("  - numpy=<2\n", 5, "did you mean `numpy<=2`?"),
        ("  - pip:\n    - einops=0.8.0\n", 6, "pip uses `==` for an exact version: write `einops==0.8.0`"),
        ("  - pip:\n    - torch=2.*\n", 6, "pip uses `==` for an exact version: write `torch==2.*`"),
        ("  - pip:\n    - rich=>13\n", 6, "did you mean `rich>=13`?"),
        ("  - pip:\n    - numpy=1.26.4=py311h0\n", 6, "write `numpy==1.26.4` (a single `=` is conda's syntax)"),
    ],
)
def test_pins_in_the_other_tools_syntax_say_the_right_operator(entry: str, line: int, fix: str) -> None:
    (problem,) = _problems(HEAD + entry)
    assert problem.startswith(f"environment.yml:{line}: invalid ")
    assert fix in problem


def test_a_key_missing_its_colon_is_reported_at_the_key_not_where_yaml_gave_up() -> None:
    text = "name: x\nchannels:\n  - conda-forge\ndependencies\n  - python=3.11\n  - numpy\n"
    (problem,) = _problems(text)
    assert problem == "environment.yml:4: malformed YAML: `dependencies` needs a `:` after it (write `dependencies:`)"


def test_an_unclosed_quote_is_reported_where_it_opens() -> None:
    (problem,) = _problems("name: x\ndependencies:\n  - 'numpy\n  - scipy\n")
    assert problem.startswith("environment.yml:3: malformed YAML: while scanning a quoted scalar")
    assert "(PyYAML gave up at line 5)" in problem


def test_a_tab_says_yaml_indents_with_spaces() -> None:
    (problem,) = _problems("name: x\ndependencies:\n\t- numpy\n")
    assert problem == "environment.yml:3: malformed YAML: a tab character; YAML indents with spaces only"


# --- lock: --update names, the mapping note and the pip summary once per change ---------------------------------


class UnreachableMapping(FakeMapping):
    NOTE = "conda→PyPI mapping for {channel} could not be fetched: ConnectError; using the cached copy"

    def load(self, channel: str) -> tuple[Mapping[str, Sequence[str] | None] | None, str | None]:
        table, _ = super().load(channel)
        return table, self.NOTE.format(channel=channel)


def _lock(project: Project, reporter: RecordingReporter, **options: object) -> LockResult:
    cache = project.root / "cache"
    settings = LockOptions(files=(project.env,), output_dir=project.locks, chosen_cache_dir=cache, **options)  # type: ignore[arg-type]
    return lock(settings, reporter, project.solver, pip_resolver=project.pip, mapping_source=UnreachableMapping())


def test_update_of_an_unknown_name_is_an_error_with_did_you_mean_across_conda_and_pip(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.lock(env_text())
    calls = len(project.solver.calls)
    with pytest.raises(ConfigError) as info:
        project.lock(update=("nmupy", "rihc", "numpy"))
    assert info.value.message == (
        "--update nmupy: no package of that name in the environment or its locks; did you mean `numpy`?\n"
        "--update rihc: no package of that name in the environment or its locks; did you mean `rich`?"
    )
    assert len(project.solver.calls) == calls  # refused before solving anything
    assert len(info.value.message.splitlines()) <= SCREEN


def test_update_accepts_a_package_only_the_locks_name(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.lock(env_text())
    project.lock(update=("Python", "RICH"))  # names from the locks and the pip section, any case


def test_the_mapping_note_is_said_when_the_pip_lock_is_resolved_not_on_every_run(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.env.write_text(env_text())
    first, again = RecordingReporter(), RecordingReporter()
    _lock(project, first)
    _lock(project, again)
    said = [str(n.problem) for n in first.notices if not n.repeated and "could not be fetched" in n.problem.message]
    assert said == [f"note: {UnreachableMapping.NOTE.format(channel='conda-forge')}"]
    assert not [n for n in again.notices if not n.repeated]
    assert any("could not be fetched" in n.problem.message for n in again.notices if n.repeated)  # -v still shows it


def test_the_pip_versions_differ_block_is_listed_when_requirements_change_and_counted_otherwise() -> None:
    summary = PipSummary(
        (("linux-64", 3), ("osx-64", 3)),
        (Divergence("torch", (("2.5.1", ("linux-64",)), ("2.2.2", ("osx-64",)))),),
        (("triton", ("linux-64",)),),
    )
    full = summary.lines()
    assert "  versions differ between platforms:" in full and "    torch: 2.5.1 on linux-64; 2.2.2 on osx-64" in full
    assert summary.lines(changed=False) == [
        "pip: 3 packages on each of linux-64, osx-64",
        "  2 pins differ between platforms (listed when requirements.txt changes)",
    ]


def test_a_missing_mirror_directory_is_named_as_such_even_when_nothing_needs_solving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lockgen.config import build_options
    from lockgen.flags import Flags, SolveFlags

    project = Project(tmp_path / "project")
    project.root.mkdir()
    project.lock(env_text())
    monkeypatch.chdir(project.root)
    flags = Flags(
        output_dir=project.locks, solve=SolveFlags(mirrors=("https://conda.anaconda.org=../shared/channels",))
    )
    options = build_options([project.env], flags)
    missing = tmp_path / "shared" / "channels"
    with pytest.raises(ConfigError) as info:
        lock(options, RecordingReporter(), project.solver, pip_resolver=project.pip, mapping_source=FakeMapping())
    assert info.value.message == (
        f"--mirror https://conda.anaconda.org={missing}: the mirror directory {missing} does not exist; check the"
        f" path (a relative path starts at the folder lockgen runs in, {project.root})"
    )
    assert len(info.value.message.splitlines()) == 1
    missing.mkdir(parents=True)
    assert not lock(
        options, RecordingReporter(), project.solver, pip_resolver=project.pip, mapping_source=FakeMapping()
    ).changed


def test_pip_failures_of_several_platforms_are_said_once_with_the_platforms_they_concern() -> None:
    from lockgen.pypi.uvstderr import said_once

    same = "{p}: the pip section cannot be resolved:\n  - conda provides numpy 1.26.4 on {p}\n  uv says: ..."
    other = "osx-64: the pip section cannot be resolved:\n  - native has no wheel for osx-64"
    text = said_once([same.format(p="linux-64"), other, same.format(p="win-64")], "\n\n")
    assert text == (
        "linux-64, win-64: the pip section cannot be resolved:\n  - conda provides numpy 1.26.4 on linux-64, win-64\n"
        "  uv says: ...\n\nosx-64: the pip section cannot be resolved:\n  - native has no wheel for osx-64"
    )


def test_a_pypi_typo_finds_close_names_without_pypis_project_list() -> None:
    from lockgen.pypi.suggest import candidate_names, suggestion_lines

    candidates = candidate_names([], ["einops"])  # lockgen's snapshot of the mapping's PyPI names
    lines = suggestion_lines(
        ["transformrs"], {"transformrs": "environment.yml:9"}, ["https://pypi.org/simple"], candidates, network=False
    )
    assert lines == [
        "environment.yml:9: no package named `transformrs` on https://pypi.org/simple; did you mean `transformers`,"
        " `ctransformers`, `x-transformers`?"
    ]


@pytest.mark.parametrize(
    ("have", "targets", "selector"),
    [
        (["linux-64", "win-64"], ["linux-64", "osx-64", "win-64"], "linux or win"),
        (["linux-64", "osx-arm64"], ["linux-64", "osx-64", "osx-arm64"], "linux or osxarm64"),
        (["linux-64"], ["linux-64", "linux-aarch64", "osx-64"], "linux64"),
    ],
)
def test_the_selector_for_a_package_some_platforms_lack_is_true_on_exactly_those_that_have_it(
    have: list[str], targets: list[str], selector: str
) -> None:
    from lockgen.conda.diagnose import selector_for

    assert selector_for(have, targets) == selector


def test_the_shortest_conflict_chain_is_the_nearest_leaf_of_the_solvers_tree() -> None:
    """On rattler's recorded explanation of the shape a real environment's has (torchvision against
    python 3.10: several versions needing another python, one through a chain of dependencies, newer
    versions excluded by strict channel priority; tests/support/rattler_wording.py)."""
    from lockgen.conda.explanation import shortest_chain

    chain, count = shortest_chain(body(recorded("several-conflict-chains")))
    assert count == 4
    assert chain == [
        "vision >=0.15 cannot be installed because there are no viable options:",
        "vision 0.16.1 | 0.16.2 | ... | 0.20.0 would require",
        "python >=3.12,<3.13.0a0, for which no candidates were found.",
    ]


def test_a_conflict_whose_other_side_is_under_another_root_is_drawn_after_it() -> None:
    from lockgen.conda.explanation import NoSolution

    tree = "\n".join(
        [
            "tool * can be installed with any of the following options:",
            "└─ tool 1.0 would require",
            "   └─ lib <1.2, which can be installed with any of the following options:",
            "      └─ lib 1.0",
            "app * cannot be installed because there are no viable options:",
            "└─ app 1.0 would require",
            "   └─ lib >=1.5, which cannot be installed because there are no viable options:",
            "      ├─ lib 1.5, which conflicts with the versions reported above.",
            "      └─ lib 1.6, which conflicts with the versions reported above.",
        ]
    )
    assert NoSolution("linux-64", [], tree).message.splitlines()[1:] == [
        "  the shortest of 2 conflict chains the solver reports, beside what it conflicts with:",
        "    tool * can be installed with any of the following options:",
        "    └─ tool 1.0 would require",
        "       └─ lib <1.2, which can be installed with any of the following options:",
        "          └─ lib 1.0",
        "    app * cannot be installed because there are no viable options:",
        "    └─ app 1.0 would require",
        "       └─ lib >=1.5, which cannot be installed because there are no viable options:",
        "          └─ lib 1.5, which conflicts with the versions reported above.",
    ]


def _long_tree(package: str, branches: int) -> str:
    lines = [f"{package} * cannot be installed because there are no viable options:"]
    for i in range(branches):
        last = i == branches - 1
        bar = "   " if last else "│  "
        lines.append(f"{'└─' if last else '├─'} {package} 1.{i} would require")
        lines.append(f"{bar}└─ dep{i} >=2, which cannot be installed because there are no viable options:")
        lines.append(f"{bar}   └─ dep{i} 2.0 would require")
        lines.append(f"{bar}      └─ lib{i} >=9, for which no candidates were found.")
    return "\n".join(lines)


def test_three_platforms_with_long_trees_fit_one_screen_and_keep_the_whole_tree(tmp_path: Path) -> None:
    from lockgen.conda.diagnose import combine_failures
    from lockgen.conda.explanation import NoSolution, keep_explanation
    from lockgen.errors import SolveError

    failures: list[tuple[str, BaseException]] = [
        (p, NoSolution(p, [f"`dep{i} >=2`: no build matches for {p}" for i in range(40)], _long_tree(f"app{n}", 300)))
        for n, p in enumerate(("linux-64", "osx-64", "win-64"))
    ]
    error = combine_failures(failures)
    assert isinstance(error, SolveError)
    lines = error.message.splitlines()
    assert len(lines) < SCREEN  # one line left for the footer naming the file
    for n, platform in enumerate(("linux-64", "osx-64", "win-64")):
        assert f"{platform}: no solution." in lines
        assert f"    app{n} * cannot be installed because there are no viable options:" in lines
    assert len(error.details.splitlines()) > 3 * 1200
    path = keep_explanation(error.details, tmp_path / "cache")
    assert path is not None and path.parent == tmp_path / "cache" / "explanations"
    assert path.read_text() == error.details + "\n"
