"""Progress reporting: the core calls a Reporter; the CLI decides what to show."""

from __future__ import annotations

from typing import Protocol

__all__ = ["NullReporter", "RecordingReporter", "Reporter"]


class Reporter(Protocol):
    def event(self, kind: str, platform: str | None, detail: str) -> None:
        """Something happened: ``kind`` is a short tag (fetch, solve, solved, pip, write, note, warning)."""


class NullReporter:
    def event(self, kind: str, platform: str | None, detail: str) -> None:
        return None


class RecordingReporter:
    """Keeps every event; used by tests and by the CLI to print warnings after the fact."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str | None, str]] = []

    def event(self, kind: str, platform: str | None, detail: str) -> None:
        self.events.append((kind, platform, detail))
