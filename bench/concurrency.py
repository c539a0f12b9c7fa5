"""Are the platforms solved concurrently? Time lockgen's solver per platform, then all at once.

Runs in its own process with a warm cache: for each platform alone, then for every platform in
one ``RattlerSolver.solve`` call (lockgen's real path: one Gateway, asyncio.gather), ``runs``
times each, and prints medians as JSON. Usage::

    python bench/concurrency.py ENV_FILE CACHE_DIR MIRROR RUNS
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    from lockgen.conda import RattlerSolver
    from lockgen.config import build_options
    from lockgen.flags import Flags, SolveFlags
    from lockgen.plan import plan

    env_file, cache_dir, mirror, runs = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    options = build_options([env_file], Flags(solve=SolveFlags(mirrors=(mirror,), cache_dir=cache_dir)))
    requests = [p.request for p in plan(options).platforms]

    def timed(batch: list[object]) -> float:
        solver = RattlerSolver(cache_dir)
        started = time.perf_counter()
        solver.solve(batch)  # type: ignore[arg-type]
        return time.perf_counter() - started

    timed(requests)  # warm the cache
    alone = {r.platform: statistics.median(timed([r]) for _ in range(runs)) for r in requests}
    together = statistics.median(timed(list(requests)) for _ in range(runs))
    print(json.dumps({"alone": alone, "sum": sum(alone.values()), "together": together}))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
