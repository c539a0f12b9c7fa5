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
