"""Two lockgens and the engine, interleaved in one run: the warm lock rows' before and after.

``make bench`` measures one lockgen against the engine; a second run for an older lockgen meets the
machine in another state (this 2-core machine's host is shared, and its speed moves between runs by
more than a round's changes). This script runs, in turn and for ``--runs`` rounds, lockgen as it is
here, an older lockgen (an export of its ``lockgen`` package put first on ``PYTHONPATH``) and
bench/engine.py, warm, on the warm rows of ``make bench`` (2. dl zst and sharded, 5. scale sharded),
and prints median wall and CPU (user + system) times and each lockgen's ratios to the engine.

    git archive OLD lockgen | tar -x -C /tmp/old
    python bench/beforeafter.py --old /tmp/old --runs 11

It reuses what ``make bench`` left in its scratch directory (the served copies of the snapshot and
the generated scale channel): run the bench once first. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import CANONICAL, CHILD_ENV, engine_command, write_env  # noqa: E402
from server import serve  # noqa: E402

Timed = tuple[float, float]


def timed(cmd: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> Timed:
    """Wall and CPU (user + system, the process tree) milliseconds of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    argv = [str(c) for c in cmd]
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall * 1000, cpu * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="a folder holding an older lockgen package")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--shared", type=Path, default=BENCH.parent.parent / "shared")
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()) / "lockgen-bench")
    args = parser.parse_args()
    if not (args.old / "lockgen" / "__init__.py").is_file():
        parser.error(f"{args.old} holds no lockgen package")
    scratch, channels = args.scratch, args.shared / "channels"
    scale = next(iter(sorted(scratch.glob("scale-*"))), None)
    modes = {"zst": [scratch / "shared" / "zst", channels]}
    modes["sharded"] = [scratch / "shared" / "sharded", scratch / "shared" / "zst", channels]
    if scale is not None:
        modes["scale-sharded"] = [scale / "sharded", scale]
    if not (scratch / "shared" / "sharded").is_dir():
        parser.error(f"{scratch} has no served copies of the snapshot: run `make bench` first")
    work = scratch / "before-after"
    shutil.rmtree(work, ignore_errors=True)
    dl = args.shared / "environments" / "dl-conda-forge.yml"
    cases = [("2. dl conda, warm, zst", "zst", dl), ("2. dl conda, warm, sharded", "sharded", dl)]
    scale_env = scratch / "runs" / "scale-sharded-warm" / "environment.yml"
    if scale is not None and scale_env.is_file():
        cases.append(("5. scale, warm, sharded", "scale-sharded", scale_env))
    py = sys.executable
    with serve(modes) as server:
        for name, mode, source in cases:
            folder = work / mode
            specs = write_env(source, folder / "environment.yml", pip=False)
            listed = yaml.safe_load((folder / "environment.yml").read_text())["channels"]
            channels_of = [c for c in listed if c != "nodefaults"]  # conda's word for "no defaults", not a channel
            mirror = f"{CANONICAL}={server.url}/{mode}"

            def lock(tag: str, folder: Path = folder, mirror: str = mirror) -> Timed:
                shutil.rmtree(folder / f"locks-{tag}", ignore_errors=True)
                env = dict(CHILD_ENV, PYTHONPATH=str(args.old)) if tag == "before" else dict(CHILD_ENV)
                cmd: list[str | Path] = [py, "-m", "lockgen", "lock", "-v", "-f", folder / "environment.yml"]
                cache = folder.parent / f"{folder.name}-cache-{tag}"  # outside the project, as a user's default
                cmd += ["-o", folder / f"locks-{tag}", "--cache-dir", cache, "--mirror", mirror]
                return timed(cmd, folder, env)

            engine_cmd = engine_command(py, server.url, folder, mode, channels_of, specs)

            def engine(folder: Path = folder, cmd: list[str] = engine_cmd) -> Timed:
                shutil.rmtree(folder / "engine-out", ignore_errors=True)
                return timed(cmd, folder, dict(CHILD_ENV))

            runners: dict[str, Callable[[], Timed]] = {
                "after": lambda: lock("after"),
                "before": lambda: lock("before"),
                "engine": engine,
            }
            for run in runners.values():  # each its own warm cache
                run()
            found: dict[str, list[Timed]] = {who: [] for who in runners}
            for _ in range(args.runs):
                for who, run in runners.items():
                    found[who].append(run())
            wall = {who: statistics.median(w for w, _ in got) for who, got in found.items()}
            cpu = {who: statistics.median(c for _, c in got) for who, got in found.items()}
            print(
                f"{name}: engine {wall['engine']:.0f} / {cpu['engine']:.0f} ms;"
                f" before {wall['before'] / wall['engine']:.2f} / {cpu['before'] / cpu['engine']:.2f},"
                f" after {wall['after'] / wall['engine']:.2f} / {cpu['after'] / cpu['engine']:.2f}"
                f" (wall / CPU against the engine, medians of {args.runs})",
                flush=True,
            )
    load = os.getloadavg()[0]
    print(f"load average after: {load:.2f}")


if __name__ == "__main__":
    main()
