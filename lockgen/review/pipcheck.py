"""``check`` of ``requirements.txt``: written by lockgen for the current pip lines and target
platforms, its body exactly what lockgen writes (no network: the pip lock's full input hash needs
the conda solution and the name mapping, so the ``pip=`` digest, the platforms and the body are
judged)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.errors import InputError
from lockgen.lockfiles import GENERATED_PREFIX, first_difference
from lockgen.lockfiles.lockdir import LINKED_FILE
from lockgen.lockfiles.requirements import RequirementsLock, body_digest, parse_requirements_lock, render_body
from lockgen.plan import LockPlan, pip_request
from lockgen.records import dataclass
from lockgen.review.pinscheck import DirectRequirements, direct_requirements, pin_problems
from lockgen.review.stale import PIP_TARGET, Stale

if TYPE_CHECKING:
    from lockgen.plan import PipRequest
    from lockgen.pypi.pipinput import PipInput
    from lockgen.spec.model import PipEntry

__all__ = ["PipExpectation", "check_pip_lock", "expected_pip", "read_pip_inputs"]


@dataclass(frozen=True, slots=True)
class PipExpectation:
    """What check can re-derive about requirements.txt without the network."""

    digest: str
    """``pip=`` on the input-hash line: the pip lines and every file they include."""
    options: tuple[str, ...] | None
    """The options lines lockgen writes for this pip section (None when the section cannot be read)."""
    direct: DirectRequirements | None = None
    """What the pins must cover (None when the pip section cannot be read: its problem is reported)."""
    request: PipRequest | None = None
    """What the digest was made from: only when it differs from the lock's are its lines read again, to
    name the pip lines that changed (:func:`_pip_line_changes`); an up-to-date check never needs them."""

    def lines(self) -> tuple[str, ...]:
        """What the pip lock is made from now, readable (see :func:`lockgen.pypi.digests.pip_source_lines`)."""
        if self.request is None:
            return ()
        from lockgen.pypi.digests import pip_source_lines

        return pip_source_lines(self.request)

    def where(self) -> dict[str, str]:
        """A pip line's text → its ``file:line``."""
        entries = [e for p in self.request.platforms for e in p.entries] if self.request is not None else []
        return {e.text.strip(): str(e.location) for e in entries}


def read_pip_inputs(pip_targets: LockPlan) -> dict[str, PipInput] | None:
    """Each target platform's pip lines (and the files they include) read once per distinct list: the
    platforms of a section without selectors share one reading (was one per platform, for the options
    and again for requirements-unhashed.txt). None when a line or file cannot be read: the ``pip=``
    digest covers that problem and the check reports the section as changed."""
    from lockgen.pypi.requirements import parse_pip_entries

    allowed = pip_targets.options.allow_includes
    entries = {p.platform: pip_targets.spec.pip_entries(p.platform) for p in pip_targets.platforms}
    read: dict[tuple[PipEntry, ...], PipInput] = {}
    try:
        for lines in entries.values():
            if lines not in read:
                read[lines] = parse_pip_entries(lines, allowed)
    except InputError:
        return None
    return {platform: read[lines] for platform, lines in entries.items()}


def expected_pip(pip_targets: LockPlan, inputs: Mapping[str, PipInput] | None = None) -> PipExpectation:
    """``inputs``: :func:`read_pip_inputs` of ``pip_targets`` (read here when not given)."""
    from lockgen.pypi.digests import pip_sources_digest
    from lockgen.pypi.header import option_lines

    direct = None
    options: tuple[str, ...] | None = None
    inputs = read_pip_inputs(pip_targets) if inputs is None else inputs
    if inputs is not None:
        read = [inputs[p.platform] for p in pip_targets.platforms]
        wanted = [(p.platform, i.requirements) for p, i in zip(pip_targets.platforms, read, strict=True)]
        try:
            options, direct = option_lines(read), direct_requirements(pip_targets, wanted)
        except InputError:
            options, direct = None, None
    request = pip_request(pip_targets)
    return PipExpectation(pip_sources_digest(request), options, direct, request)


def check_pip_lock(
    has_pip_section: bool,
    path: Path,
    platforms: tuple[str, ...] = (),
    expected: PipExpectation | str | None = None,
) -> list[Stale]:
    """The pip lock exists exactly when the environment has a ``pip:`` section, was written by
    lockgen for the current pip lines and target platforms, and its body is exactly what lockgen
    writes: the ``body=`` digest matches, pins are in lockgen's form and order, and the options
    lines are those the pip section asks for (``expected.options``).

    The pip lock's full input hash needs the conda solution and the name mapping (maybe the
    network), so this judges the ``pip=`` digest, the platforms and the body; ``expected`` may be
    a bare ``pip=`` digest.
    """
    exists = path.is_file()
    if has_pip_section and not exists:
        return [Stale(PIP_TARGET, path.name, "missing", f"{path} is missing but the environment has a pip: section")]
    if not has_pip_section and exists:
        return [Stale(PIP_TARGET, path.name, "extra", f"{path} exists but the environment has no pip: section")]
    if not exists:
        return []
    if path.is_symlink():
        return [Stale(PIP_TARGET, path.name, "malformed", f"{path} {LINKED_FILE}")]
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Stale(PIP_TARGET, path.name, "malformed", f"{path} is unreadable: {exc}")]
    if isinstance(expected, str):
        expected = PipExpectation(expected, None)
    return _pip_header_problems(path, text, platforms, expected)


def _pip_header_problems(
    path: Path, text: str, platforms: tuple[str, ...], expected: PipExpectation | None
) -> list[Stale]:
    def stale(reason: str, detail: str) -> list[Stale]:
        return [Stale(PIP_TARGET, path.name, reason, detail)]

    lock = parse_requirements_lock(text)
    if not lock.generated:
        return stale("malformed", f"{path} was not written by lockgen (no `{GENERATED_PREFIX}` first line)")
    if lock.input_hash is None or not lock.input_hash.startswith("sha256:"):
        return stale("malformed", f"{path} has no `# input-hash:` line")
    tokens = dict(lock.parts)
    if "body" not in tokens:
        detail = f"{path} has no body= digest on its input-hash line (written by an older lockgen, or edited)"
        return stale("inputs", detail)
    changed = _pip_inputs_changed(path, lock, platforms, expected)
    if changed:
        return changed
    if tokens["body"] != body_digest(lock.body):
        return stale("hand-edited", f"{path}: the lines after the header were edited after lockgen wrote them")
    return _pip_body_problems(path, lock, expected)


def _pip_inputs_changed(
    path: Path, lock: RequirementsLock, platforms: tuple[str, ...], expected: PipExpectation | None
) -> list[Stale]:
    """The target platforms first (re-locking a subset with -p is not a pip change), then the pip lines."""
    was = lock.platforms
    if was is not None and platforms and sorted(was) != sorted(platforms):
        detail = f"platforms changed: {path} was resolved for {', '.join(was)}; targets are {', '.join(platforms)}"
        return [Stale(PIP_TARGET, path.name, "platforms", detail)]
    if expected is not None and dict(lock.parts).get("pip") != expected.digest:
        named = _pip_line_changes(lock.pip_lines, expected) if lock.pip_lines is not None else None
        detail = named or f"spec changed: the pip: section (or a file it includes) changed since {path} was written"
        return [Stale(PIP_TARGET, path.name, "specs", detail)]
    return []


# A pattern, compiled when first used (re's cache): an up-to-date check or no-op lock never uses it.
_DIGEST_TAIL = r" (?:metadata )?[0-9a-f]{12}$"


def _pip_key(line: str) -> str:
    """What pairs an old pip line with its edited form: the requirement's name, an included file's
    path, a local project's line (without their digests)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    if re.search(_DIGEST_TAIL, line):
        return re.sub(_DIGEST_TAIL, "", line)
    try:
        return canonicalize_name(Requirement(line.split(" #", 1)[0].strip()).name)
    except InvalidRequirement:
        return line


def _pip_line_changes(before: tuple[str, ...], expected: PipExpectation) -> str | None:
    """``spec changed: `rich>=13` became `rich>=14` (environment.yml:12); ...`` from the lock's
    ``# pip-lines:`` and now (None when they are the same: what changed is not recorded there)."""
    where = expected.where()
    now = expected.lines()
    removed = [line for line in before if line not in now]
    changes = []
    for line in now:
        if line in before:
            continue
        if line.startswith("problem: "):  # a line lock refuses (digested so the section reads as changed)
            changes.append(f"`lockgen lock` refuses a pip line: {line.removeprefix('problem: ')}")
            continue
        key = _pip_key(line)
        old = next((r for r in removed if _pip_key(r) == key), None)
        place = where.get(line) or where.get(key)
        place = place or next((w for text, w in where.items() if text.endswith(f" {key}")), None)
        at = f" ({place})" if place else ""
        if old is not None:
            removed.remove(old)
            if re.search(_DIGEST_TAIL, line):
                what = "its dependency metadata" if " metadata " in line else "its contents"
                changes.append(f"`{key}`: {what} changed{at}")
            else:
                changes.append(f"`{old}` became `{line}`{at}")
        else:
            changes.append(f"`{line}` added{at}")
    changes += [f"`{line}` removed" for line in removed]
    return "spec changed: " + "; ".join(changes) if changes else None


def _pip_body_problems(path: Path, lock: RequirementsLock, expected: PipExpectation | None) -> list[Stale]:
    """Re-derive the body from its own pins and the expected options: any other byte was added by hand."""
    body = lock.body
    written = lock.option_lines()
    options = expected.options if expected is not None and expected.options is not None else None
    if options is not None:
        extra = [line for line in written if line not in options]
        if extra:
            detail = f"{path}: options line `{extra[0]}` is not one the pip: section asks for (added by hand?)"
            return [Stale(PIP_TARGET, path.name, "hand-edited", detail)]
    canonical = render_body(options if options is not None else tuple(written), lock.pins())
    if body != canonical:
        line = first_difference(body, canonical)
        detail = f"{path}: body line {line} is not as lockgen writes it (a line, option or hash edited by hand)"
        return [Stale(PIP_TARGET, path.name, "hand-edited", detail)]
    if expected is not None and expected.direct is not None:
        return pin_problems(path, lock, expected.direct)
    return []
