"""`install` and `verify` commands (being written: see issue 5)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level group."""
