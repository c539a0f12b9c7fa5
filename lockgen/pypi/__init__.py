"""The pip section: resolve it per platform against what conda installs (work in progress)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from lockgen.errors import PypiResolutionError
from lockgen.reporting import Reporter

if TYPE_CHECKING:
    from lockgen.lock import LockPlan

__all__ = ["lock_pip_section"]


def lock_pip_section(the_plan: LockPlan, conda: Mapping[str, tuple[tuple[str, str], ...]], reporter: Reporter) -> bytes:
    """Return the text of locks/requirements.txt for ``the_plan``'s pip section."""
    raise PypiResolutionError("locking the pip: section is not implemented yet")
