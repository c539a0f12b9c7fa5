"""Whether a package satisfies a conda match spec: :func:`spec_matches`.

In the base layer, so ``check`` (which never imports the solver) can hold a lock's package lines to
the environment's specs. Without importing rattler, which costs more than the rest of ``check``.
"""

from __future__ import annotations

import re

from lockgen.models import PLAIN_OPERATOR, PLAIN_SPEC, PLAIN_VERSION

__all__ = ["plain_ranges_hold", "spec_matches"]

_RANGE = re.compile(rf"({PLAIN_OPERATOR})({PLAIN_VERSION})")
_RANGES = re.compile(rf"{PLAIN_OPERATOR}{PLAIN_VERSION}(?:,{PLAIN_OPERATOR}{PLAIN_VERSION})*")
_COMPARE = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "!=": lambda a, b: a != b,
    "==": lambda a, b: a == b,
}


_RATTLER = object()
"""What :func:`_plain_match` returns for a shape it leaves to rattler."""


def _plain_match(spec: str, name: str, version: str) -> bool | object | None:
    """:func:`spec_matches`'s answer for a plain spec and a version of plain numbers, else ``_RATTLER``."""
    match = re.fullmatch(PLAIN_SPEC, spec.strip())  # a common shape (models.PLAIN_SPEC), else rattler's
    if match is None or not re.fullmatch(PLAIN_VERSION, version):
        return _RATTLER
    if match["name"].lower() != name:
        return None
    have = [int(part) for part in version.split(".")]
    if match["prefix"]:
        want = [int(part) for part in match["prefix"].split(".")]
        return have[: len(want)] == want if len(have) >= len(want) else _RATTLER
    return _holds(match["ranges"] or "", have)


def _holds(ranges: str, have: list[int]) -> bool:
    """Whether the version ``have`` meets every bound of ``ranges`` (numbers padded with zeros)."""
    for operator, number in _RANGE.findall(ranges):
        bound = [int(part) for part in number.split(".")]
        width = max(len(bound), len(have))
        left, right = have + [0] * (width - len(have)), bound + [0] * (width - len(bound))
        if not _COMPARE[operator](left, right):
            return False
    return True


def plain_ranges_hold(specifier: str, version: str) -> bool | None:
    """Whether ``version`` meets a pip specifier of plain-number bounds (``>=1.2``, ``>=1.2, <2``),
    as packaging's ``SpecifierSet.contains(version, prereleases=True)`` answers for such a version
    and specifier (plain numbers are padded with zeros and compared in order, as conda compares
    them: no pre-, post- or local part to treat apart). None for any other shape (``~=``, ``==1.*``,
    ``1.0rc1``): packaging judges those (tests/unit/test_matchspec.py holds the two to the same answers)."""
    compact = specifier.replace(" ", "")
    if not _RANGES.fullmatch(compact) or not re.fullmatch(PLAIN_VERSION, version):
        return None
    return _holds(compact, [int(part) for part in version.split(".")])


def spec_matches(spec: str, name: str, version: str, build: str, subdir: str) -> bool | None:
    """Whether ``name`` ``version`` ``build`` (of ``subdir``) satisfies ``spec``; None when ``spec`` is
    about another package, or when rattler cannot read the spec or the version (nothing to say then)."""
    plain = _plain_match(spec, name, version)
    if plain is not _RATTLER:
        return plain if plain is None else bool(plain)
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
