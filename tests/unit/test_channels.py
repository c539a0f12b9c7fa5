"""Channel resolution, mirrors, credential stripping and redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgen.channels import (
    parse_mirror,
    resolve_channel,
    resolve_channels,
    split_channel_spec,
    to_canonical_url,
    with_spec_channels,
)
from lockgen.errors import ConfigError
from lockgen.secrets import SecretRegistry, redact, strip_credentials


def test_names_urls_and_paths(tmp_path: Path) -> None:
    assert resolve_channel("conda-forge").canonical == "https://conda.anaconda.org/conda-forge"
    url = resolve_channel("https://example.org/chan/")
    assert (url.name, url.canonical) == ("https://example.org/chan", "https://example.org/chan")
    local = resolve_channel(str(tmp_path / "ch"))
    assert local.canonical == (tmp_path / "ch").as_uri()


def test_defaults_expand_per_platform() -> None:
    linux = [c.canonical for c in resolve_channels(["defaults"], "linux-64")]
    win = [c.canonical for c in resolve_channels(["defaults"], "win-64")]
    assert linux == ["https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r"]
    assert win == [*linux, "https://repo.anaconda.com/pkgs/msys2"]


def test_mirror_replaces_fetch_url_but_not_canonical(tmp_path: Path) -> None:
    mirror = parse_mirror(f"https://conda.anaconda.org={tmp_path}")
    channel = resolve_channel("conda-forge", [mirror])
    assert channel.canonical == "https://conda.anaconda.org/conda-forge"
    assert channel.fetch == tmp_path.as_uri() + "/conda-forge"
    fetched = f"{channel.fetch}/linux-64/zlib-1.3-h1_0.conda"
    assert to_canonical_url(fetched, [channel]) == f"{channel.canonical}/linux-64/zlib-1.3-h1_0.conda"


def test_longest_mirror_prefix_wins() -> None:
    general = parse_mirror("https://conda.anaconda.org=http://127.0.0.1:1/all")
    special = parse_mirror("https://conda.anaconda.org/pytorch=http://127.0.0.1:2/pt")
    assert resolve_channel("pytorch", [general, special]).fetch == "http://127.0.0.1:2/pt"
    assert resolve_channel("conda-forge", [general, special]).fetch == "http://127.0.0.1:1/all/conda-forge"


@pytest.mark.parametrize("bad", ["no-equals", "=x", "https://a=", "not-a-url=/tmp"])
def test_bad_mirror_rejected(bad: str) -> None:
    with pytest.raises(ConfigError):
        parse_mirror(bad)


def test_credentials_are_used_for_fetch_and_stripped_from_canonical() -> None:
    token = resolve_channel("https://conda.anaconda.org/t/tk-SECRET123/private")
    assert token.fetch == "https://conda.anaconda.org/t/tk-SECRET123/private"
    assert token.canonical == "https://conda.anaconda.org/private"
    basic = resolve_channel("https://alice:pa55word@example.org/chan")
    assert basic.canonical == "https://example.org/chan"
    assert "pa55word" not in basic.name
    assert (
        to_canonical_url(basic.fetch + "/noarch/a-1-0.conda", [basic]) == "https://example.org/chan/noarch/a-1-0.conda"
    )


def test_redaction() -> None:
    text = "GET https://alice:pa55word@h/x and https://conda.anaconda.org/t/tk-SECRET123/ch/noarch failed"
    out = redact(text)
    assert "pa55word" not in out and "tk-SECRET123" not in out and "alice" not in out
    registry = SecretRegistry()
    registry.add_url("https://conda.anaconda.org/t/tk-SECRET123/ch")
    assert registry.redact("token tk-SECRET123 leaked") == "token *** leaked"
    assert strip_credentials("https://u:p@h/t/tok/c/x") == "https://h/c/x"


def test_hostile_channel_names_rejected() -> None:
    for bad in ["my channel", "conda-forge/../../etc", ""]:
        with pytest.raises(ConfigError):
            resolve_channel(bad)


def test_defaults_expand_per_platform_as_conda_does() -> None:
    from lockgen.channels import resolve_channels

    linux = resolve_channels(["conda-forge", "defaults"], "linux-64")
    assert [c.canonical for c in linux] == [
        "https://conda.anaconda.org/conda-forge",
        "https://repo.anaconda.com/pkgs/main",
        "https://repo.anaconda.com/pkgs/r",
    ]
    assert [c.label for c in linux] == ["conda-forge", "defaults", "defaults"]
    assert [c.canonical for c in resolve_channels(["defaults"], "osx-arm64")][-1].endswith("/pkgs/r")
    assert [c.canonical for c in resolve_channels(["defaults"], "win-64")][-1] == "https://repo.anaconda.com/pkgs/msys2"
    hint = linux[1].mirror_hint()
    assert "--mirror https://repo.anaconda.com=" in hint and "nodefaults" in hint
    assert "nodefaults" not in linux[0].mirror_hint()


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("numpy >=1", (None, None, "numpy >=1")),
        ("conda-forge::numpy", ("conda-forge", None, "numpy")),
        ("conda-forge/linux-64::numpy", ("conda-forge", "linux-64", "numpy")),
        ("conda-forge/label/dev::numpy", ("conda-forge/label/dev", None, "numpy")),
        ("conda-forge/label/my-label::numpy", ("conda-forge/label/my-label", None, "numpy")),
        ("https://host.example/chan/noarch::x 1.*", ("https://host.example/chan", "noarch", "x 1.*")),
        ("https://host.example/chan/::x", ("https://host.example/chan", None, "x")),
        ("./local::x", ("./local", None, "x")),
        # conda's bracket spelling of the channel reads as the `::` one
        ("idna[channel=conda-forge]", ("conda-forge", None, "idna")),
        ("numpy[channel='conda-forge', version='>=2']", ("conda-forge", None, "numpy[version='>=2']")),
        ("numpy[version='>=2',channel=\"conda-forge/linux-64\"]", ("conda-forge", "linux-64", "numpy[version='>=2']")),
        ("numpy >=1[channel=https://host.example/chan]", ("https://host.example/chan", None, "numpy >=1")),
        ("numpy[build=*cpu*]", (None, None, "numpy[build=*cpu*]")),
    ],
)
def test_a_spec_channel_is_read_in_one_place(text: str, parts: tuple[str | None, str | None, str]) -> None:
    assert split_channel_spec(text) == parts


def test_spec_channels_are_added_once_and_mirrored(tmp_path: Path) -> None:
    mirror = parse_mirror(f"https://conda.anaconda.org={tmp_path.as_uri()}")
    listed = resolve_channels(["conda-forge"], "linux-64", [mirror])
    written = ["conda-forge", "conda-forge/label/dev", "https://u:pw@conda.anaconda.org/conda-forge", "bioconda"]
    channels, found = with_spec_channels(listed, written, [mirror])
    assert [c.name for c in channels] == ["conda-forge", "conda-forge/label/dev", "bioconda"]
    assert found["https://u:pw@conda.anaconda.org/conda-forge"] is channels[0]
    # a label is a channel of its own, read through the mirror like the listed ones
    assert found["conda-forge/label/dev"].fetch == f"{tmp_path.as_uri()}/conda-forge/label/dev"


def test_defaults_colon_colon_goes_to_anacondas_channels_not_a_channel_named_defaults() -> None:
    from lockgen.channels import with_spec_channels
    from lockgen.conda.solve import _spec_sources
    from lockgen.solverequest import SolveRequest

    listed = resolve_channels(["conda-forge"], "win-64")
    channels, found = with_spec_channels(
        listed, ["defaults"], platform="win-64", origins={"defaults": "environment.yml:6"}
    )
    assert [c.canonical for c in channels] == [
        "https://conda.anaconda.org/conda-forge",
        "https://repo.anaconda.com/pkgs/main",
        "https://repo.anaconda.com/pkgs/r",
        "https://repo.anaconda.com/pkgs/msys2",
    ]
    assert found["defaults"].canonical == "https://repo.anaconda.com/pkgs/main"
    hint = found["defaults"].mirror_hint()
    assert "--mirror https://repo.anaconda.com=" in hint
    assert "drop `defaults::` in environment.yml:6" in hint
    request = SolveRequest("win-64", ("defaults::libgomp", "defaults::r-base >=4", "defaults::m2-zip"), listed, ())
    _, specs = _spec_sources(request)
    assert specs == [
        "https://repo.anaconda.com/pkgs/main::libgomp",
        "https://repo.anaconda.com/pkgs/r::r-base >=4",
        "https://repo.anaconda.com/pkgs/msys2::m2-zip",
    ]
