"""``spec_matches``: the plain shapes it answers without rattler give rattler's answers;
``plain_ranges_hold``: the pip specifiers it answers without packaging give packaging's answers."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest

from lockgen.matchspec import plain_ranges_hold, spec_matches

VERSIONS = ["1", "1.0", "1.0.0", "1.2", "1.2.3", "1.10", "2", "2.0", "2.0.1", "0.9", "3.11.15", "3.110", "2024.01"]
SPECS = [
    "numpy",
    "conda-forge::numpy",
    "numpy=1",
    "numpy=1.2",
    "numpy=1.2.*",
    "numpy =1.0",
    "numpy=3.11",
    "numpy>=1.2",
    "numpy >=2.0",
    "numpy<2",
    "numpy>1.0",
    "numpy<=1.10",
    "numpy!=1.2",
    "numpy==1.0",
    "numpy==2",
    "numpy>=1.0,<2.0",
    "numpy>=1.2.3,!=1.10,<2024",
    "numpy=2024.1",
]


def _rattler_answer(spec: str, version: str) -> bool:
    from rattler import MatchSpec, PackageRecord
    from rattler.package.build_string import BuildString

    return bool(
        MatchSpec(spec, strict=False).matches(PackageRecord("numpy", version, BuildString("py_0"), 0, "noarch"))
    )


@pytest.mark.parametrize(("spec", "version"), list(itertools.product(SPECS, VERSIONS)))
def test_plain_answers_are_rattlers(spec: str, version: str) -> None:
    assert spec_matches(spec, "numpy", version, "py_0", "noarch") is _rattler_answer(spec, version)


def test_other_package_and_other_shapes() -> None:
    assert spec_matches("scipy>=1", "numpy", "1.26.4", "py_0", "noarch") is None
    assert spec_matches("numpy * py312*", "numpy", "1.26.4", "py311_0", "linux-64") is False
    assert spec_matches("numpy>=2.0", "numpy", "2.0.0rc1", "py_0", "noarch") is False  # rattler's rule for rc


def test_plain_specs_need_no_rattler() -> None:
    code = (
        "import sys; from lockgen.matchspec import spec_matches;"
        "assert spec_matches('numpy>=2.0', 'numpy', '1.26.4', 'py_0', 'noarch') is False;"
        "assert spec_matches('python=3.11', 'python', '3.11.15', 'h_0', 'linux-64') is True;"
        "assert 'rattler' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


PIP_SPECIFIERS = [
    ">=1.2",
    ">= 1.2",
    ">=1.0,<2.0",
    ">=1.0, <2",
    "<2,>=1.0",
    ">1.0",
    "<1.10",
    "<=1.10",
    "!=1.2",
    "==1.0",
    "==2",
    ">=1.2.3,!=1.10,<2024",
    "==01.2",
]


@pytest.mark.parametrize(("specifier", "version"), list(itertools.product(PIP_SPECIFIERS, VERSIONS)))
def test_plain_pip_ranges_are_packagings(specifier: str, version: str) -> None:
    from packaging.specifiers import SpecifierSet

    assert plain_ranges_hold(specifier, version) is SpecifierSet(specifier).contains(version, prereleases=True)


def test_other_pip_shapes_are_left_to_packaging() -> None:
    for specifier, version in [
        ("~=1.2", "1.2.3"),
        ("==1.*", "1.2"),
        ("===1.0", "1.0"),
        (">=1.0rc1", "1.0"),
        (">=1.0", "1.0rc1"),
        (">=1.0", "1.0.post1"),
        (">=1.0", "1.0+local"),
        (">=1.0", "1!1.0"),
        ("", "1.0"),
        (">=1.0,", "1.0"),
    ]:
        assert plain_ranges_hold(specifier, version) is None, (specifier, version)
