"""A Gateway the solver is done with is freed, unless the process declared it ends with os._exit
(the CLI's ``lock``): then freeing it is skipped (docs/performance.md)."""

from __future__ import annotations

import gc
import weakref

import pytest

from lockgen.repodata import gateway


class Loaded:
    """Stands for a Gateway: something that costs time to free."""


def test_a_library_caller_gets_its_gateway_freed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway, "_keep", False)
    monkeypatch.setattr(gateway, "_kept", [])
    held = Loaded()
    ref = weakref.ref(held)
    gateway.done_with(held)  # type: ignore[arg-type]
    del held
    gc.collect()
    assert ref() is None


def test_a_process_that_leaves_through_os_exit_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway, "_keep", False)
    monkeypatch.setattr(gateway, "_kept", [])
    gateway.keep_gateways_until_exit()
    held = Loaded()
    ref = weakref.ref(held)
    gateway.done_with(held)  # type: ignore[arg-type]
    del held
    gc.collect()
    assert ref() is not None


def test_a_library_callers_collector_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A library caller that turned the collector off for its own reasons and then locks keeps it off,
    with nothing set aside: only the console script's collector is turned on again when a solve begins."""
    monkeypatch.setattr(gateway, "_keep", False)
    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        gateway.collect_from_here()
        assert not gc.isenabled()
        assert gc.get_freeze_count() == frozen
    finally:
        if gc.get_freeze_count() != frozen:  # the check failed: give the collector back what was set aside
            gc.unfreeze()
        gc.enable()


_ASYNCIO = """
import json, sys, threading
from lockgen.repodata import gateway
case = sys.argv[1]
assert "asyncio" not in sys.modules and "ssl" not in sys.modules
if case != "library":
    gateway.keep_gateways_until_exit()
if case == "needs-ssl":  # an asyncio that cannot be imported without ssl
    class NeedsSsl:
        def find_spec(self, name, path=None, target=None):
            if name == "asyncio.base_events" and "ssl" in sys.modules and sys.modules["ssl"] is None:
                raise ImportError("this asyncio needs ssl")
            return None
    sys.meta_path.insert(0, NeedsSsl())
release = threading.Event()
if case == "thread":
    threading.Thread(target=release.wait, daemon=True).start()
gateway.import_asyncio()
release.set()
loaded = "ssl" in sys.modules
import asyncio
async def work():
    return await asyncio.to_thread(sum, [1, 2])
ran = asyncio.run(work())
import ssl  # still importable by everything else
print(json.dumps({"ssl_with_asyncio": loaded, "ran": ran, "ssl": ssl.__name__}))
"""


@pytest.mark.parametrize(
    ("case", "with_ssl"), [("console", False), ("library", True), ("thread", True), ("needs-ssl", True)]
)
def test_asyncio_is_imported_without_ssl_only_in_the_console_script(case: str, with_ssl: bool) -> None:
    """The console script, one thread running: asyncio without ``ssl`` (~6-10 ms of a warm lock; lockgen
    makes no asyncio TLS connection), ``ssl`` importable afterwards; a library caller, a process with
    another thread (which could import ``ssl`` meanwhile) and an asyncio that needs ``ssl`` get it as usual."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _ASYNCIO, case], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"ssl_with_asyncio": with_ssl, "ran": 3, "ssl": "ssl"}
