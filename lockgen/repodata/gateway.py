"""The one place a rattler Gateway is made: every command that reads repodata shares its disk cache
(``--cache-dir``), offline policy, timeout and retries, so what ``lock`` fetched ``install``,
``verify`` and ``explain`` find again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.config import DEFAULT_HTTP_RETRIES as DEFAULT_RETRIES
from lockgen.config import DEFAULT_HTTP_TIMEOUT_S as DEFAULT_TIMEOUT_S
from lockgen.config import HTTP_RETRIES_ENV as RETRIES_ENV
from lockgen.config import HTTP_TIMEOUT_ENV as TIMEOUT_ENV
from lockgen.config import ensure_cache_dir

if TYPE_CHECKING:
    from rattler import Gateway

__all__ = ["DEFAULT_RETRIES", "DEFAULT_TIMEOUT_S", "RETRIES_ENV", "TIMEOUT_ENV", "make_gateway"]


def make_gateway(
    cache_dir: Path, *, offline: bool = False, timeout_s: int = DEFAULT_TIMEOUT_S, retries: int = DEFAULT_RETRIES
) -> Gateway:
    """A Gateway caching in ``cache_dir`` (created if needed; ConfigError when it cannot be); with
    ``offline``, repodata is read from that cache only."""
    from rattler import Client, Gateway, SourceConfig
    from rattler.networking.middleware import AuthenticationMiddleware, RetryMiddleware

    config = SourceConfig(cache_action="force-cache-only" if offline else "cache-or-fetch")
    client = Client([RetryMiddleware(retries), AuthenticationMiddleware()], timeout=timeout_s)
    ensure_cache_dir(cache_dir)
    return Gateway(cache_dir=cache_dir, default_config=config, client=client)
