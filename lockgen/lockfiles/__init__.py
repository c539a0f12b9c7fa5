"""Lock file formats: each has one reader and one writer here, and no stage module is imported.

- :mod:`~lockgen.lockfiles.explicit`: the ``@EXPLICIT`` lock of one platform.
- :mod:`~lockgen.lockfiles.requirements`: the pip lock ``requirements.txt``.
- :mod:`~lockgen.lockfiles.unhashed`: ``requirements-unhashed.txt`` (VCS URLs and local projects).
- :mod:`~lockgen.lockfiles.condalock`: conda-lock's ``conda-lock.yml`` (v1).
- :mod:`~lockgen.lockfiles.header`: the generated marker, the input-hash line, the JSON digest.
- :mod:`~lockgen.lockfiles.commit`: writing a set of files all or nothing (journal, recovery).

The explicit format and the header are re-exported here: most callers need only those. The commit's
names are imported from :mod:`~lockgen.lockfiles.commit` itself, so a command that writes nothing
(``check``, ``diff``) never loads the writer.
"""

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
    "ExplicitEntry",
    "ExplicitLock",
    "MalformedLock",
    "canonical_explicit",
    "first_difference",
    "form_problem",
    "is_generated",
    "json_sha256",
    "packages_digest",
    "parse_explicit",
    "read_explicit",
    "render_explicit",
    "short_digest",
]
