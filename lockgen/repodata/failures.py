"""How a failed repodata fetch is worded: one line naming what could not be read, the channel as the
user wrote it, and why in words (from rattler's error chain). ``lock``, ``install``, ``verify`` and
``explain`` all word fetch failures with :func:`fetch_failure` and :func:`offline_miss`.

Pure functions on text: the error chains they read are rattler's (already redacted by the caller).
"""

from __future__ import annotations

import re
from pathlib import Path

from lockgen.channels import ResolvedChannel
from lockgen.config import DEFAULT_HTTP_RETRIES, DEFAULT_HTTP_TIMEOUT_S

__all__ = [
    "DNS_FAILURE",
    "NO_DNS",
    "REFUSED",
    "channel_where",
    "fetch_failure",
    "fetch_reason",
    "first_url",
    "offline_miss",
]

NO_DNS = "the host name does not resolve"
REFUSED = "connection refused"
DNS_FAILURE = r"dns error|failed to lookup address|name or service not known"
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s()'\"`\\<>]+")
_HTTP_STATUS = re.compile(r"HTTP status (?:client|server) error \((?P<status>\d{3})(?P<phrase>[^)]*)\)")
_RETRIED = "; gave up after {retries} with backoff"
_FETCH_REASONS = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"connection refused", "connection refused (is the server up, and the URL right?)" + _RETRIED),
        (DNS_FAILURE, NO_DNS),
        (r"invalid peer certificate", "the server's TLS certificate is not trusted (self-signed, or a proxy that"
         " intercepts https?)"),
        (r"received corrupt message", "the TLS handshake failed (does the server speak https at that port?)"),
        (r"no such file|could not find subdir", "not found"),
        (r"timed out", "no answer within {timeout} s (LOCKGEN_HTTP_TIMEOUT sets the limit)" + _RETRIED),
        (r"redirect", "the server redirects in a loop (too many redirects)"),
        (r"end of file before message length|connection closed before message|incomplete", "the download was cut off"
         " before its end (truncated response)"),
        (r"failed to parse|failed to extract|expected value|eof while parsing|invalid type|missing field"
         r"|trailing characters|expected a borrowed string", "the response is not valid repodata JSON"),
        (r"frame descriptor|dictionary mismatch|zstd|(?<!\.tar\.)bz2|bzip|decompress|corrupt", "the response is"
         " not valid compressed repodata (a corrupt file, or a page served in its place)"),
    )
)  # fmt: skip


def first_url(text: str) -> str | None:
    """The first URL in an error chain, trailing punctuation left out."""
    match = _URL.search(text)
    return match.group(0).rstrip(".,;:") if match else None


def fetch_reason(text: str, timeout_s: int, retries: int) -> str:
    """What went wrong, in words, from rattler's error chain (already redacted)."""
    tries = f"{retries} {'retry' if retries == 1 else 'retries'}"
    status = _HTTP_STATUS.search(text)
    if status:
        code = int(status.group("status"))
        said = f"the server answered HTTP {code}{status.group('phrase')}"
        if code in (401, 403):
            return f"{said}: access denied, check the channel's credentials or token"
        if code >= 500 or code in (408, 429):
            return said + _RETRIED.format(retries=tries)
        return said
    for pattern, reason in _FETCH_REASONS:
        if pattern.search(text):
            return reason.format(timeout=timeout_s, retries=tries)
    return "the download failed"


def channel_where(channel: ResolvedChannel) -> str:
    """``channel `defaults` (environment.yml:5)``."""
    return f"channel `{channel.label}`" + (f" ({channel.origin})" if channel.origin else "")


def fetch_failure(
    where: str | None,
    text: str = "",
    *,
    reason: str | None = None,
    channel: ResolvedChannel | None = None,
    timeout_s: int = DEFAULT_HTTP_TIMEOUT_S,
    retries: int = DEFAULT_HTTP_RETRIES,
) -> str:
    """One line for repodata that could not be fetched: ``where`` (a URL, credentials masked; None:
    the first URL in ``text``), the channel as the user wrote it, and why in words (from rattler's
    error chain ``text``, already redacted, unless ``reason`` is given). The fix for an unreachable
    channel is the channel's :meth:`~lockgen.channels.ResolvedChannel.mirror_hint`."""
    where = where or first_url(text) or "the channel's repodata"
    why = reason if reason is not None else fetch_reason(text, timeout_s, retries)
    about = f" for {channel_where(channel)}" if channel is not None and not where.startswith(channel.label) else ""
    return f"cannot fetch {where}{about}: {why}"


def offline_miss(cache_dir: Path, listed: str, *, mirrored: bool) -> str:
    """The message for ``--offline`` when the cache lacks repodata for ``listed`` (channel/subdir names).

    The cache is kept per fetch URL, so a lock made through a mirror is found only with the same
    ``--mirror``: say so when none was given, rather than only "run without --offline"."""
    fix = "run once without --offline to fill it"
    if not mirrored:
        fix += " (or, if the locks were made through a mirror, pass the same --mirror and --cache-dir)"
    return f"offline: the cache {cache_dir} has no repodata for {listed}; {fix}"
