"""Review and maintain locks: ``check`` (up to date?), ``diff`` (what changed?), ``explain`` (why is it there?).

Each module takes frozen dataclasses and returns frozen dataclasses; none prints. The commands
live in :mod:`lockgen.cli.check`, :mod:`lockgen.cli.diff` and :mod:`lockgen.cli.explain`.
"""
