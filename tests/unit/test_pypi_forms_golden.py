"""The two pip lock files for every form (index pin, sdist, VCS URL, editable and plain local project),
byte for byte against tests/golden/pip-forms/ (regenerate with LOCKGEN_UPDATE_GOLDEN=1 and review the diff)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from lockgen.pypi.stage import lock_pip_files
from lockgen.pypi.uv import CompileJob
from lockgen.reporting import RecordingReporter
from tests.unit.test_pypi_section import CONDA, make_request

GOLDEN = Path(__file__).parent.parent / "golden" / "pip-forms"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
ENV = """\
name: t
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pytorch
  - pip:
    - accelerate
    - vcspkg @ git+https://user:s3cret@git.example/org/vcspkg.git@v1
    - -e ./localproj
    - ./vendor/pkg  # [linux]
"""


class FormsResolver:
    """Answers as uv 0.13 does for these forms: absolute paths back, VCS at its commit, `# via` lines."""

    def compile(self, jobs: Sequence[CompileJob]) -> dict[str, str]:
        out = {}
        for job in jobs:
            lines = job.requirements.read_text().splitlines()
            local = next(line for line in lines if line.startswith("-e "))
            text = (
                "accelerate==1.2.1 \\\n    --hash=sha256:aa\n    # via -r requirements.in\n"
                "localdep==2.0 \\\n    --hash=sha256:ld\n    # via localproj\n"
                f"{local}\n    # via -r requirements.in\n"
                "torch==2.1.0+conda \\\n    --hash=sha256:st\n    # via\n    #   accelerate\n    #   -c stubs.txt\n"
                f"vcspkg @ git+https://user:s3cret@git.example/org/vcspkg.git@{COMMIT}\n    # via -r requirements.in\n"
                "vcsdep==1.0 \\\n    --hash=sha256:vd\n    # via vcspkg\n"
            )
            vendor = [line for line in lines if line.endswith("/vendor/pkg")]
            if vendor:
                text += f"{vendor[0]}\n    # via -r requirements.in\n"
            out[job.target.platform] = text
        return out


def test_golden_pip_lock_files(tmp_path: Path) -> None:
    (tmp_path / "localproj").mkdir()
    (tmp_path / "localproj" / "pyproject.toml").write_text('[project]\nname = "localproj"\nversion = "0.1"\n')
    (tmp_path / "vendor" / "pkg").mkdir(parents=True)
    (tmp_path / "vendor" / "pkg" / "setup.py").write_text("from setuptools import setup\nsetup(name='pkg')\n")
    files = lock_pip_files(make_request(tmp_path, ENV), CONDA, RecordingReporter(), resolver=FormsResolver())
    for name in ("requirements.txt", "requirements-unhashed.txt"):
        text = (files[name] or b"").decode()
        assert str(tmp_path) not in text and "s3cret" not in text and "user" not in text
        golden = GOLDEN / name
        if os.environ.get("LOCKGEN_UPDATE_GOLDEN"):
            golden.write_text(text)
        assert text == golden.read_text(), name
