"""The conda stage: solve each platform's request with py-rattler (:mod:`~lockgen.conda.solve`),
explain a failure in words (:mod:`~lockgen.conda.diagnose`), and answer whether a package satisfies
a spec (:mod:`~lockgen.conda.match`). The only place that talks to rattler's solver: it takes and
returns lockgen's own dataclasses, so the rest of the code does not follow rattler's API churn.

Importing it does not import rattler: ``check`` and a no-op ``lock`` import it and never solve.
"""

from lockgen.conda.match import spec_matches, version_lower
from lockgen.conda.solve import CondaSolver, PinnedOffers, RattlerSolver
from lockgen.config import MEMORY_ENV
from lockgen.repodata.failures import fetch_failure, offline_miss
from lockgen.repodata.gateway import DEFAULT_RETRIES, DEFAULT_TIMEOUT_S, RETRIES_ENV, TIMEOUT_ENV
from lockgen.solverequest import SolveRequest

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT_S",
    "MEMORY_ENV",
    "RETRIES_ENV",
    "TIMEOUT_ENV",
    "CondaSolver",
    "PinnedOffers",
    "RattlerSolver",
    "SolveRequest",
    "fetch_failure",
    "offline_miss",
    "spec_matches",
    "version_lower",
]
