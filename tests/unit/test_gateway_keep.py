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
