"""Whether a package satisfies a conda match spec: :func:`spec_matches`.

In the base layer, so ``check`` (which never imports the solver) can hold a lock's package lines to
the environment's specs. Without importing rattler, which costs more than the rest of ``check``.
"""

from __future__ import annotations

__all__ = ["spec_matches"]


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
