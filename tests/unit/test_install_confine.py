"""The install confinement rules (:mod:`lockgen.install.confine`) and the install-side validators, in-process."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockgen.errors import InstallError
from lockgen.install.confine import (
    Confinement,
    PackageFiles,
    UnsafePath,
    _normal,
    check_paths,
    unsafe_path_reason,
)
from lockgen.install.core import check_platform_runs_here
from lockgen.install.prefix import remove_stray_probes
from lockgen.platforms import check_platform, lock_file_name


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../x/share/f", "'..' segments"),
        ("a/../../x", "'..' segments"),
        ("a\\..\\..\\x", "'..' segments"),
        ("/etc/passwd", "absolute"),
        ("\\\\server\\share", "absolute"),
        ("C:/Windows/x", "absolute"),
        ("", "empty"),
        (".", "empty"),
        ("a\0b", "NUL"),
        ("conda-meta/evil.json", "conda-meta"),
    ],
)
def test_unsafe_paths_have_a_reason(path: str, reason: str) -> None:
    found = unsafe_path_reason(path)
    assert found is not None and reason in found


@pytest.mark.parametrize("path", ["lib/libz.so.1", "bin/python3.11", "share/a..b/c", "lib/.hidden", "a/./b"])
def test_ordinary_paths_are_safe(path: str) -> None:
    assert unsafe_path_reason(path) is None


def _confine(prefix: Path, removed: frozenset[str] = frozenset()) -> Confinement:
    return Confinement(prefix, "lib/python3.11/site-packages", "bin", removed)


def test_links_within_the_install_are_followed(tmp_path: Path) -> None:
    ok = PackageFiles("a-1-0", ("lib/real/f",), {"lib/alias": "real", "lib/abs": str(tmp_path / "lib" / "real")})
    via = PackageFiles("b-1-0", ("lib/alias/g", "lib/abs/h"), {})
    check_paths([ok, via], _confine(tmp_path))
    out = PackageFiles("c-1-0", (), {"lib/up": "../.."})
    with pytest.raises(UnsafePath, match=r"symbolic link lib/up -> \.\./\.\."):
        check_paths([out, PackageFiles("d-1-0", ("lib/up/x",), {})], _confine(tmp_path))
    chain = PackageFiles("e-1-0", (), {"lib/one": "two", "lib/two": "/"})
    with pytest.raises(UnsafePath, match="leaves the prefix"):
        check_paths([chain, PackageFiles("f-1-0", ("lib/one/etc/x",), {})], _confine(tmp_path))
    loop = PackageFiles("g-1-0", (), {"lib/p": "q", "lib/q": "p"})
    with pytest.raises(UnsafePath):
        check_paths([loop, PackageFiles("h-1-0", ("lib/p/x",), {})], _confine(tmp_path))


def test_a_file_is_never_written_through_a_link_that_leaves(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "conf").symlink_to("/etc/hostname")
    with pytest.raises(UnsafePath, match="etc/conf"):
        check_paths([PackageFiles("a-1-0", ("etc/conf",), {})], _confine(tmp_path))
    # the link belongs to a package this install replaces: it is removed before linking
    check_paths([PackageFiles("a-1-0", ("etc/conf",), {})], _confine(tmp_path, frozenset({"etc/conf"})))
    # a package may ship a link pointing outside (it writes nothing through it)
    check_paths([PackageFiles("b-1-0", (), {"lib/libGL.so": "/usr/lib/libGL.so"})], _confine(tmp_path))


def test_noarch_python_paths_are_checked_where_they_land(tmp_path: Path) -> None:
    (tmp_path / "lib" / "python3.11").mkdir(parents=True)
    (tmp_path / "lib" / "python3.11" / "site-packages").symlink_to("/tmp")
    package = PackageFiles("p-1-0", ("site-packages/p/__init__.py",), {}, noarch_python=True)
    with pytest.raises(UnsafePath, match=r"site-packages/p/__init__\.py"):
        check_paths([package], _confine(tmp_path))


@pytest.mark.parametrize("point", ["../../evil", "sub/dir", "..", "", "/abs"])
def test_entry_points_must_be_plain_names(tmp_path: Path, point: str) -> None:
    package = PackageFiles("p-1-0", (), {}, entry_points=(point,), noarch_python=True)
    with pytest.raises(UnsafePath, match="entry point"):
        check_paths([package], _confine(tmp_path))


def test_platform_and_template_validation() -> None:
    assert check_platform("linux-64") == "linux-64"
    for bad in ("../../x", "linux-64/../x", "", "Linux-64"):
        with pytest.raises(ValueError, match="unknown platform"):
            check_platform(bad)
    assert lock_file_name("{platform}.txt", "osx-64") == "osx-64.txt"
    assert lock_file_name("conda-{platform}.lock", "win-64") == "conda-win-64.lock"
    for template in ("{platform}{", "{platform}{x}", "../{platform}", "{platform}/x", "{platform.upper}{platform}"):
        with pytest.raises(ValueError, match="filename template"):
            lock_file_name(template, "linux-64")


def test_filename_templates_are_judged_as_string_formatter_parses_them() -> None:
    """lock_file_name checks a template without the string module (Round 7): it accepts exactly the
    templates in which string.Formatter finds no field but a plain ``platform`` (no spec, no conversion)."""
    import itertools
    import string

    def only_platform(template: str) -> bool:
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError:
            return False
        return all(field is None or (field == "platform" and not spec and not conv) for _, field, spec, conv in parsed)

    tokens = ("{", "}", "platform", ":", "!r", "x", "[0]", "{platform}", "{{", "}}", ">3")
    checked = 0
    for size in range(1, 5):
        for parts in itertools.product(tokens, repeat=size):
            template = "".join(parts)
            if "{platform}" not in template:
                continue
            try:
                accepted = lock_file_name(template, "linux-64") == template.format(platform="linux-64")
            except ValueError:
                accepted = False
            assert accepted == only_platform(template), template
            checked += 1
    assert checked > 1000


def test_foreign_platforms() -> None:
    check_platform_runs_here("linux-64", "linux-64")
    check_platform_runs_here("osx-64", "osx-arm64")  # Rosetta
    for platform, host in (("osx-64", "linux-64"), ("linux-aarch64", "linux-64"), ("osx-arm64", "osx-64")):
        with pytest.raises(InstallError, match="--foreign-platform"):
            check_platform_runs_here(platform, host)


def test_only_probe_shapes_are_removed(tmp_path: Path) -> None:
    (tmp_path / "symtest_0f8e9c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6").symlink_to("./")
    (tmp_path / "symtest_1f8e9c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6").symlink_to("/etc")  # not a probe's target
    probe = tmp_path / ".refprobe-Ab12Cd"
    probe.mkdir()
    (probe / "src").write_bytes(b"reflink probe")
    (probe / "dst").write_bytes(b"reflink probe")
    busy = tmp_path / ".refprobe-Zz99Yy"
    busy.mkdir()
    (busy / "notes").write_text("mine")
    (tmp_path / "conda-meta").mkdir()
    (tmp_path / "conda-meta" / "prefix_record_rVyUqE").write_text("{")
    (tmp_path / "conda-meta" / "prefix_record_notes.json").write_text("{}")
    removed = remove_stray_probes(tmp_path)
    assert sorted(removed) == [
        ".refprobe-Ab12Cd",
        "conda-meta/prefix_record_rVyUqE",
        "symtest_0f8e9c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
    ]
    assert [p.name for p in (tmp_path / "conda-meta").iterdir()] == ["prefix_record_notes.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".refprobe-Zz99Yy",
        "conda-meta",
        "symtest_1f8e9c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
    ]


def test_one_tar_member_is_judged_alone() -> None:
    """The judge any extractor can call per member (issue 18 item 12)."""
    import stat
    import tarfile

    from lockgen.install.confine import safe_mode, tar_member_problem

    def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, link
        return info

    allowed = [
        member("lib/a.so"),
        member("./bin/x"),
        member("lib", tarfile.DIRTYPE),
        member("lib/b.so", tarfile.SYMTYPE, "/usr/lib/b.so"),  # judged later, with paths.json
        member("lib/c", tarfile.LNKTYPE, "lib/a.so"),
    ]
    for ok in allowed:
        assert tar_member_problem(ok) is None, ok.name
    refused = [
        (member("../x"), "'..' segments"),
        (member("/etc/x"), "absolute paths"),
        (member("lib/../../x"), "'..' segments"),
        (member("lib/h", tarfile.LNKTYPE, "../../secret"), "the hard link's target"),
        (member("lib/h", tarfile.LNKTYPE, "/etc/shadow"), "the hard link's target"),
        (member("p", tarfile.FIFOTYPE), "FIFO"),
        (member("c", tarfile.CHRTYPE), "character device"),
        (member("b", tarfile.BLKTYPE), "block device"),
    ]
    for bad, expected in refused:
        assert expected in (tar_member_problem(bad) or ""), bad.name
    assert safe_mode(0o104755) == 0o100755 and safe_mode(0o42775) == 0o40775 and safe_mode(0o1777) == 0o777
    assert stat.S_IMODE(safe_mode(0o6755)) == 0o755


_SEGMENTS = st.sampled_from(["lib", "a.so", ".hidden", ".", "..", "", "x..y", "site-packages", "\\", "b/"])


@given(st.lists(_SEGMENTS, max_size=6).map("/".join), st.booleans())
def test_paths_are_normalised_as_normpath_does(path: str, leading: bool) -> None:
    """The check's shortcut for paths already normal gives what posixpath.normpath gives, for any spelling."""
    path = f"/{path}" if leading else path
    assert _normal(path) == posixpath.normpath(path.replace("\\", "/"))
