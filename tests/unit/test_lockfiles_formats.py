"""The lock formats' shared pieces: typed read errors, the lock directory, the header, the pip lock reader."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockgen.lockfiles.explicit import MalformedLock, parse_explicit, read_explicit, render_explicit
from lockgen.lockfiles.header import (
    generated_line,
    generated_sources,
    is_generated,
    json_sha256,
    parse_input_hash,
    render_input_hash,
    short_digest,
    with_current_marker,
)
from lockgen.lockfiles.lockdir import LockDir, LockProblem, claims_platform, read_lock_file
from lockgen.lockfiles.requirements import (
    Header,
    Pin,
    input_hash_of,
    logical_lines,
    parse_requirements_lock,
    read_previous,
    render_requirements_lock,
)
from lockgen.lockfiles.unhashed import read_unhashed, render_unhashed_lock
from lockgen.models import LockedPackage

BASE = "https://conda.anaconda.org/conda-forge/linux-64"
SHA = "a" * 64


def _lock_text(platform: str = "linux-64") -> str:
    package = LockedPackage(
        "zlib", "1.3.1", "h4ab18f5_1", "linux-64", f"{BASE}/zlib-1.3.1-h4ab18f5_1.conda", sha256=SHA
    )
    return render_explicit(platform, [package], "sha256:" + "0" * 64, ["environment.yml"], "sha256")


def test_malformed_lock_is_typed_with_line_and_path(tmp_path: Path) -> None:
    text = _lock_text().replace(f"#sha256:{SHA}", "#sha256:nothex")
    with pytest.raises(MalformedLock) as caught:
        parse_explicit(text)
    assert caught.value.line == 5 and "malformed hash" in caught.value.reason
    assert str(caught.value).startswith("line 5: ")  # the message commands have always shown
    assert isinstance(caught.value, ValueError)
    path = tmp_path / "linux-64.txt"
    path.write_text(text)
    with pytest.raises(MalformedLock) as from_file:
        read_explicit(path)
    assert from_file.value.path == path and from_file.value.line == 5
    with pytest.raises(MalformedLock) as no_marker:
        parse_explicit("# platform: linux-64\n")
    assert no_marker.value.line is None and str(no_marker.value) == "no @EXPLICIT line"


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("zlib-1.3.1-h4ab18f5_1.conda", "zlib.conda", "not a package file name NAME-VERSION-BUILD"),
        (f"zlib-1.3.1-h4ab18f5_1.conda#sha256:{SHA}", "zlib.conda#sha256:nothex", "not a package file name"),
        ("zlib-1.3.1-h4ab18f5_1.conda", "zlib-1.3.1-h4ab18f5_1.whl", "not a package URL"),
        (f"#sha256:{SHA}", "#", "missing or malformed hash"),
    ],
)
def test_a_bad_package_line_is_named_by_its_first_fault(old: str, new: str, reason: str) -> None:
    """The URL's shape, then the file name, then the hash: one message per line, the first that fails."""
    with pytest.raises(MalformedLock) as caught:
        parse_explicit(_lock_text().replace(old, new))
    assert caught.value.line == 5 and caught.value.reason.startswith(reason), caught.value.reason
    if "hash" not in reason:  # conda list --explicit output, read without hashes: the same faults
        with pytest.raises(MalformedLock, match=reason):
            parse_explicit(_lock_text().replace(old, new), hashes=False)


_FRAGMENTS = st.text(alphabet="0123456789abcdefABCDEFgxz:sha256 \t#\u0660\uff10", max_size=80)


@settings(max_examples=3000, deadline=None)
@given(
    st.one_of(
        _FRAGMENTS,
        st.builds(lambda f: "sha256:" + f, _FRAGMENTS),
        st.builds(lambda n, c: c * n, st.sampled_from([31, 32, 33, 63, 64, 65]), st.sampled_from(["a", "0", "A"])),
        st.builds(lambda n: "sha256:" + "f" * n, st.sampled_from([63, 64, 65])),
    )
)
def test_a_lines_hash_is_read_as_the_patterns_read_it(fragment: str) -> None:
    """A line's md5 or sha256 is told by its length and lowercase hex digits (no pattern compiled, Round 9):
    the same verdict as the patterns the reader used before (``^[0-9a-f]{32}$``, ``sha256:`` then
    ``^[0-9a-f]{64}$``), on the stripped line's fragment after ``#``."""
    fragment = fragment.rstrip()  # as the reader strips the line
    url = f"{BASE}/zlib-1.3.1-h4ab18f5_1.conda"
    if re.match(r"^[0-9a-f]{64}$", fragment[7:]) and fragment.startswith("sha256:"):
        want: tuple[str | None, str | None] | None = (None, fragment[7:])
    elif re.match(r"^[0-9a-f]{32}$", fragment):
        want = (fragment, None)
    else:
        want = None
    text = f"# platform: linux-64\n@EXPLICIT\n{url}#{fragment}\n"
    if want is None:
        with pytest.raises(MalformedLock, match="missing or malformed hash"):
            parse_explicit(text)
    else:
        entry = parse_explicit(text).entries[0]
        assert (entry.md5, entry.sha256) == want


def test_entries_are_split_by_package_url() -> None:
    entry = parse_explicit(_lock_text()).entries[0]
    assert (entry.name, entry.version, entry.build, entry.subdir) == ("zlib", "1.3.1", "h4ab18f5_1", "linux-64")
    assert entry.package.channel == "https://conda.anaconda.org/conda-forge"
    assert entry.hash_line == f"{BASE}/zlib-1.3.1-h4ab18f5_1.conda#sha256:{SHA}"


def test_lock_dir_gives_a_lock_or_a_problem(tmp_path: Path) -> None:
    locks = LockDir(tmp_path, "{platform}.lock")
    (tmp_path / "linux-64.lock").write_text(_lock_text())
    (tmp_path / "osx-64.lock").write_text(_lock_text("win-64"))
    (tmp_path / "win-64.lock").write_bytes(b"# Generated by lockgen\n@EXPLICIT\n\xff\n")
    (tmp_path / "linux-aarch64.lock").write_text("@EXPLICIT\nnot a url\n")
    (tmp_path / "freebsd-64.lock").mkdir()

    good = locks.read("linux-64")
    assert good.lock is not None and good.problem is None and not good.wrong_platform
    other = locks.read("osx-64")
    assert other.lock is not None and other.wrong_platform
    assert locks.read("osx-arm64").problem is LockProblem.MISSING
    binary = locks.read("win-64")
    assert binary.problem is LockProblem.NOT_UTF8 and (binary.bad_byte, binary.bad_line) == (33, 3)
    bad = locks.read("linux-aarch64")
    assert bad.problem is LockProblem.MALFORMED and isinstance(bad.error, MalformedLock) and bad.error.line == 2
    assert locks.read("freebsd-64").problem is LockProblem.UNREADABLE
    assert locks.generated("linux-64") and locks.generated("win-64") and not locks.generated("linux-aarch64")
    assert read_lock_file(tmp_path / "linux-64.lock", "linux-64").text == _lock_text()


def test_lock_dir_others_are_the_unnamed_txt_files(tmp_path: Path) -> None:
    for name in ("linux-64.txt", "requirements.txt", "requirements-unhashed.txt", "notes.txt", "b.txt", "x.md"):
        (tmp_path / name).write_text("@EXPLICIT\n")
    assert [p.name for p in LockDir(tmp_path, "{platform}.txt").others()] == ["b.txt", "notes.txt"]
    assert claims_platform("# platform: linux-64\n") == "`# platform: linux-64`"
    assert claims_platform("just text\n") is None


def test_header_pieces_round_trip() -> None:
    line = generated_line(["a.yml", "b.yml"], " (the pip: section)")
    assert line == "# Generated by lockgen from a.yml, b.yml (the pip: section). Do not edit; run `lockgen lock`."
    assert generated_sources(line, " (the pip: section)") == ("a.yml", "b.yml")
    # a project may have no Makefile: locks say `lockgen lock`; those that said `make lock` still read as ours
    older = line.replace("`lockgen lock`", "`make lock`")
    assert generated_sources(older, " (the pip: section)") == ("a.yml", "b.yml")
    assert with_current_marker(older + "\nrest\n") == line + "\nrest\n"
    assert is_generated(line) and is_generated(line.encode()) and not is_generated(" " + line)
    parts = (("specs", "0" * 12), ("packages", "1" * 12))
    rendered = render_input_hash("sha256:ab", parts)
    assert rendered == "# input-hash: sha256:ab specs=000000000000 packages=111111111111"
    assert parse_input_hash(rendered.partition(":")[2]) == ("sha256:ab", parts)
    assert parse_input_hash("  ") == (None, ())


def test_json_digest_is_canonical() -> None:
    payload = {"b": [1, 2], "a": "x"}
    assert json_sha256(payload) == json_sha256({"a": "x", "b": [1, 2]})
    assert json_sha256(payload).startswith("sha256:")
    assert json.dumps(payload, sort_keys=True, separators=(",", ":")) == '{"a":"x","b":[1,2]}'
    assert short_digest(payload) == json_sha256(payload)[7:19]


def test_logical_lines_drop_a_comment_after_a_final_continuation() -> None:
    assert logical_lines("a==1 \\\n  --hash=sha256:x # why \\") == [(1, "a==1    --hash=sha256:x")]


def _header(**changes: object) -> Header:
    fields: dict[str, object] = {
        "sources": ("environment.yml",),
        "input_hash": "sha256:" + "1" * 64 + " pip=" + "2" * 12,
        "platforms": ("linux-64", "win-64"),
        "resolved_against": ("linux-64: against linux-64.txt",),
        "mapping": "bundled",
        "unhashed": "requirements-unhashed.txt",
    }
    fields.update(changes)
    return Header(**fields)  # type: ignore[arg-type]


def test_requirements_lock_one_reader_for_what_the_writer_wrote(tmp_path: Path) -> None:
    pins = [Pin("b", "2.0", None, ("sha256:" + "b" * 64,)), Pin("a", "1.0", None, ("sha256:" + "a" * 64,), via=("x",))]
    text = render_requirements_lock(_header(options=("--index-url https://example.org/simple",)), pins)
    lock = parse_requirements_lock(text)
    assert lock.generated and lock.platforms == ("linux-64", "win-64")
    assert lock.input_hash == "sha256:" + "1" * 64
    assert dict(lock.parts)["pip"] == "2" * 12 and "body" in dict(lock.parts)
    assert lock.inputs == "sha256:" + "1" * 64 + " pip=" + "2" * 12  # without body=
    assert [p.name for p in lock.pins()] == ["a", "b"] and lock.pins()[0].via == ("x",)
    assert lock.option_lines() == ["--index-url https://example.org/simple"]
    assert lock.body.startswith("--index-url") and text.endswith(lock.body)
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    previous = read_previous(path)
    assert previous is not None and previous.input_hash == lock.inputs and len(previous.pins) == 2
    assert input_hash_of(path) == lock.inputs

    unhashed = render_unhashed_lock(_header(), ["-e ./proj", "pkg @ git+https://h/r@" + "c" * 40])
    read = read_unhashed(unhashed)
    assert read.input_hash == lock.inputs and read.paths_base == "." and len(read.lines) == 2
    assert read.lines[0].editable and read.lines[1].name == "pkg"
