"""Credential handling: strip secrets from URLs and mask them in any text we show or write.

Channel URLs may carry ``user:password@`` or a ``/t/<token>`` path segment (anaconda.org style;
as in conda, anywhere in the path: ``https://host/api/t/<token>/channel``); pip index URLs may
carry ``user:password@``. These are used to fetch and never appear in
lock files, logs or error messages. A VCS URL is written to a lock by :func:`public_vcs_url` (an ssh
``git@`` user kept); :func:`without_login` drops the login from a key or a message.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

__all__ = ["SecretRegistry", "public_vcs_url", "redact", "strip_credentials", "without_login"]

# Patterns, compiled when first used (re's cache): only a URL with a login or a /t/ segment, or a
# message with a URL in it, needs them, and a command that shows and reads none compiles none.
_USERINFO = r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*:/{1,3})(?P<userinfo>[^/@\s]+)@"
"""``user:pw@`` after a scheme, also in the ``https:/`` form a path normalisation leaves."""
_TOKEN = r"/t/(?P<token>[^/\s]+)(?=/|$)"  # noqa: S105 - a pattern
_TOKEN_IN_TEXT = r"/t/(?P<token>[^/\s'\"`()<>\[\],;]+)(?=[/\s'\"`()<>\[\],;]|$)"  # noqa: S105 - a pattern
_URL_IN_TEXT = r"[a-zA-Z][a-zA-Z0-9+.-]*:/{1,3}[^\s'\"`<>]+"
"""A URL in a message: a ``/t/<token>`` segment is masked only there (``/home/t/project`` is a folder)."""
MASK = "***"


@lru_cache(maxsize=512)
def strip_credentials(url: str) -> str:
    """Return ``url`` without userinfo or a ``/t/<token>`` segment (the canonical, shareable form).

    Memoised: a solve asks this of the same few channel URLs for every record it locks."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    path = parts.path if parts.scheme == "file" or "/t/" not in parts.path else re.sub(_TOKEN, "", parts.path)
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


def redact(text: str, extra: tuple[str, ...] | frozenset[str] = (), *, keep_git_user: bool = False) -> str:
    """Mask credentials in URLs found in ``text``, and every literal string in ``extra``; with
    ``keep_git_user``, an ssh ``git@`` login is kept (no secret: as :func:`public_vcs_url` writes it)."""
    for secret in sorted(extra, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, MASK)
    if ":/" not in text:  # no URL: no login nor token to mask
        return text
    keep = "git" if keep_git_user else None
    text = re.sub(
        _USERINFO, lambda m: m.group() if m.group("userinfo") == keep else f"{m.group('scheme')}{MASK}@", text
    )
    return re.sub(_URL_IN_TEXT, _mask_token, text)


def _mask_token(url: re.Match[str]) -> str:
    found = url.group(0)
    return found if found.lower().startswith("file:") else re.sub(_TOKEN_IN_TEXT, f"/t/{MASK}", found)


class SecretRegistry:
    """Collects the secret parts of every URL and variable a run uses, so messages can mask them."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add_url(self, url: str) -> None:
        parts = urlsplit(url)
        if "@" in parts.netloc:
            userinfo = parts.netloc.rsplit("@", 1)[0]
            self._secrets.add(userinfo)
            self._secrets.update(p for p in userinfo.split(":", 1) if len(p) >= 4)
        if parts.scheme != "file" and "/t/" in parts.path:
            self._secrets.update(m.group("token") for m in re.finditer(_TOKEN, parts.path))

    def add(self, secret: str) -> None:
        if secret:
            self._secrets.add(secret)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)


def public_vcs_url(url: str) -> str:
    """A VCS URL as a lock may show it: no password or token; an ssh ``git@`` user is kept."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if not sep or "@" not in host:
        return url
    user, _, host = host.rpartition("@")
    return f"{scheme}://{'git@' if user == 'git' else ''}{host}{slash}{path}"


def without_login(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it left out (a key or message that must not
    depend on, nor show, a login)."""
    return re.sub(r"://[^/@\s]+@", "://", text)
