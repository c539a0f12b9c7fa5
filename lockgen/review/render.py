"""Present a :class:`~lockgen.review.diff.DiffResult` as a terminal table, Markdown or JSON.

Pure functions from a result to text; the CLI prints what they return. The formats are stable
(golden tests in tests/golden/diff/): change them deliberately, with the goldens.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from lockgen.models import build_python
from lockgen.printable import markdown_code, markdown_text
from lockgen.review.diff import KINDS, Change, DiffResult, Notable, TargetDiff
from lockgen.secrets import redact

__all__ = [
    "DIFF_JSON_FORMAT",
    "FORMATS",
    "MARKDOWN_LIMIT",
    "SCREEN_LINES",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
]

FORMATS = ("text", "markdown", "json")
DIFF_JSON_FORMAT = 1
"""The version of ``diff --format json``'s shape (docs/json.md); raised only when a field changes
meaning or goes away, never for an added field."""
_HEAD = ("package", "change", "old", "new")


def _rows(changes: Sequence[Change], mark: Callable[[Change], str]) -> list[tuple[str, str, str, str]]:
    """One row a change; ``mark`` writes the package cell (it shows whether the user named the package)."""
    return [(mark(c), c.kind, c.old_label or "-", c.new_label or "-") for c in changes]


def _direct_shown(result: DiffResult, verbose: bool) -> bool:
    """Whether any listed change is of a package the environment file names."""
    shown = [t for t in result.targets if verbose or not _whole(t)]
    return any(result.is_direct(t.target, c) for t in shown for c in t.changes)


def _files(result: DiffResult) -> str:
    return ", ".join(result.direct.files) or "the environment file"


def _whole(target: TargetDiff) -> bool:
    """A lock added or removed whole: its summary line says it; its rows only under ``-v`` (and in JSON)."""
    return target.status in ("added", "removed")


def _row_totals(result: DiffResult) -> dict[str, int]:
    """:meth:`DiffResult.totals` less the rows of locks added or removed whole (named once instead)."""
    totals = result.totals()
    for target in result.targets:
        if _whole(target):
            for change in target.changes:
                totals[change.kind] -= 1
    return totals


FOLD_REBUILDS = 5
"""From this many rows of rebuilds of the same version with another build (a python bump rebuilds most
packages), they are counted on a line each cause rather than listed (``-v`` lists them)."""


def _folds(result: DiffResult, verbose: bool) -> bool:
    rows = sum(1 for t in result.targets if not _whole(t) for c in t.changes if c.build_only)
    return not verbose and rows >= FOLD_REBUILDS


def _listed(result: DiffResult, changes: Sequence[Change], verbose: bool) -> tuple[Change, ...]:
    """The rows a table shows: rebuilds of the same version (another build) not when they are counted."""
    return tuple(c for c in changes if not c.build_only) if _folds(result, verbose) else tuple(changes)


def _notable(result: DiffResult, verbose: bool) -> tuple[Notable, ...]:
    """The list under the headline: a named package rebuilt at the same version is in the rebuild count."""
    found = result.notable()
    if not _folds(result, verbose):
        return found
    counted = {c.key for t in result.targets for c in t.changes if c.build_only}
    return tuple(n for n in found if (n.name, n.kind, n.old, n.new) not in counted)


def _rebuild_lines(result: DiffResult, verbose: bool) -> list[str]:
    """``32 packages rebuilt for python 3.12 (same versions) on linux-64, osx-64, win-64``: the rebuilds
    of the same version with another build, counted (one line per cause), not listed."""
    if not _folds(result, verbose):
        return []
    groups: dict[str, tuple[set[str], list[str]]] = {}
    for target in result.targets:
        if _whole(target):
            continue
        for change in target.changes:
            if not change.build_only or change.old is None or change.new is None:
                continue
            old, new = build_python(change.old.build), build_python(change.new.build)
            cause = f" for python {new}" if new and old != new else ""
            names, where = groups.setdefault(cause, (set(), []))
            names.add(change.name)
            if target.target not in where:
                where.append(target.target)
    return [
        f"{len(names)} package{'s' if len(names) != 1 else ''} rebuilt{cause} (same versions) on {', '.join(where)}"
        for cause, (names, where) in sorted(groups.items(), key=lambda item: -len(item[1][0]))
    ]


def _headline(result: DiffResult) -> str:
    changed = [t.target for t in result.targets if t.status != "unchanged"]
    if not changed:
        return "no package changed; see the warnings" if result.moved else "no changes"
    parts = [", ".join(f"{n} {kind}" for kind, n in _row_totals(result).items() if n)]
    for status, one, several in (("added", "new lock", "new locks"), ("removed", "lock removed", "locks removed")):
        names = [t.target for t in result.targets if t.status == status]
        if names:
            parts.append(f"{one if len(names) == 1 else several} {', '.join(names)}")
    return f"{len(changed)} of {len(result.targets)} locks changed: {'; '.join(p for p in parts if p)}"


def _whole_hint(result: DiffResult, verbose: bool) -> str | None:
    """Where the rows of a lock added or removed whole are, when they are not shown."""
    if verbose or not any(_whole(t) and t.changes for t in result.targets):
        return None
    return "the packages of a lock added or removed whole: `lockgen diff -v`, or `--format json`"


def _table(changes: Sequence[Change], mark: Callable[[Change], str], indent: str = "  ") -> list[str]:
    rows = [_HEAD, *_rows(changes, mark)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(3)]
        lines.append((indent + "  ".join([*cells, row[3]])).rstrip())
    return lines


def render_text(result: DiffResult, limit: int | None = None, verbose: bool = False) -> str:
    """The terminal table: headline, one summary line per lock, then the changes; longer than ``limit``
    characters, cut as :func:`render_markdown` cuts a comment. A lock added or removed whole is its
    summary line; ``verbose``: its rows too."""
    text = _fit(result, limit, lambda brief, notable: _text(result, brief, limit, notable, verbose=verbose), verbose)
    if verbose or text.count("\n") <= SCREEN_LINES:
        return text
    short = _text(result, set(), None, None, verbose=verbose, screen=True)
    return short if limit is None or len(short) <= limit else text


SCREEN_LINES = 40
"""Text longer than this many lines leaves out its tables (``-v`` shows them): the headline, what
matters and the summaries fit a terminal."""


def _text(
    result: DiffResult,
    brief: set[str],
    limit: int | None,
    notable_shown: int | None = None,
    *,
    verbose: bool = False,
    screen: bool = False,
) -> str:
    lines = [f"lockgen diff {result.base} → {result.head}: {_headline(result)}"]
    lines += [f"  warning: {note}" for note in result.moved]
    if brief:
        lines.append(f"  (summarised to fit {limit:,} characters; `lockgen diff --max-chars 0` shows every row)")
    notable = _notable(result, verbose)
    for n in notable[:notable_shown]:
        lines.append(f"  {n.name}{'*' if n.direct else ''} {n.kind} {n.versions} {n.where}")
    if notable_shown is not None and notable_shown < len(notable):
        lines.append(f"  … and {len(notable) - notable_shown} more")
    rebuilt = _rebuild_lines(result, verbose)
    lines += [f"  {line}" for line in rebuilt]
    if notable or rebuilt:
        lines.append("")
    for answer in result.why:
        lines += [f"  {line}" for line in answer] + [""]
    lines += [f"  {t.summary}" for t in result.targets]
    if _direct_shown(result, verbose):
        lines.append(f"  (* named in {_files(result)}; the other packages are dependencies)")
    hint = _whole_hint(result, verbose)
    if hint:
        lines.append(f"  ({hint})")
    if _rebuild_lines(result, verbose):
        lines.append("  (the packages rebuilt at the same version: `lockgen diff -v`, or `--format json`)")

    def marker(target: str) -> Callable[[Change], str]:
        return lambda c: f"{c.name}*" if result.is_direct(target, c) else c.name

    def table(name: str, changes: Sequence[Change], target: str) -> list[str]:
        return [f"  {len(changes)} rows left out"] if name in brief else _table(changes, marker(target))

    shared = _listed(result, result.common, verbose)
    if screen:
        rows = len(shared) + sum(
            len(_listed(result, result.own_changes(t), verbose)) for t in result.targets if not _whole(t)
        )
        lines.append(f"  (the tables of {rows} rows are left out to fit a screen: `lockgen diff -v` shows every row)")
        return "\n".join(lines) + "\n"
    if shared:
        common = table("common", shared, result.common_platforms[0])
        lines += ["", f"every platform ({', '.join(result.common_platforms)}):", *common]
    for target in result.targets:
        own = _listed(result, result.own_changes(target), verbose)
        if own and (verbose or not _whole(target)):
            lines += ["", f"{target.target}:", *table(target.target, own, target.target)]
    return "\n".join(lines) + "\n"


def _md_why(answer: Sequence[str]) -> list[str]:
    """A "why not newer" answer as a list: its first line in bold, then each indented line a level deeper."""
    head, *rest = answer
    lines = [f"**{_md_spans(head[0].upper() + head[1:])}**", ""]
    for line in rest:
        depth = (len(line) - len(line.lstrip(" "))) // 2 - 1
        lines.append(f"{'  ' * max(depth, 0)}- {_md_spans(line.strip())}")
    return [*lines, ""]


def _md_spans(line: str) -> str:
    """A line whose `...` parts are specs: those as code spans, the rest as literal text (both escaped,
    whatever a spec from the environment file holds)."""
    parts = line.split("`")
    return "".join(markdown_code(part) if i % 2 else markdown_text(part) for i, part in enumerate(parts))


def _md_cell(text: str) -> str:
    """A table cell of text from a lock: nothing in it can become a link, an image, a tag or a code span."""
    return markdown_text(text) or "-"


def _md_table(result: DiffResult, target: str, changes: Sequence[Change]) -> list[str]:
    lines = ["| " + " | ".join(_HEAD) + " |", "|---|---|---|---|"]

    def mark(change: Change) -> str:
        code = markdown_code(change.name)
        return f"**{code}**" if result.is_direct(target, change) else code

    for name, kind, old, new in _rows(changes, mark):
        lines.append(f"| {name} | {kind} | {_md_cell(old)} | {_md_cell(new)} |")
    return lines


MARKDOWN_LIMIT = 60_000
"""Default largest ``--format markdown`` output, in characters: GitHub refuses comments over 65,536."""


def _left_out(rows: int) -> list[str]:
    return [f"_{rows} rows left out to fit the comment; run `lockgen diff` for them._"]


def _md_target(result: DiffResult, target: TargetDiff, brief: bool = False, verbose: bool = False) -> list[str]:
    """A collapsible section with the lock's own changes; none when they were all common (listed above).
    ``brief``: the summary without the table (to fit a size limit)."""
    own = _listed(result, result.own_changes(target), verbose)
    if not own:
        return []
    table = _left_out(len(own)) if brief else _md_table(result, target.target, own)
    summary = f"<summary>{markdown_text(target.summary)}</summary>"
    return ["", "<details>", summary, "", *table, "", "</details>"]


def render_markdown(result: DiffResult, limit: int | None = None, verbose: bool = False) -> str:
    """A pull-request comment: headline numbers, summaries, common changes, then a collapsible section a lock
    (a lock added or removed whole: its summary line; ``verbose``: its rows too).

    Longer than ``limit`` characters: the largest tables are left out (largest first) until it fits, and the
    comment says so; then, if needed, the headline's list is cut short."""
    return _fit(
        result,
        limit,
        lambda brief, notable: _markdown(result, brief, limit if brief else None, notable, verbose),
        verbose,
    )


def _fit(
    result: DiffResult, limit: int | None, write: Callable[[set[str], int | None], str], verbose: bool = False
) -> str:
    """``write(brief, notable_shown)`` whole, or, longer than ``limit``, with the largest tables left out
    (largest first) until it fits; then, if needed, the list of notable changes cut short."""
    full = write(set(), None)
    if limit is None or len(full) <= limit:
        return full
    sections = sorted(
        [("common", len(_listed(result, result.common, verbose)))]
        + [
            (t.target, len(_listed(result, result.own_changes(t), verbose)))
            for t in result.targets
            if verbose or not _whole(t)
        ],
        key=lambda item: (-item[1], item[0]),
    )
    brief: set[str] = set()
    text = full  # nothing to leave out (no table, no notable change): as it is
    for name, rows in sections:
        if rows == 0:
            continue
        brief.add(name)
        text = write(brief, None)
        if len(text) <= limit:
            return text
    notable = len(_notable(result, verbose))
    while notable > 0:
        notable //= 2
        text = write(brief, notable)
        if len(text) <= limit:
            return text
    return text


def _markdown(
    result: DiffResult, brief: set[str], limit: int | None, notable_shown: int | None = None, verbose: bool = False
) -> str:
    base, head = markdown_code(result.base), markdown_code(result.head)
    lines = [f"### Lock changes: {base} → {head}", "", f"**{markdown_text(_headline(result))}**", ""]
    lines += [f"> **Warning**: {markdown_text(note)}\n" for note in result.moved]
    if brief:
        lines += [f"> Summarised to fit {limit:,} characters: the largest tables are left out; run"
                  f" `lockgen diff --format markdown --max-chars 0` for the whole comment.", ""]  # fmt: skip
    notable = _notable(result, verbose)
    for n in notable[:notable_shown]:
        name = f"**{markdown_code(n.name)}**" if n.direct else markdown_code(n.name)
        lines.append(f"- {name} {n.kind} {markdown_text(n.versions)} {markdown_text(n.where)}")
    if notable_shown is not None and notable_shown < len(notable):
        lines.append(f"- … and {len(notable) - notable_shown} more (run `lockgen diff` for them)")
    rebuilt = _rebuild_lines(result, verbose)
    lines += [f"- {markdown_text(line)}" for line in rebuilt]
    if notable or rebuilt:
        lines.append("")
    for answer in result.why:
        lines += _md_why(answer)
    totals = _row_totals(result)
    if result.changed and any(totals.values()):
        lines += ["| " + " | ".join(KINDS) + " |", "|" + "---|" * len(KINDS)]
        lines += ["| " + " | ".join(str(totals[k]) for k in KINDS) + " |", ""]
    lines += [f"- {markdown_text(t.summary)}" for t in result.targets]
    if _direct_shown(result, verbose):
        lines += ["", f"**Bold**: named in {markdown_text(_files(result))}; the other packages are dependencies."]
    hint = _whole_hint(result, verbose)
    if hint:
        lines += ["", "_Packages of a lock added or removed whole: `lockgen diff -v`, or `--format json`._"]
    if rebuilt:
        lines += ["", "_Packages rebuilt at the same version: `lockgen diff -v`, or `--format json`._"]
    shared = _listed(result, result.common, verbose)
    if shared:
        brief_common = "common" in brief
        common = _left_out(len(shared)) if brief_common else _md_table(result, result.common_platforms[0], shared)
        lines += ["", f"#### Every platform ({', '.join(result.common_platforms)})", "", *common]
    for target in result.targets:
        if target.status != "unchanged" and (verbose or not _whole(target)):
            lines += _md_target(result, target, target.target in brief, verbose)
    return "\n".join(lines) + "\n"


def _state(change: Change, which: str) -> dict[str, str] | None:
    state = change.old if which == "old" else change.new
    if state is None:
        return None
    return {"version": state.version, "build": state.build}


def _change_json(result: DiffResult, target: str, change: Change) -> dict[str, object]:
    return {
        "name": change.name,
        "change": change.kind,
        "old": _state(change, "old"),
        "new": _state(change, "new"),
        "direct": result.is_direct(target, change),
        **({"platforms": list(change.platforms)} if change.platforms else {}),
    }


def render_json(result: DiffResult) -> str:
    """For bots: every lock's full list of changes, plus the common ones and the totals."""
    data = {
        "format": DIFF_JSON_FORMAT,
        "base": result.base,
        "head": result.head,
        "changed": result.changed,
        **({"warnings": list(result.moved)} if result.moved else {}),
        "totals": result.totals(),
        **({"why_not_newer": [list(answer) for answer in result.why]} if result.why else {}),
        "notable": [
            {"name": n.name, "change": n.kind, "old": n.old, "new": n.new, "locks": list(n.targets), "direct": n.direct}
            for n in result.notable()
        ],
        "common": {
            "platforms": list(result.common_platforms),
            "changes": [_change_json(result, result.common_platforms[0], c) for c in result.common],
        },
        "direct": {
            "files": list(result.direct.files),
            "conda": sorted(result.direct.conda),
            "pip": sorted(result.direct.pip),
        },
        "locks": [
            {
                "target": t.target,
                "status": t.status,
                "before": t.before,
                "after": t.after,
                "summary": t.summary,
                **({"notes": list(t.notes)} if t.notes else {}),
                "changes": [_change_json(result, t.target, c) for c in t.changes],
            }
            for t in result.targets
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render(result: DiffResult, fmt: str, limit: int | None = MARKDOWN_LIMIT, verbose: bool = False) -> str:
    """``result`` as ``fmt``; markdown kept under ``limit`` characters (None or 0: no limit); ``verbose``:
    also every row of a lock added or removed whole (JSON always has them).

    Every URL's credentials (``user:password@``, ``/t/<token>/``) are masked: lockgen never writes
    them, so a lock that holds one was crafted, and a diff is posted where anyone reads it."""
    if fmt == "markdown":
        shown = render_markdown(result, limit or None, verbose)
    elif fmt == "json":
        shown = render_json(result)
    else:
        shown = render_text(result, limit or None, verbose)
    return redact(shown, keep_git_user=True)
