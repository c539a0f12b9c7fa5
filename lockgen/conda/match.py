"""Whether a package satisfies a conda match spec, without the caller importing rattler."""

from __future__ import annotations

__all__ = ["narrowed", "spec_matches", "version_lower"]


def spec_matches(spec: str, name: str, version: str, build: str, subdir: str) -> bool | None:
    """Whether ``name`` ``version`` ``build`` (of ``subdir``) satisfies ``spec``; None when ``spec`` is
    about another package, or when rattler cannot read the spec or the version (nothing to say then)."""
    from rattler import MatchSpec, PackageRecord
    from rattler.package.build_string import BuildString

    try:
        match = MatchSpec(spec, strict=False)
    except Exception:  # a spec rattler cannot read: the solve reported it
        return None
    if match.name is None or match.name.normalized != name:
        return None
    try:
        record = PackageRecord(name, version, BuildString(build), 0, subdir)
    except Exception:  # an unparsable old version: say nothing rather than guess
        return None
    return bool(match.matches(record))


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
