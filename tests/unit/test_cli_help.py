"""`--help`: every command listed once and in full; one exit-code table, the same as README's."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from lockgen.cli.app import cli
from lockgen.errors import EXIT_CODES
from tests.conftest import ROOT

COMMANDS = ("lock", "check", "diff", "explain", "verify", "install")


def _help(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def test_top_level_help_lists_each_command_once_without_cutting_it() -> None:
    text = _help()
    commands = text.split("Commands:", 1)[1].split("Exit codes:", 1)[0]
    listed = re.findall(r"^  (\w+)\s", commands, flags=re.MULTILINE)
    assert listed == list(COMMANDS)
    for name in COMMANDS:  # no second, hand-written list in the description
        assert len(re.findall(rf"\b{name}\b", text.split("Options:", 1)[0])) == 0
    assert "..." not in commands


def test_top_level_help_has_the_whole_exit_code_table() -> None:
    table = _help().split("Exit codes:", 1)[1]
    codes = [int(c) for c in re.findall(r"^\s+(\d+)  ", table, flags=re.MULTILINE)]
    assert codes == list(EXIT_CODES)
    assert 130 in codes


@pytest.mark.parametrize("command", COMMANDS)
def test_commands_point_at_the_table_instead_of_repeating_it(command: str) -> None:
    text = _help(command)
    assert "see `lockgen --help`" in text
    assert EXIT_CODES[3] not in text


def test_readme_exit_codes_match_the_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", section, flags=re.MULTILINE))
    assert {int(code): text for code, text in rows.items()} == EXIT_CODES


def test_license_is_an_spdx_string_with_a_setuptools_that_reads_it() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the other tests cover 3.10
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["license"] == "BSD-3-Clause"
    minimum = re.search(r"setuptools>=(\d+)", " ".join(data["build-system"]["requires"]))
    assert minimum and int(minimum.group(1)) >= 77
