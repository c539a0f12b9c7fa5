"""``lockgen diff`` over several environments: one result per environment, rendered as one report.

Each environment's locks (``<output-dir>/<name>/``) are compared exactly as a single environment's
are (:func:`lockgen.review.diff.diff_locks`); this module only puts the results together: a
headline naming what changed where (``cpu: 1 of 3 locks changed: 2 upgraded; gpu: ...``), then one
section per environment, so a pull request gets one comment for all of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from lockgen.records import dataclass
from lockgen.review.diff import DiffResult
from lockgen.review.render import DIFF_JSON_FORMAT, _headline, render

__all__ = ["EnvironmentsDiff", "render_environments"]


@dataclass(frozen=True, slots=True)
class EnvironmentsDiff:
    base: str
    head: str
    environments: tuple[tuple[str, DiffResult], ...]

    @property
    def changed(self) -> bool:
        return any(result.changed for _, result in self.environments)

    def headline(self) -> str:
        changed = [f"{name}: {_headline(r)}" for name, r in self.environments if r.changed]
        same = [name for name, r in self.environments if not r.changed]
        if not changed:
            return f"no changes in {', '.join(same)}"
        return "; ".join(changed) + (f" ({', '.join(same)} unchanged)" if same else "")


def _section(body: str, first: int) -> list[str]:
    """A single environment's report without its own title (its first ``first`` lines), headings one level down."""
    lines = body.rstrip("\n").split("\n")[first:]
    return ["#" + line if line.startswith("#### ") else line for line in lines]


def render_environments(result: EnvironmentsDiff, fmt: str, verbose: bool = False) -> str:
    if fmt == "json":
        data = {
            "format": DIFF_JSON_FORMAT,
            "base": result.base,
            "head": result.head,
            "changed": result.changed,
            "headline": result.headline(),
            "environments": {name: json.loads(render(r, "json")) for name, r in result.environments},
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        lines: list[str] = [f"### Lock changes: `{result.base}` → `{result.head}`", "", f"**{result.headline()}**"]
        for name, r in result.environments:
            lines += ["", f"#### Environment `{name}`", ""]
            lines += _section(render(r, "markdown", verbose=verbose), 2) if r.changed else [f"no changes ({_count(r)})"]
        return "\n".join(lines) + "\n"
    lines = [f"lockgen diff {result.base} → {result.head}: {result.headline()}"]
    for name, r in result.environments:
        lines += ["", f"[{name}]", *_section(render(r, "text", verbose=verbose), 1)]
    return "\n".join(lines) + "\n"


def _count(result: DiffResult) -> str:
    return ", ".join(t.summary for t in result.targets) or "no locks"


def environments_diff(base: str, head: str, results: Sequence[tuple[str, DiffResult]]) -> EnvironmentsDiff:
    return EnvironmentsDiff(base, head, tuple(results))
