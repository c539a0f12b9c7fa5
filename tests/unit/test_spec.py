"""environment.yml parsing: every spec form, selectors, merging, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgen.errors import InputError
from lockgen.spec.document import parse_env_text
from lockgen.spec.envfile import load_env_specs

SPEC_FORMS = [
    ("numpy", "numpy", None),
    ("numpy=1.24.0", "numpy", None),
    ("numpy=1.24", "numpy", None),
    ("numpy==1.24.0", "numpy", None),
    ("numpy>=1.20,<2.0", "numpy", None),
    ("numpy 1.24.*", "numpy", None),
    ("pandas~=2.1.0", "pandas", None),
    ("numpy=1.24.0=py310h5f9d8c6_0", "numpy", None),
    ("libblas=*=*mkl", "libblas", None),
    ("conda-forge::scipy", "scipy", "conda-forge"),
    ("conda-forge::scipy>=1.11,<1.14", "scipy", "conda-forge"),
    ("pytorch[version='>=2',build=*cpu*]", "pytorch", None),
    ("PyYAML>=6", "pyyaml", None),
    ("python=3.11.*", "python", None),
]


def _env(deps: str, extra: str = "") -> str:
    return f"name: t\nchannels:\n  - conda-forge\n{extra}dependencies:\n{deps}"


@pytest.mark.parametrize(("text", "name", "channel"), SPEC_FORMS)
def test_every_spec_form_parses(text: str, name: str, channel: str | None) -> None:
    spec = parse_env_text(_env(f"  - {text!r}\n" if "'" not in text else f'  - "{text}"\n'), "env.yml")
    (dep,) = spec.dependencies
    assert dep.spec == text
    assert dep.name == name
    assert dep.channel == channel
    assert dep.location.line == 5


@pytest.mark.parametrize(
    ("text", "canonical", "channel"),
    [
        ("idna[channel=conda-forge]", "conda-forge::idna", "conda-forge"),
        ("idna[channel=conda-forge, version='>=3']", "conda-forge::idna[version='>=3']", "conda-forge"),
        ("idna>=3[channel='conda-forge/label/dev']", "conda-forge/label/dev::idna>=3", "conda-forge/label/dev"),
    ],
)
def test_a_bracket_channel_is_the_double_colon_form(text: str, canonical: str, channel: str) -> None:
    """conda spells a spec's channel two ways; lockgen reads (and records) both as `channel::`."""
    spec = parse_env_text(_env(f'  - "{text}"\n'), "env.yml")
    (dep,) = spec.dependencies
    assert (dep.spec, dep.name, dep.channel) == (canonical, "idna", channel)


SELECTORS = {
    "linux": {"linux-64": True, "osx-64": False, "win-64": False, "linux-aarch64": True, "osx-arm64": False},
    "osx": {"linux-64": False, "osx-64": True, "win-64": False, "osx-arm64": True},
    "win": {"linux-64": False, "osx-64": False, "win-64": True},
    "unix": {"linux-64": True, "osx-64": True, "win-64": False, "osx-arm64": True},
    "linux64": {"linux-64": True, "linux-aarch64": False, "osx-64": False},
    "osx64": {"osx-64": True, "osx-arm64": False, "linux-64": False},
    "win64": {"win-64": True, "linux-64": False},
    "arm64": {"osx-arm64": True, "linux-aarch64": True, "osx-64": False, "linux-64": False},
    "not win": {"linux-64": True, "osx-64": True, "win-64": False},
    "linux and not aarch64": {"linux-64": True, "linux-aarch64": False, "win-64": False},
    "osx or win": {"linux-64": False, "osx-64": True, "win-64": True},
}


@pytest.mark.parametrize("selector", sorted(SELECTORS))
def test_line_selectors_apply_per_platform(selector: str) -> None:
    spec = parse_env_text(_env(f"  - python\n  - extra  # [{selector}]\n"), "env.yml")
    for platform, expected in SELECTORS[selector].items():
        names = [d.name for d in spec.conda_dependencies(platform)]
        assert ("extra" in names) is expected, (selector, platform)
        assert "python" in names


def test_selectors_apply_to_pip_entries_too() -> None:
    text = _env("  - pip\n  - pip:\n    - rich\n    - pywin32-ctypes  # [win]\n")
    spec = parse_env_text(text, "env.yml")
    assert [e.text for e in spec.pip_entries("win-64")] == ["rich", "pywin32-ctypes"]
    assert [e.text for e in spec.pip_entries("linux-64")] == ["rich"]
    assert spec.pip is not None and spec.pip[1].location.line == 8


def test_full_file_fields(tmp_path: Path) -> None:
    text = """\
name: dl
channels:
  - conda-forge
  - https://conda.anaconda.org/pytorch
  - defaults
  - nodefaults
platforms:
  - linux-64
  - osx-arm64
dependencies:
  - python=3.11
  - pip
  - pip:
    - --extra-index-url https://example.org/simple
    - transformers[torch]>=4.30
    - colorama ; sys_platform == "win32"
    - -r extra-requirements.txt
    - -e .
"""
    spec = parse_env_text(text, "environment.yml")
    assert spec.name == "dl"
    assert spec.channels == ("conda-forge", "https://conda.anaconda.org/pytorch", "defaults")
    assert spec.nodefaults is True
    assert spec.platforms == ("linux-64", "osx-arm64")
    assert [d.name for d in spec.dependencies] == ["python", "pip"]
    assert spec.pip is not None
    assert [e.text for e in spec.pip][1] == "transformers[torch]>=4.30"
    assert len(spec.pip) == 5


def test_no_pip_section_is_none_and_empty_pip_list_is_empty() -> None:
    assert parse_env_text(_env("  - python\n"), "e.yml").pip is None
    assert parse_env_text(_env("  - python\n  - pip:\n"), "e.yml").pip == ()
    spec = parse_env_text(_env("  - python\n  - pip: []\n"), "e.yml")
    assert spec.pip == ()


def test_unknown_keys_warn_and_prefix_variables_are_noted() -> None:
    spec = parse_env_text(_env("  - python\n", "prefix: /opt/env\nvariables:\n  A: b\nfoo: 1\n"), "e.yml")
    notes = [str(n) for n in spec.notes]
    assert any("prefix" in n and "ignored" in n and n.startswith("e.yml:4: note: ") for n in notes)
    assert any("variables" in n and "ignored" in n for n in notes)
    assert any("e.yml:7: warning: unknown top-level key `foo`" in n for n in notes)
    assert [n.severity for n in spec.notes] == ["note", "note", "warning"]


def test_pip_style_extras_in_a_conda_spec_are_dropped_with_a_warning() -> None:
    deps = "  - dask[complete]\n  - numpy[version='>=1.2', foo]\n  - xarray[io,viz]>=2023\n"
    spec = parse_env_text(_env(deps), "e.yml")
    assert [d.spec for d in spec.dependencies] == ["dask", "numpy[version='>=1.2']", "xarray>=2023"]
    notes = [str(n) for n in spec.notes]
    assert notes[0] == (
        "e.yml:5: warning: `dask[complete]`: conda ignores `complete` in brackets (pip-style extras are not"
        " conda's; conda packages have no extras), so lockgen locks `dask`"
    )
    assert "e.yml:6: warning:" in notes[1] and "`foo`" in notes[1]
    assert "ignores `io`, `viz`" in notes[2]
    assert {n.severity for n in spec.notes} == {"warning"}


BAD_INPUTS = [
    (_env("  - dask[complete\n"), ["e.yml:5: invalid conda spec 'dask[complete'"]),
    (_env("  - '[complete]'\n"), ["e.yml:5: invalid conda spec '[complete]'"]),
    ("", ["e.yml: the file is empty"]),
    ("# only a comment\n", ["e.yml: the file has no content"]),
    ("name: [unclosed\n", ["e.yml:2: malformed YAML"]),
    ("- a\n- b\n", ["e.yml:1: top level must be a mapping"]),
    (_env("  - num$py\n"), ["e.yml:5: invalid conda spec 'num$py'"]),
    (_env("  - '>=1.0'\n"), ["e.yml:5: invalid conda spec '>=1.0'"]),
    (_env("  - python\n", "platforms:\n  - linux-65\n"), ["e.yml:5: unknown platform 'linux-65'"]),
    (_env("  - python\n", "platforms:\n  - linux-64/../../etc\n"), ["e.yml:5: unknown platform"]),
    (_env("  - pip:\n      rich: 1\n"), ["e.yml:6: `pip:` must be a list, got a mapping"]),
    (_env("  - pip: rich\n"), ["e.yml:5: `pip:` must be a list"]),
    ("name: t\nchannels:\n  - 42\ndependencies:\n  - python\n", ["e.yml:3: a channel must be a string, got a number"]),
    ("name: t\nchannels:\n  - [a]\ndependencies:\n  - python\n", ["e.yml:3: a channel must be a string, got a list"]),
    ("name: t\nchannels:\n  - 'my chan'\ndependencies:\n  - python\n", ["e.yml:3: channel 'my chan' contains white"]),
    ("name: t\nchannels: conda-forge\ndependencies:\n  - python\n", ["e.yml:2: channels must be a list"]),
    ("name: t\nchannels:\n  - conda-forge\n", ["e.yml: no `dependencies:` list"]),
    (_env("  - python  # [windows]\n"), ["e.yml:5: unknown selector name 'windows'"]),
    (_env("  - python  # [linux and]\n"), ["e.yml:5: selector [linux and] is not a valid expression"]),
    (_env("  - python\n  - {a: 1}\n"), ["e.yml:6: a mapping in dependencies must be `pip:`"]),
    (_env("  - pip:\n    - 'requests >= = 2'\n"), ["e.yml:6: invalid pip requirement"]),
    (_env("  - 3.5\n"), ["e.yml:5: a dependency must be a string, got a number"]),
    # YAML reads 3.10 as 3.1: the message quotes the number as written
    (
        _env("  - 3.10\n"),
        ['e.yml:5: a dependency must be a string, got a number (YAML reads 3.10 as a number: quote it, "3.10")'],
    ),
    (
        "name: 1.10\ndependencies: [python]\n",
        ['e.yml:1: name must be a string, got a number (YAML reads 1.10 as a number: quote it, "1.10")'],
    ),
    (
        _env("  - pip:\n    - 2.0\n"),
        ['e.yml:6: a pip requirement must be a string, got a number (YAML reads 2.0 as a number: quote it, "2.0")'],
    ),
    # a list item indented deeper than the one above is folded into it by YAML
    (_env("  - python=3.11\n   - numpy\n"), ["e.yml:6: dependency 'python=3.11 - numpy' holds two list items"]),
    (_env("  - pip:\n    - rich\n     - wandb>=0.15\n"), ["e.yml:7: pip entry 'rich - wandb>=0.15' holds two"]),
    ("name: a\nname: b\nchannels: [x]\ndependencies: [python]\n", ["e.yml:2: duplicate top-level key 'name'"]),
]


@pytest.mark.parametrize(("text", "expected"), BAD_INPUTS)
def test_bad_input_gives_file_line_messages(text: str, expected: list[str]) -> None:
    with pytest.raises(InputError) as info:
        parse_env_text(text, "e.yml")
    messages = [str(p) for p in info.value.problems]
    for want in expected:
        assert any(m.startswith(want) for m in messages), (want, messages)


def test_a_pip_line_yaml_reads_as_a_mapping_says_to_quote_it() -> None:
    """pip's own docs write `--only-binary :all:`: in YAML the ending colon makes it a mapping."""
    text = "dependencies:\n  - pip\n  - pip:\n    - --only-binary :all:\n    - rich: 13\n"
    with pytest.raises(InputError) as info:
        parse_env_text(text, "e.yml")
    messages = [str(p) for p in info.value.problems]
    assert messages[0] == (
        "e.yml:4: a pip requirement must be a string, got a mapping (YAML reads a line ending with `:` as a mapping:"
        " quote it, `- '--only-binary :all:'`)"
    )
    assert messages[1] == "e.yml:5: a pip requirement must be a string, got a mapping"  # not a lost colon


def test_all_problems_are_reported_at_once() -> None:
    text = "name: t\nchannels:\n  - 42\nplatforms: [linux-65]\ndependencies:\n  - num$py\n  - ok\n  - '=1'\n"
    with pytest.raises(InputError) as info:
        parse_env_text(text, "e.yml")
    lines = sorted(p.line or 0 for p in info.value.problems)
    assert lines == [3, 4, 6, 8]
    assert "4 problems" in info.value.message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_env_specs([tmp_path / "nope.yml", tmp_path])
    messages = [str(p) for p in info.value.problems]
    assert messages[0].endswith("nope.yml: no such file")
    assert "is a directory" in messages[1]


def test_merge_later_file_wins(tmp_path: Path) -> None:
    base = tmp_path / "base.yml"
    over = tmp_path / "over.yml"
    base.write_text(
        "name: a\nchannels: [conda-forge]\nplatforms: [linux-64]\n"
        "dependencies:\n  - numpy=1.26\n  - scipy\n  - pip:\n    - rich==13\n"
    )
    over.write_text(
        "name: b\nchannels: [pytorch, conda-forge]\ndependencies:\n  - numpy>=2\n"
        "  - pytorch\n  - pip:\n    - rich>=14\n    - wandb\n"
    )
    spec = load_env_specs([base, over])
    assert spec.name == "b"
    assert spec.channels == ("conda-forge", "pytorch")
    assert spec.platforms == ("linux-64",)
    assert [d.spec for d in spec.dependencies] == ["scipy", "numpy>=2", "pytorch"]
    assert spec.pip is not None and [e.text for e in spec.pip] == ["rich>=14", "wandb"]
    assert spec.files == (str(base), str(over))
    overrides = [str(n) for n in spec.notes if "replaces" in n.message]
    assert overrides == [
        f"{over}:4: note: `numpy>=2` replaces `numpy=1.26` from {base}:5 (a later -f file wins for the same package)",
        f"{over}:7: note: pip `rich>=14` replaces `rich==13` from {base}:8 (a later -f file wins for the same package)",
    ]


def test_folded_item_names_the_fix() -> None:
    with pytest.raises(InputError) as info:
        parse_env_text(_env("  - python=3.11\n   - numpy\n  - scipy\n"), "e.yml")
    assert info.value.exit_code == 3
    (problem,) = info.value.problems
    assert problem.line == 6 and "indent `- numpy` like the other items" in problem.message


def test_yaml_alias_bomb_does_not_expand() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [*{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}]\n"
    bomb += "name: t\nchannels: [conda-forge]\ndependencies: [python]\n"
    spec = parse_env_text(bomb, "bomb.yml")
    assert [d.name for d in spec.dependencies] == ["python"]
    assert sum("unknown top-level key" in n.message for n in spec.notes) == 9
