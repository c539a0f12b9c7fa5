"""The conda stage's diagnosis, as pure functions on error texts rattler really produced.

The solver's explanations are py-rattler's recordings (tests/data/rattler-output, made by
tests/support/rattler_wording.py). Each ``*_TEXT`` below is ``str(exc)`` of a fetch error py-rattler
0.28 raised (recorded on a loopback server answering with the status shown); ports and temporary
paths are the only parts rewritten.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgen.channels import parse_mirror, resolve_channel
from lockgen.conda.diagnose import (
    channel_of,
    checkable_names,
    combine_failures,
    concerned_requests,
    missing_specs,
    no_match_hint,
    offline_listing,
    typo_lines,
    virtual_package_hint,
)
from lockgen.errors import ChannelError, SolveError
from lockgen.platforms import VirtualPackage
from lockgen.repodata.failures import fetch_failure, fetch_reason, first_url
from lockgen.secrets import SecretRegistry
from lockgen.solverequest import SolveRequest
from tests.support.rattler_wording import recorded

REFUSED_TEXT = (
    "error sending request for url (http://127.0.0.1:9/conda-forge/linux-64/repodata_shards.msgpack.zst)\n"
    "Caused by: client error (Connect)\nCaused by: tcp connect error\nCaused by: Connection refused (os error 111)"
)
DNS_TEXT = (
    "error sending request for url (https://conda.anaconda.org/conda-forge/noarch/repodata.json)\n"
    "Caused by: client error (Connect)\nCaused by: dns error\nCaused by: failed to lookup address information"
)
JSON_TEXT = "failed to parse repodata.json\nCaused by: key must be a string at line 1 column 2"
FORBIDDEN_TEXT = "HTTP status client error (403 Forbidden) for url (http://127.0.0.1:33015/chan/linux-64/repodata_shards.msgpack.zst)"
UNAVAILABLE_TEXT = (
    "HTTP status server error (503 Service Unavailable) for url"
    " (http://127.0.0.1:44813/chan/linux-64/repodata_shards.msgpack.zst)"
)


def _request(
    platform: str = "linux-64",
    specs: tuple[str, ...] = ("app",),
    channels: tuple[str, ...] = ("conda-forge",),
    origins: tuple[str, ...] = (),
    virtual: tuple[VirtualPackage, ...] = (),
) -> SolveRequest:
    resolved = tuple(resolve_channel(c) for c in channels)
    return SolveRequest(platform, specs, resolved, virtual, origins=origins)


def test_missing_specs_reads_the_top_level_and_the_nested_forms() -> None:
    assert missing_specs(recorded("no-matching-version")) == ["lib >=3"]
    assert missing_specs(recorded("missing-dependency")) == ["lib >=2"]
    assert missing_specs(recorded("unknown-name")) == ["numpi *"]
    assert missing_specs(REFUSED_TEXT) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            REFUSED_TEXT,
            "connection refused (is the server up, and the URL right?); gave up after 2 retries with backoff",
        ),
        (DNS_TEXT, "the host name does not resolve"),
        (JSON_TEXT, "the response is not valid repodata JSON"),
        (
            FORBIDDEN_TEXT,
            "the server answered HTTP 403 Forbidden: access denied, check the channel's credentials or token",
        ),
        (UNAVAILABLE_TEXT, "the server answered HTTP 503 Service Unavailable; gave up after 2 retries with backoff"),
        ("something rattler never said", "the download failed"),
    ],
)
def test_fetch_reason_words_each_recorded_failure(text: str, reason: str) -> None:
    assert fetch_reason(text, 60, 2) == reason


def test_one_retry_is_singular() -> None:
    assert fetch_reason(REFUSED_TEXT, 60, 1).endswith("gave up after 1 retry with backoff")


def test_first_url_drops_trailing_punctuation() -> None:
    assert first_url(REFUSED_TEXT) == "http://127.0.0.1:9/conda-forge/linux-64/repodata_shards.msgpack.zst"
    assert first_url("see https://example.org/x.") == "https://example.org/x"
    assert first_url(JSON_TEXT) is None


def test_fetch_failure_without_a_url_names_the_channels_repodata() -> None:
    line = fetch_failure(None, JSON_TEXT, channel=resolve_channel("conda-forge"))
    assert (
        line == "cannot fetch the channel's repodata for channel `conda-forge`: the response is not valid repodata JSON"
    )


def test_channel_of_takes_the_longest_fetch_prefix() -> None:
    channels = (resolve_channel("https://example.org/a"), resolve_channel("https://example.org/a/b"))
    assert channel_of("https://example.org/a/b/noarch/repodata.json", channels) == channels[1]
    assert channel_of("https://example.org/a/noarch", channels) == channels[0]
    assert channel_of("https://example.org/ab/noarch", channels) is None


def test_a_dead_host_concerns_every_request_with_a_channel_there() -> None:
    forge = _request("linux-64", channels=("conda-forge",))
    bio = _request("osx-64", channels=("bioconda",))
    other = _request("win-64", channels=("https://example.org/chan",))
    assert concerned_requests([forge, bio, other], DNS_TEXT) == [forge, bio]


def test_a_failed_channel_concerns_only_the_requests_listing_it() -> None:
    main = _request("linux-64", channels=("https://repo.anaconda.com/pkgs/main",))
    msys = _request("win-64", channels=("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/msys2"))
    text = FORBIDDEN_TEXT.replace("http://127.0.0.1:33015/chan", "https://repo.anaconda.com/pkgs/msys2")
    assert concerned_requests([main, msys], text) == [msys]
    assert concerned_requests([main, msys], JSON_TEXT) == [main, msys]  # no URL: every request


def test_combined_fetch_failures_group_platforms_and_name_those_that_only_waited() -> None:
    failures = [
        ("linux-64", ChannelError("cannot fetch X: the host name does not resolve")),
        ("osx-64", ChannelError("cannot fetch X: the host name does not resolve")),
        ("win-64", ChannelError("a coalesced request failed")),
    ]
    combined = combine_failures(failures)
    assert isinstance(combined, ChannelError)
    assert str(combined).splitlines() == [
        "linux-64, osx-64: cannot fetch X: the host name does not resolve",
        "win-64: stopped by the same failed download",
    ]


def test_the_same_explanation_for_several_platforms_is_shown_once() -> None:
    body = "no solution.\n  `lib >=3`: no build matches"
    failures = [(p, SolveError(f"{p}: {body}", (p,))) for p in ("linux-64", "osx-64")]
    failures.append(("win-64", SolveError("win-64: other", ("win-64",))))
    combined = combine_failures(failures)
    assert isinstance(combined, SolveError)
    assert str(combined) == f"linux-64, osx-64: {body}\n\nwin-64: other"
    assert combined.platforms == ("linux-64", "osx-64", "win-64")


def test_a_bug_among_failures_is_raised_as_it_is() -> None:
    bug = KeyError("x")
    assert combine_failures([("linux-64", SolveError("no", ("linux-64",))), ("osx-64", bug)]) is bug


def test_typos_suggest_the_closest_known_names() -> None:
    request = _request(specs=("numpi", "scipy >=1", "conda-forge::pandaz 2.*", "__cuda"),
                       origins=("env.yml:3", "env.yml:4", "env.yml:5", "env.yml:6"))  # fmt: skip
    wanted = checkable_names(request)
    assert [n for _, _, n in wanted] == ["numpi", "scipy", "pandaz"]  # virtual packages are not judged
    lines = typo_lines(wanted, ["numpy", "scipy", "pandas", "numba"])
    assert lines == [
        "  env.yml:3: no package named `numpi`; did you mean `numpy`?",
        "  env.yml:5: no package named `pandaz` (in `conda-forge::pandaz 2.*`); did you mean `pandas`?",
    ]
    assert typo_lines([("zzz", "", "zzz")], ["numpy"]) == ["  no package named `zzz`"]


def test_hints_for_a_spec_nothing_matched() -> None:
    request = _request(specs=("lib <1.2", "app"), origins=("env.yml:3", "env.yml:4"))
    versions = ["1.0", "1.5"]
    assert no_match_hint("lib >=2", "lib", request, versions, matching=False) == (
        "`lib >=2`: no build matches for linux-64 in conda-forge (versions there: 1.0, 1.5)"
    )
    assert no_match_hint("lib >=1.4", "lib", request, versions, matching=True) == (
        "`lib >=1.4` conflicts with `lib <1.2` (env.yml:3)"
    )
    assert (
        no_match_hint("lob", "lob", request, [], matching=False) == "no package named `lob` in conda-forge for linux-64"
    )


def test_virtual_package_hints_name_the_option_that_adds_it() -> None:
    request = _request(virtual=(VirtualPackage("__glibc", "2.17"),))
    assert virtual_package_hint("__cuda >=12", "__cuda", request) == (
        "`__cuda >=12` needs the virtual package __cuda, which the target lacks (add it with --cuda VERSION)"
    )
    assert virtual_package_hint("__glibc >=2.28", "__glibc", request).endswith(
        "but the target has __glibc=2.17=0 (change it with --virtual-package linux-64:__glibc=VERSION)"
    )


def test_offline_listing_names_channels_as_written(tmp_path: Path) -> None:
    mirror = parse_mirror(f"https://conda.anaconda.org={tmp_path.as_uri()}")
    forge = resolve_channel("conda-forge", [mirror])
    request = SolveRequest("linux-64", ("app",), (forge,), ())
    listed = offline_listing([f"{forge.fetch}/linux-64", f"{forge.fetch}/noarch"], request, SecretRegistry())
    assert listed == (f"conda-forge/linux-64 ({forge.fetch}/linux-64); conda-forge/noarch ({forge.fetch}/noarch)")
    defaults = tuple(
        c.__class__(c.name, c.canonical, c.fetch, "defaults", "env.yml:2")
        for c in (resolve_channel("https://repo.anaconda.com/pkgs/main"),)
    )
    request = SolveRequest("linux-64", ("app",), defaults, ())
    listed = offline_listing(["https://repo.anaconda.com/pkgs/main/noarch"], request, SecretRegistry())
    assert listed == "channel `defaults` (env.yml:2): https://repo.anaconda.com/pkgs/main/noarch"


def test_versions_there_says_how_many_it_shows_and_where_the_spec_is() -> None:
    request = _request(specs=("lib >=9", "app"), origins=("env.yml:3", "env.yml:4"))
    versions = [f"1.{i}" for i in range(18)]
    assert no_match_hint("lib >=9", "lib", request, versions, matching=False) == (
        "env.yml:3: `lib >=9`: no build matches for linux-64 in conda-forge"
        " (versions there: newest 6 of 18: 1.12, 1.13, 1.14, 1.15, 1.16, 1.17)"
    )
