"""The command-line interface (the only package that imports click).

:func:`main` is the console script (``lockgen``, and ``python -m lockgen``): it imports nothing but
:mod:`gc` before it holds the collector off, so the objects click's and lockgen's imports make are
never collected (:func:`lockgen.cli.app.main` sets them aside, then each command's collector).
"""

from __future__ import annotations

from typing import NoReturn

__all__ = ["main"]


def main() -> NoReturn:
    """The console script: the collector off while click and lockgen's modules are imported, then the CLI.

    Those imports make ~12 000 objects that live until the process ends; with the collector on, they
    cost `check` and a no-op `lock` 17 young and 2 older collections (~2 ms of CPU) that free nothing
    of lockgen's (docs/performance.md, "Round 9: what every command pays before it works")."""
    import gc

    gc.disable()
    from lockgen.cli.app import main as run

    run(imports_uncollected=True)
