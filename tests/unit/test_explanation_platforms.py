"""Platforms failing alike are said once; a platform's name inside a package name stays as it is."""

from __future__ import annotations

from lockgen.conda.explanation import fit_screen


def test_a_platform_inside_a_package_name_is_not_taken_for_the_platform() -> None:
    text = fit_screen([], [
        ("linux-64", "linux-64: nothing provides gcc_linux-64 needed by app"),
        ("win-64", "win-64: nothing provides gcc_win-64 needed by app"),
    ])
    assert text == (
        "linux-64: nothing provides gcc_linux-64 needed by app\n\n"
        "win-64: nothing provides gcc_win-64 needed by app"
    )


def test_the_same_failure_on_several_platforms_is_said_once() -> None:
    text = fit_screen([], [
        ("linux-64", "linux-64: no package app for linux-64 (needs sysroot_linux-64)"),
        ("osx-64", "osx-64: no package app for osx-64 (needs sysroot_linux-64)"),
    ])
    assert text == "linux-64, osx-64: no package app for linux-64, osx-64 (needs sysroot_linux-64)"
