"""Counters the fault tests add to; tests/faults/conftest.py prints them at the end of the session."""

from __future__ import annotations

from collections import Counter

__all__ = ["FIGURES", "count"]

FIGURES: Counter[str] = Counter()


def count(kind: str, n: int = 1) -> None:
    """Add ``n`` to the figure ``kind`` (e.g. ``network faults injected``, ``kill trials``)."""
    FIGURES[kind] += n
