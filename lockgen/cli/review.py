"""`check`, `diff` and `explain` commands (being written: see issue 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from lockgen.errors import ConfigError


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level group."""


def run_check(
    files: tuple[Path, ...],
    output_dir: Path | None,
    platforms: tuple[str, ...],
    quiet: bool,
    verbose: bool,
    rest: dict[str, Any],
) -> None:
    from lockgen.cli.main import run_core

    def action() -> int:
        raise ConfigError("`lock --check` is not available yet")

    run_core(verbose, action)
