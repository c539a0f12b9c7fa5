"""The messages for mistakes people make: each names the place (file:line), says the fix, and fits
one screen (at most 25 lines). In-process; the CLI-level cases are in
tests/integration/test_messages_cli.py."""

from __future__ import annotations

import pytest

from lockgen.errors import InputError
from lockgen.spec import parse_env_text

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
