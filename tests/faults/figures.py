"""Counters the fault and security tests add to; :func:`write_summary` prints them at the end of the session."""

from __future__ import annotations

from collections import Counter
from typing import Any

__all__ = ["FIGURES", "count", "write_summary"]

FIGURES: Counter[str] = Counter()
_written: list[bool] = []


def count(kind: str, n: int = 1) -> None:
    """Add ``n`` to the figure ``kind`` (e.g. ``network faults injected``, ``kill trials``)."""
    FIGURES[kind] += n


def write_summary(terminalreporter: Any) -> None:
    """The ``lockgen fault injection`` section, once per session (tests/faults and tests/security both call it)."""
    if _written:
        return
    _written.append(True)
    if not FIGURES:
        return
    terminalreporter.section("lockgen fault injection")
    for kind, number in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{kind}: {number}")
    kills = sum(n for k, n in FIGURES.items() if k.startswith(("kill trials", "interrupt trials")))
    fuzz = sum(n for k, n in FIGURES.items() if k.startswith("fuzz cases"))
    faults = FIGURES["network faults injected"] + FIGURES["cache faults injected"] + FIGURES["write faults injected"]
    lost = FIGURES["lost or mixed after recovery"]
    hostile = FIGURES["hostile input cases"] + FIGURES["hostile channel cases"]
    terminalreporter.write_line(
        f"summary: {faults} faults injected, {kills} kill/interrupt trials, {fuzz} fuzz cases, "
        f"{FIGURES['secret checks']} secret checks, {hostile} hostile-input cases,"
        f" {FIGURES['hostile review inputs refused']} hostile review inputs refused,"
        f" {FIGURES['hostile inputs refused']} hostile install inputs refused;"
        f" lock sets lost or mixed: {lost}"
    )
