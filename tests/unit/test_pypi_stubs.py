"""Stub wheels and PEP 440 versions for conda-provided Python packages."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from lockgen.pypi.stubs import ProvidedPackage, conda_to_pep440, provided_packages, stub_wheel_bytes, write_stubs


@pytest.mark.parametrize(
    ("conda", "pep440"),
    [
        ("1.26.4", "1.26.4"),
        ("2.1.0.post1", "2.1.0.post1"),
        ("2.1.0post1", "2.1.0.post1"),
        ("1_2_3", "1.2.3"),
        ("2.3.1+cpu", "2.3.1"),
        ("1.0rc1", "1.0rc1"),
        ("2024.1", "2024.1"),
        ("1!2.0", "1!2.0"),
    ],
)
def test_conda_versions_become_pep440(conda: str, pep440: str) -> None:
    assert conda_to_pep440(conda) == pep440


@pytest.mark.parametrize("conda", ["9e", "", "abc", "1.2.3.x-y", "r2023a"])
def test_versions_without_a_pep440_meaning(conda: str) -> None:
    assert conda_to_pep440(conda) is None


def test_provided_packages_notes_and_choice() -> None:
    conda = [("pytorch", "2.1.0"), ("numpy", "1.26.4"), ("jpeg", "9e"), ("weird", "9e"), ("ansible", "9.0")]
    names = {"pytorch": ("torch",), "numpy": ("numpy",), "weird": ("weird",), "ansible": ("ansible", "numpy")}
    provided, notes = provided_packages(conda, names)
    assert [(p.name, p.version, p.conda_name) for p in provided] == [
        ("ansible", "9.0", "ansible"),
        ("numpy", "1.26.4", "numpy"),  # the conda package named numpy wins over ansible's bundled claim
        ("torch", "2.1.0", "pytorch"),
    ]
    assert notes == ("conda weird 9e: not a PEP 440 version, so pip is not told it is installed",)


def test_provided_packages_keep_the_first_claim_unless_the_own_package_comes_later() -> None:
    conda = [("numpy", "1.26.4"), ("numpy-base", "1.26.4"), ("zz-bundle", "1.0"), ("a-py", "2.0"), ("b", "2.0")]
    names = {"numpy": ("numpy",), "numpy-base": ("numpy",), "zz-bundle": ("aaa", "numpy"), "a-py": ("zzz",)}
    names |= {"b": ("aaa",)}
    provided, _ = provided_packages(conda, names)
    assert list(provided) == sorted(provided)  # in the order the records compare (one per PyPI name)
    assert [(p.name, p.conda_name) for p in provided] == [("aaa", "b"), ("numpy", "numpy"), ("zzz", "a-py")]
    assert provided_packages(list(reversed(conda)), names) == (provided, ())  # the same whatever the input order


def test_stub_is_a_valid_wheel(tmp_path: Path) -> None:
    package = ProvidedPackage("typing-extensions", "4.12.2", "typing_extensions", "4.12.2")
    data = stub_wheel_bytes(package)
    assert data == stub_wheel_bytes(package)  # deterministic
    name, version, _, tags = parse_wheel_filename(package.wheel_name)
    assert (name, version) == ("typing-extensions", Version("4.12.2+conda"))
    assert {str(t) for t in tags} == {"py3-none-any"}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = set(archive.namelist())
        # stored, not deflated: three small text files gain nothing from compression (docs/performance.md)
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
        dist_info = "typing_extensions-4.12.2+conda.dist-info"
        assert members == {f"{dist_info}/METADATA", f"{dist_info}/WHEEL", f"{dist_info}/RECORD"}
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        assert "Name: typing-extensions\n" in metadata and "Version: 4.12.2+conda\n" in metadata
        assert "Requires-Dist" not in metadata
        assert "Tag: py3-none-any" in archive.read(f"{dist_info}/WHEEL").decode()
        for row in archive.read(f"{dist_info}/RECORD").decode().splitlines():
            path, digest, size = row.split(",")
            if path.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            content = archive.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(content)


def test_write_stubs_and_constraints(tmp_path: Path) -> None:
    packages = [
        ProvidedPackage("torch", "2.1.0", "pytorch", "2.1.0"),
        ProvidedPackage("numpy", "1.26.4", "numpy", "1.26.4"),
    ]
    files = write_stubs(tmp_path / "stubs", packages)
    assert files.folder == tmp_path / "stubs"
    assert sorted(p.name for p in (tmp_path / "stubs").iterdir()) == [
        "numpy-1.26.4+conda-py3-none-any.whl",
        "torch-2.1.0+conda-py3-none-any.whl",
    ]
    assert files.constraints.read_text() == "torch==2.1.0+conda\nnumpy==1.26.4+conda\n"
    # sdist build environments must never install a stub: each one is excluded there, exactly
    assert files.build_constraints.read_text() == "torch!=2.1.0+conda\nnumpy!=1.26.4+conda\n"


def _pep440_by_packaging(conda: str) -> str | None:
    """What ``conda_to_pep440`` answered before Round 8: every version through packaging's ``Version``."""
    from packaging.version import InvalidVersion

    text = conda.strip().split("+", 1)[0].replace("_", ".")
    if not text or not text[0].isdigit():
        return None
    try:
        return Version(text).public
    except InvalidVersion:
        return None


def _version_grid() -> list[str]:
    epochs = ["", "0!", "1!", "01!", "12!"]
    releases = ["0", "1", "01", "00", "1.0", "1.02", "10.0.0", "2024.06.13", "1_2_3", "1..2", "1.", "1.x"]
    pres = ["", "a1", "a0", "b2", "rc3", "rc01", "a", "alpha1", "beta2", "c1", "pre1", "preview1", "RC1", "-rc1"]
    pres.append(".rc1")
    posts = ["", ".post0", ".post1", ".post01", "post1", "-1", "-post2", ".r1", "rev3", ".post", "_post4"]
    devs = ["", ".dev0", ".dev1", ".dev01", "dev1", "-dev2", ".dev", "_dev3"]
    return [e + r + p + q + d for e in epochs for r in releases for p in pres for q in posts for d in devs]


def test_conda_versions_become_what_packaging_says() -> None:
    """The normal-form shortcut (no packaging import for versions already normal) answers what packaging
    answers, for a grid of epochs, releases, pre-, post- and dev-releases (normal, odd and invalid),
    with and without a local part and spaces, and for every version in this repository's own locks:
    a wrong answer would change the pip input hash or the stubs."""
    grid = _version_grid()
    grid += [f" {v}+cpu " for v in grid[::7]]
    for lock in (Path(__file__).parents[2] / "locks").glob("*.txt"):
        for line in lock.read_text(encoding="utf-8").splitlines():
            if line.startswith(("http://", "https://")):
                stem = line.partition("#")[0].rsplit("/", 1)[1].removesuffix(".conda").removesuffix(".tar.bz2")
                grid.append(stem.rsplit("-", 2)[1])
    assert len(grid) > 50_000
    differ = [v for v in grid if conda_to_pep440(v) != _pep440_by_packaging(v)]
    assert not differ, differ[:20]
    assert sum(conda_to_pep440(v) is not None for v in grid) > 10_000  # the grid holds valid versions, too
