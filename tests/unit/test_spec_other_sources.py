"""Files conda-lock and pixi read, given to `-f`: named for what they are and how to move, not "malformed YAML"."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgen.errors import InputError
from lockgen.spec.envfile import load_env_specs
from tests.support.cli import invoke_lockgen

POETRY = """\
[tool.poetry]
name = "demo"
[tool.poetry.dependencies]
python = "^3.11"
numpy = "^1.26"
[tool.conda-lock]
channels = ["conda-forge"]
platforms = ["linux-64"]
"""
PEP621 = """\
[project]
name = "demo"
dependencies = ["numpy>=1.26", "requests"]
[tool.conda-lock.dependencies]
pip = "*"
"""
PIXI = """\
[workspace]
name = "demo"
channels = ["conda-forge"]
platforms = ["linux-64"]
[dependencies]
numpy = ">=1.26"
"""
META = """\
{% set version = "1.0" %}
package:
  name: demo
  version: {{ version }}
requirements:
  run:
    - python >=3.11
    - numpy
"""

CASES = [
    ("pyproject.toml", POETRY, "(it has [tool.conda-lock], [tool.poetry])", "conda-lock's pyproject.toml sources"),
    ("pyproject.toml", PEP621, "(it has [tool.conda-lock], [project])", "PEP 621 `[project] dependencies`"),
    ("pixi.toml", PIXI, "a pixi manifest", "pixi project export conda-environment environment.yml"),
    ("meta.yaml", META, "a conda-build recipe", "run requirements"),
]


@pytest.mark.parametrize(("name", "text", "what", "how"), CASES)
def test_other_sources_are_named_with_the_way_to_move(
    tmp_path: Path, name: str, text: str, what: str, how: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_env_specs([path])
    message = str(caught.value)
    assert "malformed YAML" not in message
    assert what in message and how in message
    assert "lockgen reads conda environment files" in message
    assert 'docs/from-conda-lock.md, "Other sources"' in message


def test_the_cli_refuses_a_pyproject_given_to_f_with_exit_3(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PEP621)
    result = invoke_lockgen("lock", "-f", "pyproject.toml", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert "pyproject.toml" in result.stderr and "not an environment file" in result.stderr
    assert "malformed YAML" not in result.stderr
    assert not (tmp_path / "locks").exists()


def test_a_plain_environment_file_is_still_read(tmp_path: Path) -> None:
    (tmp_path / "env.yaml").write_text("channels: [conda-forge]\ndependencies: [numpy]\n")
    assert [d.name for d in load_env_specs([tmp_path / "env.yaml"]).dependencies] == ["numpy"]
