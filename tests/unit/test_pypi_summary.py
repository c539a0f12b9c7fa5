"""`lock`'s pip summary, read back from what the requirements writer writes."""

from __future__ import annotations

import random

from packaging.version import InvalidVersion, Version

from lockgen.lockfiles.requirements import Header, Pin
from lockgen.pypi.render import render_requirements
from lockgen.pypi.summary import _newest_first, summarize_requirements

PLATFORMS = ("linux-64", "osx-64", "osx-arm64", "win-64")


def _text() -> str:
    header = Header(
        sources=("environment.yml",),
        input_hash="sha256:00",
        platforms=PLATFORMS,
        resolved_against=(
            "linux-64: against linux-64.txt (conda set sha256:1), Python 3.11.9, x86_64-manylinux_2_28, 3",
            "osx-64: against osx-64.txt (conda set sha256:2), Python 3.11.9, x86_64-apple-darwin (macOS 11.0), 3 conda",
            "osx-arm64: against osx-arm64.txt (conda set sha256:3), Python 3.11.9, aarch64-apple-darwin (macOS 13.0)",
            "win-64: against win-64.txt (conda set sha256:4), Python 3.11.9, x86_64-pc-windows-msvc, 3 conda packages",
        ),
        mapping="file mapping.json",
    )

    def pin(name: str, version: str) -> Pin:
        return Pin(name, version, None, (f"sha256:{name}{version}",))

    resolved = {
        "linux-64": [pin("transformers", "5.24.0"), pin("tqdm", "4.70.0"), pin("xxhash", "4.0.1")],
        "osx-64": [pin("transformers", "4.57.1"), pin("tqdm", "4.70.0"), pin("gitdb", "4.0.12")],
        "osx-arm64": [pin("transformers", "5.24.0"), pin("tqdm", "4.70.0"), pin("gitdb", "4.0.12")],
        "win-64": [pin("transformers", "5.24.0"), pin("tqdm", "4.70.0"), pin("xxhash", "4.0.1")],
    }
    return render_requirements(header, resolved)


def test_counts_divergent_pins_and_platform_only_packages() -> None:
    summary = summarize_requirements(_text())
    assert summary is not None
    assert summary.counts == (("linux-64", 3), ("osx-64", 3), ("osx-arm64", 3), ("win-64", 3))
    assert summary.lines() == [
        "pip: 3 packages on each of linux-64, osx-64, osx-arm64, win-64",
        "  versions differ between platforms:",
        "    transformers: 5.24.0 on linux-64, osx-arm64, win-64; 4.57.1 on osx-64 (osx-64 is resolved for macOS 11.0)",
        "  only on osx-64, osx-arm64: gitdb",
        "  only on linux-64, win-64: xxhash",
    ]


def test_same_pins_everywhere_is_one_line() -> None:
    text = _text().replace("4.57.1", "5.24.0")
    summary = summarize_requirements(text)
    assert summary is not None
    assert [line for line in summary.lines() if "differ" in line] == []


def test_not_a_lockgen_file() -> None:
    assert summarize_requirements("requests==2.0\n") is None


def test_the_headline_reads_right_for_one_platform_and_one_package() -> None:
    from lockgen.pypi.summary import PipSummary

    assert PipSummary((("linux-64", 25),), ()).headline == "pip: 25 packages on linux-64"
    assert PipSummary((("linux-64", 1), ("osx-64", 1)), ()).headline == "pip: 1 package on each of linux-64, osx-64"


def _newest_first_by_packaging(versions: list[str]) -> list[str]:
    """The summary's order before Round 8: packaging's Version for every pin, URLs after them."""

    def key(text: str) -> tuple[int, Version | str]:
        try:
            return (1, Version(text))
        except InvalidVersion:
            return (0, text)

    return sorted(versions, key=key, reverse=True)


def test_divergent_versions_are_ordered_as_packaging_orders_them() -> None:
    """Plain versions are ordered without packaging (Round 8): the same order, ties (``1.0``, ``1.0.0``,
    ``01.0``) kept in their first order as packaging's sort keeps them, and mixed lists (a pre-release,
    a URL) ordered by packaging itself."""
    rng = random.Random(8)
    pool = ["0", "0.0", "1", "1.0", "1.0.0", "01.0", "1.2", "1.10", "1.2.0", "1.2.1", "2", "2.0.0.0", "10", "1.02"]
    pool += ["1.0rc1", "1.0.post1", "2.0.dev0", "https://example.org/a-1.0.tar.gz", "1!0.1"]
    for _ in range(3000):
        choices = pool[: rng.choice([14, len(pool)])]
        versions = list(dict.fromkeys(rng.choice(choices) for _ in range(rng.randint(2, 6))))
        assert _newest_first(versions) == _newest_first_by_packaging(versions), versions
