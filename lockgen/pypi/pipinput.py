"""One platform's pip section as the resolver takes it: :class:`PipInput`, with the requirements
installed from a VCS URL or a local folder (:class:`DirectRequirement`) and the hashes a line gives
(:class:`GivenHashes`). :mod:`lockgen.pypi.requirements` reads the pip lines into it."""

from __future__ import annotations

from pathlib import Path

from lockgen.errors import Problem
from lockgen.records import dataclass
from lockgen.secrets import strip_credentials
from lockgen.spec.model import Location

__all__ = ["DirectRequirement", "GivenHashes", "PipInput", "vcs_url_of"]


@dataclass(frozen=True, slots=True)
class DirectRequirement:
    """A requirement pip installs from a VCS URL or a local folder: locked without hashes.

    Its dependencies are resolved (and hashed) like any other; the line itself goes to
    ``requirements-unhashed.txt``.
    """

    text: str
    """As written (``-e ./localproj``, ``pkg @ git+https://...``), for messages."""
    where: Location
    editable: bool = False
    path: Path | None = None
    """A local project: its absolute folder (``None`` for a VCS URL)."""
    url: str | None = None
    """A VCS URL as uv takes it (``pkg @ git+https://...@ref`` or ``git+https://...``)."""
    digest: str = ""
    """Of the local project's metadata files (empty for VCS)."""

    @property
    def uv_line(self) -> str:
        """The line uv compiles: an absolute path, so uv's answer names it without ambiguity."""
        if self.path is not None:
            return f"-e {self.path}" if self.editable else str(self.path)
        assert self.url is not None
        return self.url

    @property
    def vcs_url(self) -> str | None:
        """The VCS URL alone (``git+https://...@ref``, login included), None for a local project."""
        return vcs_url_of(self.url) if self.url is not None else None

    def hash_payload(self) -> list[str]:
        if self.path is not None:
            return ["editable" if self.editable else "path", self.text.removeprefix("-e").strip(), self.digest]
        return ["vcs", strip_credentials(vcs_url_of(self.url or ""))]


@dataclass(frozen=True, slots=True)
class GivenHashes:
    """pip's per-requirement ``--hash=sha256:...`` options: the lock may name only files with these hashes."""

    name: str
    """Canonical name of the (pinned) requirement."""
    hashes: frozenset[str]
    """``sha256:<hex>`` each."""
    where: Location


def vcs_url_of(text: str) -> str:
    """The URL of ``pkg @ git+https://...`` or ``git+https://...#egg=pkg``."""
    return text.split(" @ ", 1)[1].strip() if " @ " in text else text.strip()


@dataclass(frozen=True, slots=True)
class PipInput:
    """One platform's pip section, ready for the resolver."""

    requirements: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    find_links_key: tuple[str, ...] = ()
    """What the find-links locations hold, machine-independent: URLs, or directory (as written) and file names."""
    pre: bool = False
    no_index: bool = False
    no_index_at: Location | None = None
    """Where ``--no-index`` is written (the first one), for messages."""
    prefer_binary: bool = False
    """``--prefer-binary``: an older version with a wheel wins over a newer sdist-only release."""
    warnings: tuple[Problem, ...] = ()
    """Lines that were skipped (``-e .``, local paths): shown and written to the header, errors with --strict."""
    names: tuple[tuple[str, Location], ...] = ()
    """Canonical names of the requirements, with where each was written."""
    sources: tuple[tuple[str, str], ...] = ()
    """Every ``-r``/``-c`` file read, nested ones too, in reading order: (path as written, sha256 of its bytes)."""
    direct: tuple[DirectRequirement, ...] = ()
    """VCS URLs and local projects (``-e .``, ``./vendor/pkg``): resolved, then locked without hashes."""
    given_hashes: tuple[GivenHashes, ...] = ()
    """Requirements written with ``--hash``: checked against the files locked for them."""

    def hash_payload(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "requirements": [strip_credentials(r) if "://" in r else r for r in self.requirements],
            "constraints": list(self.constraints),
            "index-url": strip_credentials(self.index_url) if self.index_url else None,
            "extra-index-urls": [strip_credentials(u) for u in self.extra_index_urls],
            "find-links": list(self.find_links_key),
            "pre": self.pre,
            "no-index": self.no_index,
        }
        if self.prefer_binary:  # only when written: the input hash of every other section is unchanged
            payload["prefer-binary"] = True
        if self.direct:
            payload["direct"] = [d.hash_payload() for d in self.direct]
        if self.given_hashes:
            payload["given-hashes"] = [[g.name, sorted(g.hashes)] for g in self.given_hashes]
        return payload
