"""The fingerprint of an extracted package's members: one digest of each file's and link's type,
mode, size, mtime and inode, in the order the scan listed them. lockgen writes it to an entry's
manifest at extraction (:func:`fingerprint`) and holds the entry to it at each reuse
(:func:`members_digest`): a member changed, replaced or removed since changes the digest."""

from __future__ import annotations

import hashlib
import itertools
import os
from array import array
from collections.abc import Iterable, Iterator, Sequence

__all__ = ["fingerprint", "members_digest"]


def fingerprint(fields: Iterable[tuple[int, int, int, int]]) -> str:
    """One digest of every member's (st_mode, st_size, st_mtime_ns, st_ino), in order."""
    listed = list(fields)
    try:
        packed = array("q", itertools.chain.from_iterable(listed)).tobytes()
    except OverflowError:  # an inode number beyond 2**63 (some network file systems)
        return "r-" + hashlib.blake2b(repr(listed).encode(), digest_size=20).hexdigest()
    return "q-" + hashlib.blake2b(packed, digest_size=20).hexdigest()


_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _member_stats(root: str, members: Sequence[str]) -> Iterator[tuple[int, int, int, int]]:
    """(mode, size, mtime_ns, inode) of each member under ``root``, in order, not following a last
    symbolic link. Each directory is opened once (not through a symbolic link) and its members
    looked up in it: a third less than one whole path per file. Raises OSError when one is missing."""
    current, handle = None, -1
    try:
        for member in members:  # a directory's members are listed together (one scandir each)
            directory, _, name = member.rpartition("/")
            if directory != current:
                if handle >= 0:
                    os.close(handle)
                    handle = -1
                handle = os.open(f"{root}{os.sep}{directory}" if directory else root, _DIRECTORY_FLAGS)
                current = directory
            info = os.lstat(name, dir_fd=handle)
            yield info.st_mode, info.st_size, info.st_mtime_ns, info.st_ino
    finally:
        if handle >= 0:
            os.close(handle)


def members_digest(root: str, members: Sequence[str]) -> str | None:
    """:func:`fingerprint` of the members under ``root`` as they are now; None when one is missing."""
    packed = array("q")
    try:
        for fields in _member_stats(root, members):
            packed.extend(fields)
    except (OSError, ValueError):
        return None
    except OverflowError:  # an inode number beyond 2**63 (some network file systems): the slow way
        try:
            return fingerprint(list(_member_stats(root, members)))
        except (OSError, ValueError):
            return None
    return "q-" + hashlib.blake2b(packed.tobytes(), digest_size=20).hexdigest()
