"""The memo of parsed environment files (lockgen.spec.memo): what it gives back is what the parser
returned, it is used only for the same text, name and code, it is never read from inside the project,
and a memo that is damaged or names changed code counts as none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lockgen.errors import InputError
from lockgen.spec import memo
from lockgen.spec.document import parse_env_text
from lockgen.spec.envfile import load_env_specs
from lockgen.spec.model import EnvSpec
from tests.conftest import SHARED_ENVS

EVERY_FIELD = """\
name: every-field
channels:
  - pytorch
  - conda-forge
  - nodefaults
platforms: [linux-64, win-64]
prefix: /opt/env
colour: blue
dependencies:
  - python=3.11
  - conda-forge::numpy>=1.26,<2
  - pywin32  # [win]
  - idna[channel=conda-forge]
  - pip
  - pip:
      - requests>=2.31
      - colorama ; sys_platform == "win32"  # [win]
      - --extra-index-url https://example.org/simple
      - -r requirements-dev.txt
      - git+https://example.org/repo.git@v1#egg=thing
"""


def spec_of(text: str, name: str = "environment.yml") -> EnvSpec:
    return parse_env_text(text, name)


def round_trip(spec: EnvSpec) -> EnvSpec:
    return memo._decode(json.loads(json.dumps(memo._encode(spec))))


def test_every_field_comes_back_as_the_parser_gave_it() -> None:
    spec = spec_of(EVERY_FIELD)
    assert spec.notes and spec.pip and spec.platforms and spec.nodefaults  # the text reaches every field
    assert any(d.selector for d in spec.dependencies) and any(e.selector for e in spec.pip)
    assert {n.severity for n in spec.notes} == {"note", "warning"}
    assert round_trip(spec) == spec
    bare = spec_of("channels: [conda-forge]\ndependencies: [python]\n")
    assert bare.pip is None and bare.platforms is None and bare.name is None
    assert round_trip(bare) == bare


def test_the_shared_environments_come_back_as_parsed() -> None:
    if not SHARED_ENVS.is_dir():
        pytest.skip("../shared/environments is absent")
    parsed = 0
    for path in sorted(SHARED_ENVS.rglob("*.y*ml")):
        try:
            spec = spec_of(path.read_text(encoding="utf-8"), str(path))
        except (InputError, UnicodeDecodeError):
            continue  # files that do not parse are never kept
        assert round_trip(spec) == spec, path
        parsed += 1
    assert parsed >= 3


def write_env(folder: Path, text: str = EVERY_FIELD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "environment.yml"
    path.write_text(text, encoding="utf-8")
    return path


def memo_files(memo_dir: Path) -> list[Path]:
    return sorted(memo_dir.glob("*.json"))


def test_a_second_read_is_the_memos_and_equal(tmp_path: Path) -> None:
    env, memo_dir = write_env(tmp_path / "project"), tmp_path / "cache" / "memo"
    first = load_env_specs([env], memo_dir=memo_dir)
    assert len(memo_files(memo_dir)) == 1
    assert first == load_env_specs([env])  # the same as without a memo
    stored = memo_files(memo_dir)[0].read_bytes()
    assert load_env_specs([env], memo_dir=memo_dir) == first
    assert memo_files(memo_dir)[0].read_bytes() == stored  # read, not written again


def test_a_read_from_the_memo_loads_no_yaml_parser(tmp_path: Path) -> None:
    env, memo_dir = write_env(tmp_path / "project"), tmp_path / "cache" / "memo"
    script = (
        "import sys\n"
        "from lockgen.spec.envfile import load_env_specs\n"
        f"spec = load_env_specs([{str(env)!r}], memo_dir=__import__('pathlib').Path({str(memo_dir)!r}))\n"
        "print(repr(spec))\n"
        "print(sorted(m for m in ('yaml', 'lockgen.spec.document', 'lockgen.spec.yamlread') if m in sys.modules))\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    (first_spec, first_loaded), (second_spec, second_loaded) = (r.splitlines() for r in runs)
    assert first_loaded == "['lockgen.spec.document', 'lockgen.spec.yamlread', 'yaml']"  # parsed, then kept
    assert second_loaded == "[]"
    assert second_spec == first_spec


def test_another_text_or_name_is_another_memo(tmp_path: Path) -> None:
    memo_dir = tmp_path / "memo"
    env = write_env(tmp_path / "a")
    load_env_specs([env], memo_dir=memo_dir)
    write_env(tmp_path / "a", EVERY_FIELD.replace("requests>=2.31", "requests>=2.32"))
    changed = load_env_specs([env], memo_dir=memo_dir)
    assert any(e.text == "requests>=2.32" for e in changed.pip or ())
    other = write_env(tmp_path / "b")  # the same text, shown by another name: its locations differ
    assert load_env_specs([other], memo_dir=memo_dir).dependencies[0].location.file == str(other)
    assert len(memo_files(memo_dir)) == 3


def test_a_file_with_problems_is_never_kept(tmp_path: Path) -> None:
    memo_dir = tmp_path / "memo"
    env = write_env(tmp_path / "p", "channels: [conda-forge]\ndependencies:\n  - numpy=>1\n  - 3.10\n")
    for _ in range(2):
        with pytest.raises(InputError) as caught:
            load_env_specs([env], memo_dir=memo_dir)
        assert any(p.line == 4 for p in caught.value.problems)
    assert not memo_dir.exists()


def test_notes_are_reported_from_the_memo_too(tmp_path: Path) -> None:
    memo_dir = tmp_path / "memo"
    env = write_env(tmp_path / "n")
    first = load_env_specs([env], memo_dir=memo_dir)
    again = load_env_specs([env], memo_dir=memo_dir)
    assert [str(n) for n in again.notes] == [str(n) for n in first.notes]
    assert any("unknown top-level key `colour`" in str(n) for n in again.notes)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],
        lambda data: b"[1, 2, 3]",
        lambda data: data.replace(b'"memo-v1"', b'"memo-v0"'),
        lambda data: data.replace(b",true,", b',"true",', 1),  # nodefaults, as a text
        lambda data: data.replace(b'"warning"', b'"fatal"'),
        lambda data: data.replace(b'"code":[[', b'"code":[["/no/such/module.py",1,1],[', 1),
    ],
    ids=["empty", "cut", "not-a-memo", "other-format", "wrong-type", "bad-severity", "missing-module"],
)
def test_a_damaged_memo_is_ignored_and_written_again(tmp_path: Path, damage: object) -> None:
    memo_dir = tmp_path / "memo"
    env = write_env(tmp_path / "d")
    expected = load_env_specs([env], memo_dir=memo_dir)
    (path,) = memo_files(memo_dir)
    good = path.read_bytes()
    assert callable(damage)
    damaged = damage(good)
    assert damaged != good
    path.write_bytes(damaged)
    assert memo.load(memo_dir, str(env), env.read_text()) is None
    assert load_env_specs([env], memo_dir=memo_dir) == expected
    assert memo.load(memo_dir, str(env), env.read_text()) == expected  # written again


def test_a_memo_is_used_only_while_the_code_it_names_is_unchanged(tmp_path: Path) -> None:
    """The memo names every loaded module of lockgen and PyYAML; an edit to one (its size or time) is a miss."""
    memo_dir = tmp_path / "memo"
    env = write_env(tmp_path / "c")
    load_env_specs([env], memo_dir=memo_dir)
    (path,) = memo_files(memo_dir)
    data = json.loads(path.read_text())
    files = {Path(file).name for file, _, _ in data["code"]}
    assert {"document.py", "yamlread.py", "envfile.py", "composer.py"} <= files  # lockgen's parser, PyYAML's
    module = tmp_path / "module.py"
    module.write_text("x = 1\n")
    st = module.stat()
    data["code"].append([str(module), st.st_size, st.st_mtime_ns])
    path.write_text(json.dumps(data))
    assert memo.load(memo_dir, str(env), env.read_text()) is not None
    os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert memo.load(memo_dir, str(env), env.read_text()) is None


def test_the_folder_is_kept_small(tmp_path: Path) -> None:
    memo_dir = tmp_path / "memo"
    spec = spec_of(EVERY_FIELD)
    for index in range(memo.MEMO_LIMIT + 1):
        memo.store(memo_dir, "environment.yml", f"{EVERY_FIELD}# {index}\n", spec)
    assert len(memo_files(memo_dir)) <= memo.MEMO_LIMIT // 2 + 1
    assert memo.load(memo_dir, "environment.yml", f"{EVERY_FIELD}# {memo.MEMO_LIMIT}\n") == spec  # the newest kept


def test_a_cache_that_cannot_be_written_costs_a_parse_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = write_env(tmp_path / "w")
    assert load_env_specs([env], memo_dir=blocker / "memo") == load_env_specs([env])
    assert not list(tmp_path.glob("**/*.tmp*"))
