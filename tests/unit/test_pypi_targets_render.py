"""Platform targets for uv, markers that select one pin per platform, and the merged file."""

from __future__ import annotations

import pytest
from packaging.markers import Marker

from lockgen.errors import PypiResolutionError
from lockgen.lockfiles.requirements import Header, Pin, logical_lines
from lockgen.platforms import VirtualPackage, default_virtual_packages
from lockgen.pypi.render import merge_pins, render_requirements
from lockgen.pypi.targets import pip_target, platform_marker, python_version_of

CONDA = (("python", "3.11.9"), ("numpy", "1.26.4"))


def vps(platform: str) -> tuple[VirtualPackage, ...]:
    return tuple(default_virtual_packages(platform).values())


@pytest.mark.parametrize(
    ("platform", "triple", "macos"),
    [
        ("linux-64", "x86_64-manylinux_2_28", None),
        ("linux-aarch64", "aarch64-manylinux_2_28", None),
        ("osx-64", "x86_64-apple-darwin", "11.0"),
        ("osx-arm64", "aarch64-apple-darwin", "11.0"),
        ("win-64", "x86_64-pc-windows-msvc", None),
    ],
)
def test_targets(platform: str, triple: str, macos: str | None) -> None:
    target = pip_target(platform, CONDA, vps(platform))
    assert (target.python_platform, target.python_version, target.macos_target) == (triple, "3.11.9", macos)


def test_glibc_and_osx_come_from_virtual_packages() -> None:
    old = pip_target("linux-64", CONDA, (VirtualPackage("__glibc", "2.17"),))
    assert old.python_platform == "x86_64-manylinux_2_17" and not old.notes
    between = pip_target("linux-64", CONDA, (VirtualPackage("__glibc", "2.30"),))
    assert between.python_platform == "x86_64-manylinux_2_28"
    assert between.notes == ("linux-64: pip wheels chosen for manylinux_2_28 (__glibc=2.30)",)
    assert pip_target("osx-arm64", CONDA, (VirtualPackage("__osx", "13.3"),)).macos_target == "13.3"
    with pytest.raises(PypiResolutionError, match="older than any manylinux"):
        pip_target("linux-64", CONDA, (VirtualPackage("__glibc", "2.12"),))


def test_python_must_come_from_conda() -> None:
    with pytest.raises(PypiResolutionError, match="linux-64: the pip section needs Python"):
        pip_target("linux-64", (("numpy", "1.26.4"),), vps("linux-64"))
    assert pip_target("win-64", (("python", "3.12"),), vps("win-64")).python_version == "3.12.0"


def test_unsupported_platform() -> None:
    with pytest.raises(PypiResolutionError, match="linux-ppc64le: pip packages cannot be locked"):
        pip_target("linux-ppc64le", CONDA, ())


ALL = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64")
ENV = {
    "linux-64": ("linux", "x86_64"),
    "linux-aarch64": ("linux", "aarch64"),
    "osx-64": ("darwin", "x86_64"),
    "osx-arm64": ("darwin", "arm64"),
    "win-64": ("win32", "AMD64"),
}


@pytest.mark.parametrize(
    "chosen",
    [("linux-64",), ("osx-64", "osx-arm64"), ("linux-64", "osx-arm64", "win-64"), ("linux-aarch64", "win-64")],
)
def test_markers_select_exactly_the_chosen_platforms(chosen: tuple[str, ...]) -> None:
    marker = platform_marker(chosen, ALL)
    assert marker is not None
    for platform, (sys_platform, machine) in ENV.items():
        selected = Marker(marker).evaluate({"sys_platform": sys_platform, "platform_machine": machine})
        assert selected == (platform in chosen), (marker, platform)


def test_marker_forms() -> None:
    assert platform_marker(ALL, ALL) is None
    assert platform_marker(("osx-64", "osx-arm64"), ALL) == 'sys_platform == "darwin"'
    assert platform_marker(("linux-64",), ALL) == 'sys_platform == "linux" and platform_machine == "x86_64"'
    assert platform_marker(("linux-64",), ("linux-64", "win-64")) == 'sys_platform == "linux"'


def test_merge_and_render_are_sorted_and_select_one_pin_each() -> None:
    resolved = {
        "win-64": [Pin("b", "2.0", None, ("sha256:w",)), Pin("a", "1.0", None, ("sha256:x",))],
        "linux-64": [Pin("a", "1.0", None, ("sha256:x", "sha256:y")), Pin("b", "2.1", None, ("sha256:l",))],
        "osx-64": [Pin("a", "1.0", None, ("sha256:x",)), Pin("b", "2.1", None, ("sha256:l",))],
    }
    targets = ("linux-64", "osx-64", "win-64")
    merged = merge_pins(resolved, targets)
    assert merged == [
        Pin("a", "1.0", None, ("sha256:x", "sha256:y"), None),
        Pin("b", "2.1", None, ("sha256:l",), 'sys_platform == "darwin" or sys_platform == "linux"'),
        Pin("b", "2.0", None, ("sha256:w",), 'sys_platform == "win32"'),
    ]
    header = Header(("environment.yml",), "sha256:0", targets, ("linux-64: against linux-64.txt",), "test")
    text = render_requirements(header, resolved)
    assert text == render_requirements(header, dict(reversed(list(resolved.items()))))
    assert text.endswith('b==2.0 ; sys_platform == "win32" \\\n    --hash=sha256:w\n')
    assert "# input-hash: sha256:0 body=" in text and "# linux-64: against linux-64.txt\n" in text
    assert next(line for _, line in logical_lines(text)).startswith("a==1.0")


def test_urls_lose_their_credentials() -> None:
    pin = Pin("pkg", "1.0", "https://u:secret@files.example/pkg-1.0-py3-none-any.whl", ("sha256:a",))
    header = Header(("env.yml",), "sha256:0", ("linux-64",), (), "test", options=("--index-url https://x/simple",))
    text = render_requirements(header, {"linux-64": [pin]})
    assert "secret" not in text
    assert "pkg @ https://files.example/pkg-1.0-py3-none-any.whl \\\n    --hash=sha256:a\n" in text
    assert "\n--index-url https://x/simple\n" in text


def _python_by_packaging(version: str) -> str | None:
    """What ``python_version_of`` answered before Round 8: the release of packaging's ``Version``."""
    from packaging.version import InvalidVersion, Version

    try:
        release = Version(version.split("+", 1)[0]).release
    except InvalidVersion:
        return None
    return ".".join(str(p) for p in (*release, 0, 0)[:3])


@pytest.mark.parametrize("tail", ["", "+cpu", "rc1", ".post1", "a2.dev0", " ", ".", "x"])
@pytest.mark.parametrize(
    "head", ["3", "3.11", "3.11.9", "3.011.09", "03.11.0", "3.13.0.1", "v3.12", " 3.10", "3..1", "", "٣.١١"]
)
def test_the_python_version_is_what_packaging_says(head: str, tail: str) -> None:
    """Plain ``X.Y.Z`` is read without packaging (Round 8): the same answer, or the same refusal, for
    plain, padded, odd and invalid versions (the version is part of the pip input hash)."""
    version = head + tail
    expected = _python_by_packaging(version)
    if expected is None:
        with pytest.raises(PypiResolutionError, match="is not a Python version"):
            python_version_of([("python", version)], "linux-64")
    else:
        assert python_version_of([("python", version)], "linux-64") == expected
