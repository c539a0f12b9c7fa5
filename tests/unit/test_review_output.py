"""Reviewer output leads with what matters and fits a screen or a comment (audit finding 13)."""

from __future__ import annotations

import json

from lockgen.review.diff import diff_locks
from lockgen.review.render import render_json, render_markdown, render_text
from lockgen.review.sources import DirectSpecs, LockSet, PackageState


def _packages(count: int, build: str = "0") -> dict[str, PackageState]:
    return {f"pkg{i:03d}": PackageState(f"1.{i}", build) for i in range(count)}


def test_a_removed_lock_is_one_line_and_its_rows_only_under_verbose_and_in_json() -> None:
    old = LockSet("a", {"linux-64": _packages(240), "win-64": _packages(240)}, None)
    new = LockSet("b", {"linux-64": _packages(240)}, None)
    result = diff_locks(old, new)
    text = render_text(result)
    assert text.splitlines()[0] == "lockgen diff a → b: 1 of 2 locks changed: lock removed win-64"
    assert "  win-64: lock removed (had 240 packages)" in text
    assert "pkg001" not in text
    assert len(text.splitlines()) < 10
    markdown = render_markdown(result)
    assert "pkg001" not in markdown and "| added |" not in markdown
    assert len(markdown) < 600
    assert text.count("pkg") == 0
    verbose = render_text(result, verbose=True)
    assert "  pkg001   removed  1.1    -" in verbose
    assert "pkg001" in render_markdown(result, verbose=True)
    data = json.loads(render_json(result))
    win = next(lock for lock in data["locks"] if lock["target"] == "win-64")
    assert len(win["changes"]) == 240
    assert data["totals"]["removed"] == 240  # JSON keeps its shape and numbers


def test_headline_counts_locks_added_or_removed_in_plural() -> None:
    old = LockSet("a", {"linux-64": _packages(3), "osx-64": _packages(3), "win-64": _packages(3)}, None)
    new = LockSet("b", {"linux-aarch64": _packages(3), "osx-arm64": _packages(3), "win-64": _packages(3)}, None)
    headline = render_text(diff_locks(old, new)).splitlines()[0]
    assert headline == (
        "lockgen diff a → b: 4 of 5 locks changed: new locks linux-aarch64, osx-arm64; locks removed linux-64, osx-64"
    )


def test_a_limit_shorter_than_a_diff_with_nothing_to_leave_out_is_no_internal_error() -> None:
    """`diff --max-chars 10` where nothing changed: no table to leave out, the text as it is (it raised)."""
    same = LockSet("a", {"linux-64": _packages(3)}, None)
    result = diff_locks(same, LockSet("b", {"linux-64": _packages(3)}, None))
    assert render_text(result, 10) == render_text(result)
    assert render_markdown(result, 10) == render_markdown(result)


def test_a_new_lock_beside_row_changes_names_both() -> None:
    old = LockSet("a", {"linux-64": {"numpy": PackageState("1.26.0", "0")}}, None)
    new = LockSet("b", {"linux-64": {"numpy": PackageState("1.26.4", "0")}, "osx-arm64": _packages(5)}, None)
    text = render_text(diff_locks(old, new))
    assert text.splitlines()[0] == "lockgen diff a → b: 2 of 2 locks changed: 1 upgraded; new lock osx-arm64"
    assert "  numpy    upgraded  1.26.0  1.26.4" in text
    assert "pkg000" not in text


def test_a_removed_defaults_is_named_once_and_an_unknown_list_names_the_channels() -> None:
    from lockgen.channels import DEFAULTS_MAIN, ResolvedChannel
    from lockgen.lockfiles import short_digest
    from lockgen.review.channelchange import channel_changes

    forge = "https://conda.anaconda.org/conda-forge"
    now = [ResolvedChannel("conda-forge", forge, forge, "conda-forge", "environment.yml:3")]
    digest = short_digest({"channels": [forge, *DEFAULTS_MAIN]})
    assert channel_changes(digest, now, [forge]) == "channels changed: `defaults` removed"
    assert channel_changes("0" * 12, now, [forge]) == (
        "channels changed (the list the lock was made from is not known): now `conda-forge` (environment.yml:3)"
    )


def test_check_says_a_reason_shared_by_platforms_once() -> None:
    from lockgen.review.stale import Stale, grouped_lines

    long = "spec changed: " + "; ".join(f"`pkg{i}>=1` added (environment.yml:{i})" for i in range(20))
    assert len(long) > 500
    stale = [Stale(p, f"{p}.txt", "specs", long) for p in ("linux-64", "osx-64", "win-64")]
    stale += [Stale(p, f"{p}.txt", "hand-edited", f"locks/{p}.txt: the `# options:` line was edited") for p in "ab"]
    stale.append(Stale("win-64", "win-64.txt", "missing", "locks/win-64.txt is missing"))
    assert grouped_lines(stale) == [
        f"linux-64, osx-64, win-64: {long}",
        "a, b: the `# options:` line was edited",
        "win-64: locks/win-64.txt is missing",
    ]
    one = [Stale("linux-64", "linux-64.txt", "hand-edited", "locks/linux-64.txt: line 9 is not as lockgen writes it")]
    assert grouped_lines(one) == ["linux-64: locks/linux-64.txt: line 9 is not as lockgen writes it"]


def _bump(python: str, tag: str, libfoo: str) -> LockSet:
    """A python bump: 40 packages rebuilt at the same version, 30 dependencies upgraded, one downgraded."""
    conda = {}
    for platform in ("linux-64", "osx-64", "win-64"):
        packages = {f"ext{i:02d}": PackageState(f"1.{i}", f"{tag}h{i}_0") for i in range(40)}
        packages |= {f"dep{i:02d}": PackageState(f"{2 if tag == 'py311' else 3}.{i}", "h0_0") for i in range(30)}
        packages["pandas"] = PackageState("3.0.5", f"{tag}h0_1")
        packages["python"] = PackageState(python, "h0_0_cpython")
        packages["libfoo"] = PackageState(libfoo, "h0_0")
        conda[platform] = packages
    direct = DirectSpecs(frozenset({"python", "pandas"}), frozenset(), ("environment.yml",))
    return LockSet(tag, conda, None, direct=direct)


def test_a_python_bump_counts_rebuilds_and_leads_with_what_moved() -> None:
    result = diff_locks(_bump("3.11.9", "py311", "2.0"), _bump("3.12.4", "py312", "1.9"))
    text = render_text(result)
    lines = text.splitlines()
    assert len(lines) <= 40, text
    assert lines[1:4] == [
        "  python* upgraded 3.11.9 → 3.12.4 on linux-64, osx-64, win-64",
        "  libfoo downgraded 2.0 → 1.9 on linux-64, osx-64, win-64",
        "  41 packages rebuilt for python 3.12 (same versions) on linux-64, osx-64, win-64",
    ]
    assert "pandas" not in text and "ext01" not in text
    assert "(the tables of 32 rows are left out to fit a screen: `lockgen diff -v` shows every row)" in text
    verbose = render_text(result, verbose=True)
    assert "  pandas*  rebuilt     3.0.5 (py311h0_1)  3.0.5 (py312h0_1)" in verbose
    markdown = render_markdown(result)
    assert "- 41 packages rebuilt for python 3.12 (same versions) on linux-64, osx-64, win-64" in markdown
    assert "ext01" not in markdown and "`dep01`" in markdown
    assert len(markdown) < 8_000
    data = json.loads(render_json(result))
    assert data["totals"]["rebuilt"] == 41 and len(data["common"]["changes"]) == 73


def test_a_few_rebuilds_are_still_listed() -> None:
    old = LockSet("a", {"linux-64": {"openssl": PackageState("3.1.9", "h3_0")}}, None)
    new = LockSet("b", {"linux-64": {"openssl": PackageState("3.1.9", "h3_1")}}, None)
    text = render_text(diff_locks(old, new))
    assert "  openssl  rebuilt  3.1.9 (h3_0)  3.1.9 (h3_1)" in text and "packages rebuilt" not in text


def test_the_lock_summary_of_a_python_bump_counts_rebuilds_and_lists_what_moved() -> None:
    from lockgen.changes import platform_change
    from lockgen.lockfiles import parse_explicit, render_explicit
    from lockgen.models import LockedPackage

    def packages(tag: str, python: str) -> list[LockedPackage]:
        found = [(f"ext{i:02d}", f"1.{i}", f"{tag}h{i}_0") for i in range(20)]
        found += [("pandas", "3.0.5", f"{tag}h0_1"), ("python", python, "h0_0_cpython")]
        base = "https://conda.anaconda.org/conda-forge/linux-64"
        return [
            LockedPackage(n, v, b, "linux-64", f"{base}/{n}-{v}-{b}.conda", md5=f"{i:032x}")
            for i, (n, v, b) in enumerate(found)
        ]

    old = parse_explicit(render_explicit("linux-64", packages("py311", "3.11.9"), "sha256:" + "0" * 64, ["e.yml"]))
    change = platform_change("linux-64", old, tuple(packages("py312", "3.12.4")), frozenset({"pandas", "python"}))
    assert change.lines() == [
        "linux-64: 22 packages (1 upgraded, 21 rebuilt for python 3.12 at the same versions)",
        "  python 3.11.9 → 3.12.4 (upgraded, in your specs)",
    ]


def test_a_summary_says_how_many_rebuilds_a_python_bump_explains() -> None:
    from lockgen.changes import PlatformChange

    rebuilt = tuple(f"p{i}" for i in range(26))
    change = PlatformChange("win-64", 243, changed=rebuilt, rebuilt=rebuilt, rebuilt_for=("3.12", 17))
    assert change.summary == "win-64: 243 packages (26 rebuilt at the same versions, 17 of them for python 3.12)"
