"""The conda stage: solve each platform's request with py-rattler (:mod:`~lockgen.conda.solve`),
explain a failure in words (:mod:`~lockgen.conda.diagnose`), and compare versions
(:mod:`~lockgen.conda.match`). The only place that talks to rattler's solver: it takes and
returns lockgen's own dataclasses, so the rest of the code does not follow rattler's API churn.

Importing it does not import rattler: ``check`` and a no-op ``lock`` import it and never solve.
"""

from lockgen.conda.match import version_lower
from lockgen.conda.solve import CondaSolver, PinnedOffers, RattlerSolver

__all__ = [
    "CondaSolver",
    "PinnedOffers",
    "RattlerSolver",
    "version_lower",
]
