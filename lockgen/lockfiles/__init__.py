"""Lock file formats: each has one reader and one writer here, and no stage module is imported.

- :mod:`~lockgen.lockfiles.explicit`: the ``@EXPLICIT`` lock of one platform.
- :mod:`~lockgen.lockfiles.requirements`: the pip lock ``requirements.txt``.
- :mod:`~lockgen.lockfiles.unhashed`: ``requirements-unhashed.txt`` (VCS URLs and local projects).
- :mod:`~lockgen.lockfiles.condalock`: conda-lock's ``conda-lock.yml`` (v1).
- :mod:`~lockgen.lockfiles.header`: the generated marker, the input-hash line, the JSON digest.
- :mod:`~lockgen.lockfiles.commit`: writing a set of files all or nothing (journal, recovery).

The explicit format and the commit are re-exported here: most callers need only those.
"""

from lockgen.lockfiles.commit import (
    TXN_DIR,
    CommitResult,
    JournalError,
    commit_files,
    journal_manifest,
    output_lock,
    recover,
    stray_journal,
)
from lockgen.lockfiles.explicit import (
    ExplicitEntry,
    ExplicitLock,
    MalformedLock,
    canonical_explicit,
    first_difference,
    form_problem,
    packages_digest,
    parse_explicit,
    read_explicit,
    render_explicit,
)
from lockgen.lockfiles.header import GENERATED_PREFIX, is_generated, json_sha256, short_digest

__all__ = [
    "GENERATED_PREFIX",
    "TXN_DIR",
    "CommitResult",
    "ExplicitEntry",
    "ExplicitLock",
    "JournalError",
    "MalformedLock",
    "canonical_explicit",
    "commit_files",
    "first_difference",
    "form_problem",
    "is_generated",
    "journal_manifest",
    "json_sha256",
    "output_lock",
    "packages_digest",
    "parse_explicit",
    "read_explicit",
    "recover",
    "render_explicit",
    "short_digest",
    "stray_journal",
]
