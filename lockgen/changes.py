"""What a re-lock changed on each platform: counts for the summary, and the moves a reviewer must see.

:func:`platform_change` compares a platform's previous lock with its new solution; ``lock`` prints
each :class:`PlatformChange` (its summary line, then one line per :class:`Move`).
"""

from __future__ import annotations

from lockgen.lockfiles import ExplicitLock
from lockgen.models import LockedPackage, build_python, conda_version_order, package_count
from lockgen.records import dataclass

__all__ = ["Move", "PlatformChange", "platform_change"]


@dataclass(frozen=True, slots=True)
class Move:
    """A package that a reviewer must see: one the environment file names, or any downgrade."""

    name: str
    kind: str
    """``added``, ``removed``, ``upgraded``, ``downgraded`` or ``rebuilt``."""
    old: str
    new: str
    direct: bool

    def __str__(self) -> str:
        versions = {"added": self.new, "removed": self.old}.get(self.kind, f"{self.old} → {self.new}")
        return f"{self.name} {versions} ({self.kind}{', in your specs' if self.direct else ''})"


@dataclass(frozen=True, slots=True)
class PlatformChange:
    platform: str
    count: int
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    reused: bool = False
    downgraded: tuple[str, ...] = ()
    """Those of ``changed`` whose version went down."""
    rebuilt: tuple[str, ...] = ()
    """Those of ``changed`` with the same version (another build)."""
    moves: tuple[Move, ...] = ()
    """Changes to packages the environment file names, then every other downgrade (not for a new lock)."""
    rebuilt_for: tuple[str, int] | None = None
    """(the python version, ``3.12``, how many of :attr:`rebuilt` were rebuilt for it: their build strings'
    ``pyXY`` tag moved to it) when that is most of them: a python bump; the summary says so."""

    @property
    def summary(self) -> str:
        if self.reused:
            return f"{self.platform}: {package_count(self.count)}, up to date"
        upgraded = len(self.changed) - len(self.downgraded) - len(self.rebuilt)
        counts = (("added", len(self.added)), ("removed", len(self.removed)), ("upgraded", upgraded),
                  ("downgraded", len(self.downgraded)), ("rebuilt", len(self.rebuilt)))  # fmt: skip
        rebuilt_for = ""
        if self.rebuilt_for is not None:
            python, count = self.rebuilt_for
            rebuilt_for = (
                f" for python {python} at the same versions" if count == len(self.rebuilt)
                else f" at the same versions, {count} of them for python {python}"
            )  # fmt: skip
        parts = ", ".join(f"{n} {kind}{rebuilt_for if kind == 'rebuilt' else ''}" for kind, n in counts if n)
        parts = parts or "no changes"
        return f"{self.platform}: {package_count(self.count)} ({parts})"

    def lines(self) -> list[str]:
        """The summary, then one indented line per :attr:`moves`."""
        return [self.summary, *(f"  {move}" for move in self.moves)]



def platform_change(
    platform: str, old: ExplicitLock | None, new: tuple[LockedPackage, ...], direct: frozenset[str] = frozenset()
) -> PlatformChange:
    before = {e.name: (e.version, e.build) for e in old.entries} if old else {}
    after = {p.name: (p.version, p.build) for p in new}
    added = tuple(sorted(set(after) - set(before)))
    removed = tuple(sorted(set(before) - set(after)))
    changed = tuple(sorted(n for n in set(after) & set(before) if after[n] != before[n]))
    order = {n: conda_version_order(before[n][0], after[n][0]) for n in changed}
    kinds = dict.fromkeys(added, "added") | dict.fromkeys(removed, "removed")
    kinds |= {n: "downgraded" if o > 0 else "upgraded" if o < 0 else "rebuilt" for n, o in order.items()}
    rebuilt = tuple(n for n in changed if order[n] == 0)
    fold = len(rebuilt) >= FOLD_REBUILDS  # a python bump: the summary counts them; `lockgen diff -v` lists them
    moves: list[Move] = []
    if old is not None:  # a new lock: every package is new, none moved
        for name in sorted(kinds, key=lambda n: (n not in direct, n)):
            if fold and kinds[name] == "rebuilt":
                continue
            if name in direct or kinds[name] == "downgraded":
                was, now = before.get(name, ("", ""))[0], after.get(name, ("", ""))[0]
                moves.append(Move(name, kinds[name], was, now, name in direct))
    return PlatformChange(
        platform=platform,
        count=len(new),
        added=added,
        removed=removed,
        changed=changed,
        downgraded=tuple(n for n in changed if order[n] > 0),
        rebuilt=rebuilt,
        moves=tuple(moves),
        rebuilt_for=_python_bump([(before[n][1], after[n][1]) for n in rebuilt]) if fold else None,
    )


FOLD_REBUILDS = 5
"""From this many packages rebuilt at the same version on a platform, those the environment file names
are no longer listed one by one: the summary's count covers them (``lockgen diff -v`` lists them)."""


def _python_bump(builds: list[tuple[str, str]]) -> tuple[str, int] | None:
    """The python version most of these (old build, new build) pairs moved their ``pyXY`` tag to, and how many."""
    moved: dict[str, int] = {}
    for old, new in builds:
        was, now = build_python(old), build_python(new)
        if now and was != now:
            moved[now] = moved.get(now, 0) + 1
    best = max(moved.items(), key=lambda item: item[1], default=("", 0))
    return best if best[1] * 2 > len(builds) else None
