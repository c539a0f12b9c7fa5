"""Which channel changed, when a lock's ``channels=`` digest is not the current one.

A lock records its channels only as a digest (12 hex of the canonical URLs, in order), so the old
list is recovered by trying the few lists it can have been: orderings of the current channels and
of those the lock's package URLs come from (and, for a channel no package came from, a
few well-known ones). Found, ``check`` names each channel added or removed
(with the environment file's line) or the new order; not found, it names the channels now listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import permutations

from lockgen.channels import DEFAULTS_MAIN, DEFAULTS_WIN, ResolvedChannel
from lockgen.lockfiles import short_digest
from lockgen.secrets import redact

__all__ = ["channel_changes"]

_MOST = 6
"""At most this many candidate channels are tried (1,956 orderings): real files list two or three."""
_PUBLIC = "https://conda.anaconda.org/"
_KNOWN: tuple[tuple[str, ...], ...] = (
    *((f"{_PUBLIC}{name}",) for name in ("conda-forge", "bioconda", "pytorch", "nvidia", "pytorch-nightly")),
    DEFAULTS_MAIN,
    DEFAULTS_MAIN + DEFAULTS_WIN,
)
"""Channels a removed one is looked for among when no package of the lock came from it."""


def _name(url: str) -> str:
    return url.removeprefix(_PUBLIC) if url.startswith(_PUBLIC) else redact(url)


def _recorded(digest: str, candidates: Sequence[str]) -> list[str] | None:
    """The channel list whose digest is ``digest``, among orderings of ``candidates`` (None: not found)."""
    if len(candidates) > _MOST:
        return None
    for size in range(len(candidates) + 1):
        for order in permutations(candidates, size):
            if short_digest({"channels": list(order)}) == digest:
                return list(order)
    return None


def _with_one_known(digest: str, now: Sequence[str]) -> list[str] | None:
    """The current list with one well-known channel (or ``defaults``' block) put back somewhere."""
    for extra in _KNOWN:
        if any(url in now for url in extra):
            continue
        for at in range(len(now) + 1):
            candidate = [*now[:at], *extra, *now[at:]]
            if short_digest({"channels": candidate}) == digest:
                return candidate
    return None


def channel_changes(digest: str, channels: Sequence[ResolvedChannel], locked: Sequence[str]) -> str:
    """``channels changed: `pytorch` added (environment.yml:7)``: what changed from the list whose
    ``channels=`` digest is ``digest`` to ``channels``; ``locked``: the channels the lock's URLs name."""
    now = [c.canonical for c in channels]
    label = {c.canonical: f"`{c.label}`" for c in channels}
    where = {c.canonical: f" ({c.origin})" if c.origin else "" for c in channels}
    before = _recorded(digest, list(dict.fromkeys([*now, *locked]))) or _with_one_known(digest, now)
    if before is None:
        listed = ", ".join(dict.fromkeys(label[c] + where[c] for c in now))
        return f"channels changed (the list the lock was made from is not known): now {listed}"
    parts = [f"{label[c]} added{where[c]}" for c in now if c not in before]
    gone = [c for c in before if c not in now]
    if set(DEFAULTS_MAIN) <= set(gone):
        gone = ["defaults", *(c for c in gone if c not in DEFAULTS_MAIN + DEFAULTS_WIN)]
    parts += [f"`{_name(c)}` removed" for c in gone]
    if not parts:
        was = ", ".join(dict.fromkeys(f"`{_name(c)}`" for c in before))
        parts = [f"order changed: {was} became {', '.join(dict.fromkeys(label[c] + where[c] for c in now))}"]
    return "channels changed: " + "; ".join(dict.fromkeys(parts))
