"""A conda dependency of an environment file checked: :func:`conda_dependency`.

Plain forms are recognised by a pattern, anything else by rattler's ``MatchSpec`` (imported only
then); bracket words conda ignores (pip-style extras) are dropped with a warning; a comparison
written backwards (``pandas=>2.0``) gets its fix; the ``channel::`` part is checked (name or URL).
"""

from __future__ import annotations

import re

import yaml

from lockgen.channels import channel_prefixed, split_channel_spec
from lockgen.models import PACKAGE_NAME, PLAIN_SPEC, bad_channel_name, url_problem
from lockgen.secrets import redact
from lockgen.spec.model import LEADING_NAME, CondaDependency
from lockgen.spec.yamlread import Reader

__all__ = ["channel_url_problem", "conda_dependency"]


def channel_url_problem(value: str) -> str | None:
    """Why ``value``, when it is a URL, cannot be used (a malformed host or port, no host), else None."""
    if "://" not in value:
        return None
    from urllib.parse import urlsplit

    problem = url_problem(value)
    if problem:
        return problem
    parts = urlsplit(value)
    if not parts.scheme or (parts.scheme != "file" and not parts.hostname):
        return "no host name"
    return None


# A pattern, compiled when first used (re's cache): an up-to-date check or no-op lock never uses it.
_BRACKET = r"\[(?P<body>[^\[\]]*)\]"


def _without_bare_bracket_words(value: str) -> tuple[str, list[str]]:
    """``dask[complete]`` → (``dask``, [``complete``]): conda ignores bracket items that are not
    ``key=value`` (pip-style extras); the ``key=value`` items are kept."""
    dropped: list[str] = []

    def keep(match: re.Match[str]) -> str:
        items = [i.strip() for i in match.group("body").split(",") if i.strip()]
        kept = [i for i in items if "=" in i]
        dropped.extend(i for i in items if "=" not in i)
        return f"[{','.join(kept)}]" if kept else ""

    return re.sub(_BRACKET, keep, value).strip(), dropped


def conda_dependency(reader: Reader, value: str, node: yaml.Node) -> CondaDependency | None:
    if not re.fullmatch(PLAIN_SPEC, value):  # a common shape (rattler accepts them all): no rattler import
        from rattler import MatchSpec

        try:
            MatchSpec(value, strict=False)
        except Exception as exc:  # rattler raises InvalidMatchSpecError and friends
            lenient, dropped = _without_bare_bracket_words(value)
            try:
                if not dropped or not lenient:
                    raise
                MatchSpec(lenient, strict=False)
            except Exception:  # conda refuses it too (only bare words were dropped)
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                reader.problem(f"invalid conda spec {value!r}: {_conda_pin_fix(value) or first}", node)
                return None
            words = ", ".join(f"`{w}`" for w in dropped)
            reader.note(
                f"`{value}`: conda ignores {words} in brackets (pip-style extras"
                f" are not conda's; conda packages have no extras), so lockgen locks `{lenient}`",
                node,
                "warning",
            )
            value = lenient
    value = channel_prefixed(value)  # `idna[channel=conda-forge]` is `conda-forge::idna`
    head, sep, rest = value.partition("::")
    if not sep:
        head, rest = "", value
    channel = split_channel_spec(value)[0] if head else None
    if head and bad_channel_name(head):
        reader.problem(f"invalid channel {head!r} in spec {value!r}", node)
        return None
    bad_url = channel_url_problem(head) if head else None
    if bad_url:
        reader.problem(f"invalid channel URL in spec {redact(value)!r}: {bad_url}", node)
        return None
    match = re.match(LEADING_NAME, rest)
    if match is None:
        reader.problem(f"invalid conda spec {value!r}: no package name", node)
        return None
    name = match.group("name").lower()
    if name == "pip" and rest.strip().startswith("pip:"):
        reader.problem("`pip:` must be a mapping (`- pip:` followed by an indented list)", node)
        return None
    return CondaDependency(
        spec=value,
        name=name,
        channel=channel,
        selector=reader.selector(node),
        location=reader.location(node),
    )


# A pattern, compiled when first used (re's cache): only a spec with `=<` or `=>` needs it.
_SWAPPED_OPERATOR = rf"(?P<name>^{PACKAGE_NAME}(?:::)?[A-Za-z0-9_.\-]*)\s*=(?P<op>[<>])"


def _conda_pin_fix(value: str) -> str | None:
    """The fix for a comparison written backwards in a conda spec (``pandas=>2.0``, ``numpy=<2``)."""
    match = re.match(_SWAPPED_OPERATOR, value)
    if match is None:
        return None
    fixed = f"{match.group('name')}{match.group('op')}={value[match.end() :].lstrip()}"
    return f"did you mean `{fixed}`? (the comparison comes first: `>=`, `<=`)"
