"""Several environments (``[tool.lockgen.environments]``): one ``lockgen lock`` for N environments vs
N separate ``lockgen lock`` runs, and ``lockgen check`` over many environments.

Not a test. Runs on the offline snapshot (../shared/channels, through --mirror, warm cache,
--exclude-newer so the solutions do not move between runs) and prints Markdown rows for
bench/results.md:

    python bench/environments.py              # 10 environments x 3 platforms; check over 50 x 3
    python bench/environments.py --runs 3

Every timed run is a new process (``python -m lockgen``) as a user runs it; ``--update-all`` makes
every run solve every platform (a no-op lock would measure nothing). Peak RSS is GNU time's %M.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SHARED = ROOT.parent / "shared" / "channels"
TIME = "/usr/bin/time" if Path("/usr/bin/time").is_file() else None
EXCLUDE_NEWER = "2026-06-01"
EXTRAS = (
    [], ["pandas"], ["scipy"], ["scikit-learn"], ["pyyaml"], ["requests"], ["matplotlib-base"], ["pillow"],
    ["h5py"], ["sympy"],
)  # fmt: skip
"""Environment i: python, numpy and EXTRAS[i % 10]."""


def env_text(i: int) -> str:
    deps = ["python", "numpy", *EXTRAS[i % len(EXTRAS)]]
    return "channels:\n  - conda-forge\ndependencies:\n" + "".join(f"  - {d}\n" for d in deps)


def make_project(root: Path, count: int, groups: bool) -> None:
    root.mkdir(parents=True)
    lines = ["[tool.lockgen]", f'exclude-newer = "{EXCLUDE_NEWER}"', "", "[tool.lockgen.environments]"]
    for i in range(count):
        (root / f"env{i}.yml").write_text(env_text(i))
        group = f', group = "g{i % 3}"' if groups and i < 6 else ""
        lines.append(f'e{i} = {{ file = "env{i}.yml"{group} }}')
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n")


def run(cmd: list[str], cwd: Path) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system) of one process."""
    handle, rss = tempfile.mkstemp(prefix="lockgen-bench-rss-")
    os.close(handle)
    wrapped = [TIME, "-f", "%M %U %S", "-o", rss, *cmd] if TIME else cmd
    started = time.perf_counter()
    done = subprocess.run(wrapped, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    fields = Path(rss).read_text().split()[-3:] if TIME else []
    Path(rss).unlink()
    if len(fields) != 3:
        return wall, 0, float("nan")
    return wall, int(fields[0]) // 1024, float(fields[1]) + float(fields[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--check-count", type=int, default=50)
    args = parser.parse_args()
    if not (SHARED / "conda-forge" / "linux-64" / "repodata.json").is_file():
        raise SystemExit(f"{SHARED} is absent")
    lockgen = [sys.executable, "-m", "lockgen"]
    with tempfile.TemporaryDirectory(prefix="lockgen-bench-envs-") as tmp:
        work = Path(tmp)
        common = ["--mirror", f"https://conda.anaconda.org={SHARED}", "--cache-dir", str(work / "cache")]
        rows = []
        for groups in (False, True):
            project = work / f"project-{groups}"
            make_project(project, args.count, groups)
            run([*lockgen, "lock", *common], project)  # warm the cache, first locks
            one = [run([*lockgen, "lock", "--update-all", *common], project) for _ in range(args.runs)]
            separate = []
            for _ in range(args.runs):
                total, peak, cpu = 0.0, 0, 0.0
                for i in range(args.count):
                    alone = work / f"alone-{i}"
                    alone.mkdir(exist_ok=True)
                    shutil.copy(project / f"env{i}.yml", alone / "environment.yml")
                    cmd = [*lockgen, "lock", "--update-all", "--exclude-newer", EXCLUDE_NEWER, *common]
                    wall, rss, used = run(cmd, alone)
                    total, peak, cpu = total + wall, max(peak, rss), cpu + used
                separate.append((total, peak, cpu))
            w1, ws = statistics.median(w for w, _, _ in one), statistics.median(w for w, _, _ in separate)
            c1, cs = statistics.median(c for _, _, c in one), statistics.median(c for _, _, c in separate)
            what = "3 groups of 2 + 4 alone" if groups else "no groups"
            rows.append(
                f"| {args.count} environments x 3 platforms ({what}): one `lock --update-all` vs {args.count}"
                f" separate runs | {w1:.2f} s | {ws:.2f} s | **{w1 / ws:.2f}** | {c1:.2f} s | {cs:.2f} s |"
                f" **{c1 / cs:.2f}** | {max(r for _, r, _ in one)} MB |"
                f" {max(r for _, r, _ in separate)} MB (largest run) |"
            )
        # The floor: one environment asking for every spec of the N reads the records of every name
        # any of them reads (the Gateway loads each once); N environments hold that plus their solutions.
        union = work / "union"
        union.mkdir()
        specs = list(dict.fromkeys(d for i in range(args.count) for d in ["python", "numpy", *EXTRAS[i % len(EXTRAS)]]))
        (union / "environment.yml").write_text(
            "channels:\n  - conda-forge\ndependencies:\n" + "".join(f"  - {d}\n" for d in specs)
        )
        cmd = [*lockgen, "lock", "--update-all", "--exclude-newer", EXCLUDE_NEWER, *common]
        run(cmd, union)
        together = [run(cmd, union) for _ in range(args.runs)]
        rows.append(
            f"| one environment asking for the {args.count} environments' specs together (the records all of"
            f" them read) | {statistics.median(w for w, _, _ in together):.2f} s | – | – |"
            f" {statistics.median(c for _, _, c in together):.2f} s | – | – | {max(r for _, r, _ in together)} MB | – |"
        )
        project = work / "check"
        make_project(project, args.check_count, True)
        run([*lockgen, "lock", *common], project)
        checks = [run([*lockgen, "check"], project) for _ in range(args.runs)]
        rows.append(
            f"| `lockgen check`, {args.check_count} environments x 3 platforms | "
            f"{statistics.median(w for w, _, _ in checks):.2f} s (max {max(w for w, _, _ in checks):.2f}) | – | – |"
            f" {statistics.median(c for _, _, c in checks):.2f} s | – | – | {max(r for _, r, _ in checks)} MB | – |"
        )
    print("| scenario | wall | separate wall | wall ratio | CPU | separate CPU | CPU ratio | peak RSS | separate RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\n{args.runs} runs per cell, medians; load average {os.getloadavg()[0]:.2f} (1 min) at the end.")


if __name__ == "__main__":
    main()
