"""The one place a rattler Gateway is made: every command that reads repodata shares its disk cache
(``--cache-dir``), offline policy, timeout and retries, so what ``lock`` fetched ``install``,
``verify`` and ``explain`` find again."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.cachedir import ensure_cache_dir
from lockgen.config import DEFAULT_HTTP_RETRIES, DEFAULT_HTTP_TIMEOUT_S

if TYPE_CHECKING:
    from rattler import Client, Gateway

__all__ = [
    "collect_from_here",
    "done_with",
    "import_asyncio",
    "keep_gateways_until_exit",
    "make_gateway",
]

_kept: list[object] = []
_keep = False


def keep_gateways_until_exit() -> None:
    """Declare that this process ends with ``os._exit`` (lockgen's CLI does), so a Gateway it is done
    with need not be freed: :func:`done_with` then keeps it instead. Freeing one drops every subdir
    it loaded, tens of milliseconds at the end of a lock (docs/performance.md) that the exit makes
    moot. A library caller, which goes on running, never calls this: its Gateways are freed."""
    global _keep  # noqa: PLW0603 - one switch per process, set by the command line before it locks
    _keep = True


def collect_from_here() -> None:
    """The console script (:func:`lockgen.cli.app.main`) turns the collector off while ``install`` and
    ``lock`` import their modules (rattler's and asyncio's among them): what they made lives until the
    process ends, and collecting it cost a warm install ~5 ms, a warm lock ~4 ms (one young collection
    of the ~20 000 objects its imports made), for nothing. Once they are imported (``install`` after
    its imports, ``lock`` when its solve begins) it is moved out of the collector's reach
    (``gc.freeze``) and the collector turned on again, for the command's own objects. A ``lock`` that
    solves nothing (a no-op) leaves it off until it exits. Only in a process that ends with
    ``os._exit`` (:func:`keep_gateways_until_exit`): a library caller's collector, or one click's test
    runner leaves on, is left alone (docs/performance.md, "Round 8: the warm lock")."""
    import gc

    if _keep and not gc.isenabled():
        gc.freeze()
        gc.enable()


def import_asyncio() -> None:
    """Import asyncio for rattler's solves, in the console script without the ``ssl`` module asyncio
    would load for TLS connections of its own (~6-10 ms, OpenSSL's ``_ssl`` with it: docs/performance.md,
    "Round 9: the warm lock's main thread"). lockgen makes none: rattler fetches in Rust, lockgen's own
    requests (httpx) are synchronous and import ``ssl`` themselves when they are made. asyncio takes an
    ``ssl`` that cannot be imported as an interpreter built without it (its TLS transports refused, the
    rest unchanged); ``ssl`` stays importable for everything else.

    Only in a process that ends with ``os._exit`` (:func:`keep_gateways_until_exit`), which runs one
    command and makes no asyncio TLS connection, and only while no other thread runs (one could import
    ``ssl`` meanwhile): a library caller's asyncio is its own. An asyncio that needs ``ssl`` is imported
    with it."""
    if "asyncio" in sys.modules:
        return
    import importlib
    import threading

    if _keep and "ssl" not in sys.modules and threading.active_count() == 1:
        sys.modules["ssl"] = None  # type: ignore[assignment] # import's own mark for "not importable"
        try:
            importlib.import_module("asyncio")
        except ImportError:  # an asyncio that cannot do without it: what it imported half is imported again
            for name in [n for n in sys.modules if n == "asyncio" or n.startswith("asyncio.")]:
                del sys.modules[name]
        finally:
            if "ssl" in sys.modules and sys.modules["ssl"] is None:
                del sys.modules["ssl"]
    importlib.import_module("asyncio")  # a no-op when imported above


def done_with(gateway: Gateway) -> None:
    """The caller drops ``gateway``; kept alive until exit when :func:`keep_gateways_until_exit` was called."""
    if _keep:
        _kept.append(gateway)


def make_gateway(
    cache_dir: Path,
    *,
    offline: bool = False,
    timeout_s: int = DEFAULT_HTTP_TIMEOUT_S,
    retries: int = DEFAULT_HTTP_RETRIES,
    client: Client | None = None,
) -> Gateway:
    """A Gateway caching in ``cache_dir`` (created if needed; ConfigError when it cannot be); with
    ``offline``, repodata is read from that cache only. ``client``: the one it fetches with, for a caller
    whose channels are all local folders (None: a new one, with retries, credentials and the timeout)."""
    from rattler import Client, Gateway, SourceConfig
    from rattler.networking.middleware import AuthenticationMiddleware, RetryMiddleware

    config = SourceConfig(cache_action="force-cache-only" if offline else "cache-or-fetch")
    if client is None:
        client = Client([RetryMiddleware(retries), AuthenticationMiddleware()], timeout=timeout_s)
    ensure_cache_dir(cache_dir)
    return Gateway(cache_dir=cache_dir, default_config=config, client=client)
