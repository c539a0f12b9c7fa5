"""`check` re-derives requirements-unhashed.txt from the pip section (issue 18, items 1 and 2).

`lockgen install` installs that file without hashes (VCS URLs, local projects: their build backends
run), so a pull request that adds one, appends a VCS URL or points a local path elsewhere must
show in `check`, even when it recomputes every digest on the input-hash line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lockgen.config import build_options
from lockgen.lockfiles.lockdir import UNHASHED_NAME
from lockgen.lockfiles.requirements import body_digest, parse_requirements_lock
from lockgen.pypi.stage import lock_pip_files
from lockgen.reporting import RecordingReporter
from lockgen.review.check import check
from tests.faults.figures import count
from tests.support.options import flags
from tests.unit.test_pypi_forms_golden import COMMIT, ENV, FormsResolver
from tests.unit.test_pypi_section import CONDA, make_request

EVIL_SHA = "f" * 40


def _project(root: Path, env: str = ENV) -> Path:
    (root / "localproj").mkdir(parents=True)
    (root / "localproj" / "pyproject.toml").write_text('[project]\nname = "localproj"\nversion = "0.1"\n')
    (root / "vendor" / "pkg").mkdir(parents=True)
    (root / "vendor" / "pkg" / "setup.py").write_text("from setuptools import setup\nsetup(name='pkg')\n")
    (root / "vendor" / "other").mkdir(parents=True)
    (root / "vendor" / "other" / "setup.py").write_text("import os  # a build backend runs whatever is here\n")
    files = lock_pip_files(make_request(root, env), CONDA, RecordingReporter(), resolver=FormsResolver())
    (root / "locks").mkdir()
    for name, data in files.items():
        assert data is not None
        (root / "locks" / name).write_bytes(data)
    return root / "locks"


def _unhashed_stale(root: Path) -> list[str]:
    options = build_options(
        [root / "environment.yml"],
        flags(output_dir=root / "locks", platforms=("linux-64", "win-64"), pypi_mapping=root / "mapping.json"),
    )
    return [s.detail for s in check(options).stale if s.file == UNHASHED_NAME]


def _forge(path: Path, edit: str) -> None:
    """Apply ``edit`` (old => new) to the body and recompute ``body=``, as a careful attacker would."""
    old, new = edit.split(" => ")
    text = path.read_text()
    assert old in text
    text = text.replace(old, new)
    body = parse_requirements_lock(text).body
    path.write_text(re.sub(r"body=\w+", f"body={body_digest(body)}", text))


def test_a_fresh_unhashed_file_is_up_to_date(tmp_path: Path) -> None:
    _project(tmp_path)
    assert _unhashed_stale(tmp_path) == []


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (
            f"@{COMMIT}\n => @{COMMIT}\nevil @ git+https://evil.example/evil.git@{EVIL_SHA}\n",
            "`evil @ git+https://evil.example/evil.git@" + EVIL_SHA + "` is not a VCS URL the pip: section lists",
        ),
        ("-e ./localproj\n => -e ./vendor/other\n", "`-e ./vendor/other` is not a local project the pip"),
        ("./vendor/pkg ; => ./vendor/other ;", "environment.yml:11) is not in it"),
        ("git.example/org/vcspkg.git => evil.example/org/vcspkg.git", "is not a VCS URL the pip: section lists"),
        ("vcspkg @ => otherpkg @", "`otherpkg @ git+https://git.example/org/vcspkg.git@"),
        ("@0123456789abcdef#subdirectory=x", None),
        ('./vendor/pkg ; sys_platform == "linux" => ./vendor/pkg', "body line 2"),
    ],
)
def test_an_edited_unhashed_file_is_reported_even_with_its_digest_recomputed(
    tmp_path: Path, edit: str, says: str | None
) -> None:
    locks = _project(tmp_path)
    if says is None:  # a #subdirectory= added to the VCS URL (another project of the same repository)
        edit = f"@{COMMIT}\n => @{COMMIT}#subdirectory=evil\n"
        says = "vcspkg is not pinned to a full commit hash"  # refused before any comparison
    _forge(locks / UNHASHED_NAME, edit)
    stale = _unhashed_stale(tmp_path)
    assert len(stale) == 1 and says in stale[0], stale
    count("hostile review inputs refused")


def test_an_edit_that_leaves_body_digest_stale_is_a_hand_edit(tmp_path: Path) -> None:
    locks = _project(tmp_path)
    path = locks / UNHASHED_NAME
    path.write_text(path.read_text().replace("-e ./localproj\n", "-e ./localproj\n./vendor/other\n"))
    (stale,) = _unhashed_stale(tmp_path)
    assert "edited after lockgen wrote them" in stale


def test_an_unhashed_file_the_pip_section_does_not_need_is_reported_with_or_without_header(tmp_path: Path) -> None:
    env = ENV.replace("    - vcspkg @ git+https://user:s3cret@git.example/org/vcspkg.git@v1\n", "")
    env = env.replace("    - -e ./localproj\n", "").replace("    - ./vendor/pkg  # [linux]\n", "")
    header = (_project(tmp_path / "other") / UNHASHED_NAME).read_text().split("-e ./localproj")[0]
    make_request(tmp_path, env)  # writes environment.yml and the mapping
    locks = tmp_path / "locks"
    locks.mkdir()
    (locks / UNHASHED_NAME).write_text("./vendor/other\n")  # no header at all: a PR's plain file
    (stale,) = _unhashed_stale(tmp_path)
    assert "lists no VCS URL or local project" in stale and "would install it without hashes" in stale
    (locks / UNHASHED_NAME).write_text(header + "./vendor/other\n")  # a header copied from elsewhere
    (stale,) = _unhashed_stale(tmp_path)
    assert "lists no VCS URL or local project" in stale
    count("hostile review inputs refused", 2)


def test_an_unhashed_file_without_header_is_not_lockgens(tmp_path: Path) -> None:
    locks = _project(tmp_path)
    path = locks / UNHASHED_NAME
    body = parse_requirements_lock(path.read_text()).body
    path.write_text(body)
    (stale,) = _unhashed_stale(tmp_path)
    assert "was not written by lockgen" in stale


def test_install_takes_only_the_unhashed_file_requirements_txt_vouches_for(tmp_path: Path) -> None:
    from lockgen.errors import InstallError
    from lockgen.install.pip import unhashed_requirements

    locks = _project(tmp_path)
    path, requirements = locks / UNHASHED_NAME, locks / "requirements.txt"
    text = unhashed_requirements(path, locks, {"sys_platform": "linux"}, requirements)
    assert f"-e {tmp_path / 'localproj'}\n" in text
    original = path.read_text()
    path.write_text(original.replace("-e ./localproj\n", "-e ./vendor/other\n"))  # body= no longer matches
    with pytest.raises(InstallError, match="edited after lockgen wrote them"):
        unhashed_requirements(path, locks, {"sys_platform": "linux"}, requirements)
    path.write_text(original.replace("# input-hash: sha256:", "# input-hash: sha256:0"))  # another run's file
    with pytest.raises(InstallError, match=r"was not written with .*requirements\.txt"):
        unhashed_requirements(path, locks, {"sys_platform": "linux"}, requirements)
    path.write_text(parse_requirements_lock(original).body)  # no header at all
    with pytest.raises(InstallError, match="input-hash line is missing or differs"):
        unhashed_requirements(path, locks, {"sys_platform": "linux"}, requirements)
    count("hostile inputs refused", 3)
