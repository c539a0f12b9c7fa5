"""The pip lock's input hash and the digests it is made of, computable with no network or solve (``check``
and a no-op ``lock`` import this module, not the resolving ones).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lockgen.lockfiles.header import json_sha256, short_digest
from lockgen.lockfiles.requirements import local_project_of, project_digest
from lockgen.pypi.requirements import sources_digest_lines
from lockgen.secrets import redact
from lockgen.spec.model import PipEntry

if TYPE_CHECKING:
    from pathlib import Path

    from lockgen.plan import PipRequest
    from lockgen.pypi.inputs import Conda, PlatformInputs
    from lockgen.pypi.mapping import PypiMapping


PIP_LOCK_FORMAT = 3
"""2: ``body=`` digest on the input-hash line; the pip digest follows nested -r/-c files.
3: sdists allowed (their metadata built), VCS/local lines in requirements-unhashed.txt, ``# via`` lines."""


def mapping_digest(conda: Conda, mapping: PypiMapping) -> tuple[str, int]:
    """A digest of what the mapping says for every conda package locked (any platform), and their count.

    Not the mapping's source nor its whole content: the download, a file and lockgen's snapshot give
    the same digest, and the same requirements.txt, whenever they agree on these packages.
    """
    names = [name for pairs in conda.values() for name, _ in pairs]
    answers = mapping.answers(names)
    return short_digest({k: list(v) for k, v in answers.items()}), len(answers)


def pip_sources_digest(request: PipRequest) -> str:
    """A short hash of what the pip lock was asked for, computable with no network or solve.

    Covers the distinct pip line lists of the target platforms (after selectors), every file they
    include with ``-r``/``-c`` (nested ones too: :func:`sources_digest_lines` follows them as
    ``lock`` reads them), and ``--exclude-newer``. Not the set of platforms: ``# platforms:``
    records that, so re-locking a subset (``-p``) does not look like an edited pip section.
    Written as ``pip=<hash>`` on requirements.txt's input-hash line for ``lockgen check``.
    """
    base = request.base_dir

    def lines(entries: Sequence[PipEntry]) -> list[str]:
        # a local project's metadata files: an edited pyproject.toml changes what is locked
        projects = [local_project_of(e.text, base) for e in entries]
        included = sources_digest_lines(entries, request.allow_includes)
        return [*included, *(_metadata_digest(p, base) for p in projects if p is not None)]

    distinct = {json.dumps(lines(entries)) for entries in {p.entries: None for p in request.platforms}}
    payload = {"exclude-newer": str(request.exclude_newer), "lines": sorted(distinct)}
    return short_digest(payload)


def _metadata_digest(project: Path, base: Path) -> str:
    """:func:`project_digest` of a local project inside ``base`` (the environment file's folder); a
    folder outside it (a committed link, ``../x``) is never read: ``lock`` refuses the line anyway."""
    home = base.resolve()
    return project_digest(project) if project == home or home in project.parents else "(outside)"


def pip_source_lines(request: PipRequest) -> tuple[str, ...]:
    """What :func:`pip_sources_digest` covers, as people read it (credentials masked): every platform's pip
    lines (each once, in order), each file they include with its digest, each local project's metadata
    digest. Written as ``# pip-lines:``, so ``check`` can name what changed."""
    base = request.base_dir
    found: dict[str, None] = {}
    for entries in dict.fromkeys(p.entries for p in request.platforms):  # platforms without selectors: one walk
        lines = sources_digest_lines(entries, request.allow_includes)
        for number, line in enumerate(lines):
            included = number >= len(entries) and re.fullmatch(r".* [0-9a-f]{64}", line)
            # an included file: 12 hex digits of its sha256 tell an edit
            found[redact(line[:-52] if included else line)] = None
        for entry in entries:
            project = local_project_of(entry.text, base)
            if project is not None:
                found[f"{entry.text.strip()} metadata {_metadata_digest(project, base)[:12]}"] = None
    return tuple(found)


def pip_input_hash(request: PipRequest, platforms: Sequence[PlatformInputs], mapping_digest: str) -> str:
    exclude = request.exclude_newer
    full = json_sha256(
        {
            "format": PIP_LOCK_FORMAT,
            "exclude-newer": exclude.isoformat() if exclude else None,
            # The mapping by what it answers for the conda packages locked, not by its source: a
            # change there is an input change like any other; a different source giving the same
            # answers is not.
            "mapping": mapping_digest,
            "platforms": {item.platform: item.hash_payload() for item in platforms},
            **({"only-binary": True} if request.only_binary else {}),
        }
    )
    return f"{full} pip={pip_sources_digest(request)}"
