"""Conda versions compared and a spec narrowed, without the caller importing rattler (whether a package
satisfies a spec: :mod:`lockgen.matchspec`)."""

from __future__ import annotations

__all__ = ["narrowed", "version_lower"]


def version_lower(new: str, old: str) -> bool:
    """Whether conda version ``new`` sorts below ``old`` (False when either cannot be read)."""
    from rattler import Version

    try:
        return bool(Version(new) < Version(old))
    except Exception:  # an unparsable old version: do not call it a downgrade
        return False


def narrowed(spec: str, above: str) -> str | None:
    """``spec`` that also asks for a version newer than ``above`` (``pytorch>=2.0`` → ``pytorch >=2.0,>2.1.0``),
    keeping its build; None when rattler cannot read it or it says more than name, version and build
    (a channel, a subdir, brackets): then the caller adds a separate spec instead."""
    from rattler import MatchSpec

    try:
        match = MatchSpec(spec, strict=False)
    except Exception:
        return None
    if match.name is None or "::" in spec or "[" in spec:
        return None
    version = str(match.version) if match.version is not None else ""
    joined = f"({version}),>{above}" if "|" in version else f"{version},>{above}" if version else f">{above}"
    text = f"{match.name.normalized} {joined}" + (f" {match.build}" if match.build else "")
    try:
        MatchSpec(text, strict=False)
    except Exception:
        return None
    return text
