"""The files that make lockgen's pre-commit hooks run: every input `check` reads and every file
`lock` writes, including conda-lock.yml (`[tool.lockgen] conda-lock-file`: check holds it to the
locks, lock rewrites it). pre-commit matches `files:` with Python's `re.search` on the repository path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

HOOKS = yaml.safe_load((Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml").read_text())

RUN = [
    "environment.yml", "sub/environment-gpu.yaml", "pyproject.toml", "requirements-dev.txt", "locks/linux-64.txt",
    "conda-lock.yml", "conda-lock-docs.yml", "envs/conda-lock.yaml",
]  # fmt: skip
SKIP = ["README.md", "src/pkg/module.py", "docs/conda-lock.md", "my-conda-lock.yml.bak"]


@pytest.mark.parametrize("hook", HOOKS, ids=[h["id"] for h in HOOKS])
def test_hook_runs_when_an_input_or_a_lock_changes(hook: dict[str, str]) -> None:
    pattern = re.compile(hook["files"])
    assert [p for p in RUN if not pattern.search(p)] == []
    assert [p for p in SKIP if pattern.search(p)] == []
