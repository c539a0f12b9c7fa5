"""Virtual packages per target, overrides, and option merging with [tool.lockgen]."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from lockgen.config import build_options
from lockgen.errors import ConfigError
from lockgen.platforms import default_virtual_packages, parse_virtual_package_override
from tests.support.options import flags


def test_default_virtual_packages() -> None:
    assert set(default_virtual_packages("linux-64")) == {"__unix", "__linux", "__glibc", "__archspec"}
    assert set(default_virtual_packages("osx-64")) == {"__unix", "__osx", "__archspec"}
    assert set(default_virtual_packages("win-64")) == {"__win", "__archspec"}
    assert default_virtual_packages("osx-arm64")["__archspec"].build == "arm64"
    assert default_virtual_packages("linux-aarch64")["__archspec"].build == "aarch64"
    # conda reports the Windows version (10.0.<build>), never 0 on a real machine
    assert default_virtual_packages("win-64")["__win"].version == "10.0.17763"


def test_cuda_only_on_linux_and_windows() -> None:
    assert default_virtual_packages("linux-64", cuda="12.4")["__cuda"].version == "12.4"
    assert default_virtual_packages("win-64", cuda="12.4")["__cuda"].version == "12.4"
    assert "__cuda" not in default_virtual_packages("osx-64", cuda="12.4")
    assert "__cuda" not in default_virtual_packages("linux-64")


def test_override_parsing() -> None:
    platform, vp = parse_virtual_package_override("osx-64:__osx=11.0")
    assert (platform, vp.name, vp.version, vp.build) == ("osx-64", "__osx", "11.0", "0")
    assert parse_virtual_package_override("*:__glibc=2.17")[0] == "*"
    for bad in ["__osx=11", "osx-64:osx=11", "mars-64:__osx=1", "osx-64:__osx="]:
        with pytest.raises(ValueError):
            parse_virtual_package_override(bad)


def test_tool_config_is_read_and_cli_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lockgen]\nplatforms = ["linux-64"]\ncuda = "12.4"\nexclude-newer = 2026-01-02\n'
        'mirrors = { "https://conda.anaconda.org" = "mirror" }\nvirtual-packages = ["linux-64:__glibc=2.17"]\n'
    )
    env = tmp_path / "environment.yml"
    options = build_options([env], flags())
    assert (options.platforms, options.config_platforms) == (None, ("linux-64",))  # the targets, not a -p subset
    assert options.cuda == "12.4"
    assert options.exclude_newer == dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    assert options.mirrors[0].replacement == (tmp_path / "mirror").as_uri()
    assert options.virtual_overrides[0][1].version == "2.17"
    cli = build_options([env], flags(platforms=("win-64",), cuda="11.8", exclude_newer="2025-05-01T12:00:00Z"))
    assert cli.platforms == ("win-64",) and cli.cuda == "11.8"
    assert cli.exclude_newer == dt.datetime(2025, 5, 1, 12, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    "values",
    [
        {"platforms": ("linux-65",)},
        {"exclude_newer": "yesterday"},
        {"filename_template": "../{platform}.txt"},
        {"filename_template": "lock.txt"},
        {"virtual_packages": ("bad",)},
        {"channel_priority": "loose"},
    ],
)
def test_bad_options(tmp_path: Path, values: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        build_options([tmp_path / "environment.yml"], flags(**values))


def test_unknown_tool_key_rejected(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.lockgen]\nplatform = ['linux-64']\n")
    with pytest.raises(ConfigError, match="unknown"):
        build_options([tmp_path / "environment.yml"], flags())


@pytest.mark.parametrize(
    ("key", "value", "flag", "said"),
    [
        ("hash", '"sha1"', "hash_kind", "must be md5 or sha256, got 'sha1'"),
        ("virtual-packages", '["bad"]', "virtual_packages", ""),
        ("exclude-newer", '"yesterday"', "exclude_newer", "expects a date like 2026-08-01"),
        ("channel-priority", '"loose"', "channel_priority", "channel priority must be one of"),
        ("platforms", '["linux-65"]', "platforms", "unknown platform(s): linux-65"),
        ("jobs", '"many"', "jobs", "must be `auto` or a whole number >= 1, got 'many'"),
        ("filename-template", '"lock.txt"', "filename_template", "{platform}"),
        ("mirrors", '["nonsense"]', "mirrors", "expects CANONICAL=REPLACEMENT, got 'nonsense'"),
        ("conda-lock-file", '"x.txt"', "conda_lock_file", "must end in .yml or .yaml"),
    ],
)
def test_a_bad_tool_value_names_its_pyproject_line_not_a_flag(
    tmp_path: Path, key: str, value: str, flag: str, said: str
) -> None:
    """A bad value from [tool.lockgen] says the pyproject.toml line and key it came from; the same bad
    value given on the command line names the flag (issue 24, item 10)."""
    text = f'[project]\nname = "x"\n\n[tool.lockgen]\nstrict = true\n{key} = {value}\n'
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        build_options([tmp_path / "environment.yml"])
    message = info.value.message
    assert message.startswith(f"{tmp_path / 'pyproject.toml'}:6: [tool.lockgen] {key}"), message
    assert said in message and "--" not in message, message
    (tmp_path / "pyproject.toml").unlink()
    bad: dict[str, Any] = {flag: tuple(json.loads(value)) if value.startswith("[") else json.loads(value)}
    with pytest.raises(ConfigError) as info:
        build_options([tmp_path / "environment.yml"], flags(**bad))
    assert "pyproject.toml" not in info.value.message and said in info.value.message


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("strict", '"no"', "strict must be true or false, got 'no'"),
        ("only-binary", "1", "only-binary must be true or false, got 1"),
        ("pypi-mapping", "5", "pypi-mapping must be the path of a JSON file, got 5"),
        ("cuda", "[12]", 'cuda must be a version such as "12.6", got [12]'),
    ],
)
def test_a_tool_value_of_the_wrong_type_is_refused_with_its_line(
    tmp_path: Path, key: str, value: str, said: str
) -> None:
    """``strict = "no"`` once meant true, ``pypi-mapping = 5`` was an internal error: each is now a
    settings error (exit 2) at its pyproject.toml line."""
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.lockgen]\n{key} = {value}\n')
    with pytest.raises(ConfigError) as info:
        build_options([tmp_path / "environment.yml"])
    assert info.value.message == f"{tmp_path / 'pyproject.toml'}:5: [tool.lockgen] {said}"
