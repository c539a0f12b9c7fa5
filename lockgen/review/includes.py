"""A read-only command never reads a pip ``-r``/``-c`` file outside the project on a pull request's word.

``check`` (and ``lock --check``) digest every file the pip section includes, as ``lock`` does. A pull
request can commit ``[tool.lockgen] allow-includes = ["/"]`` with a ``-r /some/file`` line: ``lock``,
the user's own command, honours that setting, but a check honours only ``--allow-include`` on its own
command line (:attr:`lockgen.config.Flags.writes_locks`). An include outside both is refused here,
before anything is compared, with the line that names it and the fix: the check never answers
"up to date" (or "stale") about a file it did not read.
"""

from __future__ import annotations

from pathlib import Path

from lockgen.errors import InputError, Problem
from lockgen.plan import LockPlan

__all__ = ["refuse_outside_includes"]


def refuse_outside_includes(the_plan: LockPlan) -> None:
    """InputError (exit 3) naming each ``-r``/``-c`` line of the plan's pip targets whose file lies outside
    the project's tree and the ``--allow-include`` directories; none of those files is opened."""
    if the_plan.spec.pip is None:
        return
    from lockgen.pypi.requirements import outside_includes  # only with a pip section: keeps check light

    options = the_plan.options
    problems: dict[Problem, None] = {}
    distinct = dict.fromkeys(the_plan.spec.pip_entries(p.platform) for p in the_plan.platforms)  # one walk each
    for entries in distinct:
        for where, written, resolved in outside_includes(entries, options.allow_includes):
            problems[Problem(_why(written, resolved, options.withheld_includes), where.file, where.line)] = None
    if problems:
        raise InputError(list(problems))


def _why(written: str, resolved: Path, withheld: tuple[tuple[Path, str], ...]) -> str:
    """Why ``written`` (``-r FILE``) is not read, and the command-line option that would read it."""
    for folder, origin in withheld:
        if resolved.is_relative_to(folder.resolve()):
            return (
                f"{written}: outside the project; {origin}: [tool.lockgen] allow-includes lists {folder}, which"
                " only `lockgen lock` honours: a check reads outside the project only from the directories its"
                " own command line allows, as a pull request can change pyproject.toml. Nothing was read there;"
                f" if you trust that folder, run the check with --allow-include {folder}"
            )
    return (
        f"{written}: outside the project; a check reads requirement files only from the project's tree and"
        " the directories given with --allow-include. Nothing was read there; if you trust that folder, run"
        f" the check with --allow-include {resolved.parent}"
    )
