"""environment.yml files → one :class:`~lockgen.spec.model.EnvSpec`.

Reads each file (its size limit first), refuses the formats conda-lock or pixi read that lockgen does
not (:func:`other_format`), parses each text (:mod:`lockgen.spec.document`, or the memo of the same
text, :mod:`lockgen.spec.memo`), and reports every problem of every file at once. Several files merge
in order (:func:`merge_specs`: a later file wins for the same package). This module imports no YAML
parser: an unchanged file whose memo is kept is read without one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from lockgen.errors import InputError, Problem
from lockgen.filesize import SizeLimit
from lockgen.spec.model import LEADING_NAME, CondaDependency, EnvSpec, Location, PipEntry

__all__ = ["load_env_specs", "merge_specs", "other_format", "pip_key"]


_OTHER_SOURCES = 'docs/from-conda-lock.md, "Other sources"'


def other_format(path: Path, text: str) -> str | None:
    """Why a file conda-lock (or pixi) reads is not an environment file lockgen reads, with the way to
    move; None for a file that may be one (lockgen reads conda environment files only)."""
    name = path.name.lower()
    reads = "lockgen reads conda environment files (`channels:`, `dependencies:`, `pip:`) only"
    if name == "pixi.toml" or (name.endswith(".toml") and "[workspace]" in text and "pixi" in text):
        return (
            f"a pixi manifest, not an environment file: {reads}; write one with"
            f" `pixi project export conda-environment environment.yml` and lock that ({_OTHER_SOURCES})"
        )
    if name.endswith(".toml"):
        found = [k for k in ("[tool.conda-lock", "[tool.poetry", "[project]") if k in text]
        shown = f" (it has {', '.join(k.rstrip(']') + ']' for k in found)})" if found else ""
        return (
            f"a TOML file{shown}, not an environment file: {reads}. conda-lock's pyproject.toml sources"
            " (poetry, PEP 621 `[project] dependencies`, `[tool.conda-lock]`) are not read: list the conda"
            f" packages (and a `pip:` section) in an environment.yml and lock that ({_OTHER_SOURCES});"
            " lockgen's own settings go in `[tool.lockgen]`"
        )
    jinja = ("{%" in text or "{{" in text) and "package:" in text and "requirements:" in text
    if name in ("meta.yaml", "meta.yml", "recipe.yaml") or jinja:
        return (
            f"a conda-build recipe, not an environment file: {reads}; list the recipe's run requirements"
            f" under `dependencies:` of an environment.yml and lock that ({_OTHER_SOURCES})"
        )
    return None


def load_env_specs(
    paths: Sequence[Path | str], limit: SizeLimit | None = None, memo_dir: Path | None = None
) -> EnvSpec:
    """Read and merge environment files in order; later files win for the same package name. A file
    over ``limit`` (``LockOptions.limits.input_files``) is a problem, unread. ``memo_dir``: where the
    memos of parsed texts are (:mod:`lockgen.spec.memo`; never in the project); None: parse each."""
    if not paths:
        raise InputError([Problem("no environment file given")])
    problems: list[Problem] = []
    specs: list[EnvSpec] = []
    for raw in paths:
        path = Path(raw)
        shown = str(raw)
        try:
            too_large = limit.problem(path) if limit is not None else None
            if too_large:
                problems.append(Problem(too_large, shown))
                continue
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            problems.append(Problem("no such file", shown))
            continue
        except IsADirectoryError:
            problems.append(Problem("is a directory, not an environment file", shown))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(f"cannot read: {exc}", shown))
            continue
        other = other_format(path, text)
        if other is not None:
            problems.append(Problem(other, shown))
            continue
        try:
            specs.append(_parse(text, shown, memo_dir))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return merge_specs(specs)


def _parse(text: str, shown: str, memo_dir: Path | None) -> EnvSpec:
    """The file's EnvSpec: its memo's, else parsed now (and kept, when it parsed without a problem)."""
    if memo_dir is not None:
        from lockgen.spec.memo import load

        spec = load(memo_dir, shown, text)
        if spec is not None:
            return spec
    from lockgen.spec.document import parse_env_text  # PyYAML: only for a text no memo holds

    spec = parse_env_text(text, shown)
    if memo_dir is not None:
        from lockgen.spec.memo import store

        store(memo_dir, shown, text, spec)
    return spec


def merge_specs(specs: Iterable[EnvSpec]) -> EnvSpec:
    specs = list(specs)
    if len(specs) == 1:
        return specs[0]
    name: str | None = None
    channels: list[str] = []
    nodefaults = False
    deps: dict[str, CondaDependency] = {}
    pip: dict[str, PipEntry] | None = None
    platforms: tuple[str, ...] | None = None
    notes: list[Problem] = []
    locations: dict[str, Location] = {}
    for spec in specs:
        name = spec.name or name
        for channel, where in spec.channel_locations:
            locations.setdefault(channel, where)
        channels += [c for c in spec.channels if c not in channels]
        nodefaults = nodefaults or spec.nodefaults
        for dep in spec.dependencies:
            earlier = deps.pop(dep.name, None)  # later wins, and moves to the end
            if earlier is not None and earlier.location.file != dep.location.file and earlier.spec != dep.spec:
                notes.append(_override_note(earlier.spec, earlier.location, dep.spec, dep.location))
            deps[dep.name] = dep
        if spec.pip is not None:
            pip = {} if pip is None else pip
            for entry in spec.pip:
                key = pip_key(entry.text)
                old = pip.pop(key, None)
                if old is not None and old.location.file != entry.location.file and old.text != entry.text:
                    notes.append(_override_note(old.text, old.location, entry.text, entry.location, "pip "))
                pip[key] = entry
        platforms = spec.platforms if spec.platforms is not None else platforms
        notes += spec.notes
    return EnvSpec(
        files=tuple(f for s in specs for f in s.files),
        name=name,
        channels=tuple(channels),
        nodefaults=nodefaults,
        dependencies=tuple(deps.values()),
        pip=tuple(pip.values()) if pip is not None else None,
        platforms=platforms,
        notes=tuple(notes),
        channel_locations=tuple(locations.items()),
    )


def _override_note(old: str, old_at: Location, new: str, new_at: Location, kind: str = "") -> Problem:
    message = f"{kind}`{new}` replaces `{old}` from {old_at} (a later -f file wins for the same package)"
    return Problem(message, new_at.file, new_at.line, "note")


def pip_key(text: str) -> str:
    """The name a pip line is merged by: a later file's line for the same package replaces it."""
    match = re.match(LEADING_NAME, text)
    if text.startswith("-") or "://" in text or match is None:
        return text
    return _SEPARATORS.sub("-", match.group("name")).lower()


_SEPARATORS = re.compile(r"[-_.]+")
