"""The pip side's floor: the three ``uv pip compile`` runs lockgen makes, started together, nothing else.

``prepare`` (not timed) reads a finished lock (the conda locks lockgen wrote), builds each platform's
uv inputs with lockgen's own code (mapping, stub wheels, constraints) into ``FOLDER``, and writes
``FOLDER/run.sh``: one ``uv pip compile`` per platform with the arguments and environment lockgen
gives it, all started at once, then ``wait``. bench/run.py times that script (a shell, no Python) and
adds the engine's conda solve: "engine + parallel uv" is what a lock with a pip section costs at least.

    python bench/pipfloor.py prepare ENV_FILE LOCKS_DIR CACHE_DIR MAPPING FOLDER
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def prepare(env_file: Path, locks: Path, cache_dir: Path, mapping: Path, folder: Path) -> None:
    from lockgen.config import build_options
    from lockgen.flags import Flags, LockFlags, SolveFlags
    from lockgen.lockfiles.lockdir import read_lock_file
    from lockgen.plan import pip_plan, pip_request, plan
    from lockgen.pypi.inputs import all_platform_inputs, mapping_for, read_inputs
    from lockgen.pypi.jobs import write_job
    from lockgen.pypi.uv import UvResolver
    from lockgen.reporting import NullReporter
    from lockgen.secrets import SecretRegistry

    options = build_options(
        (env_file,), Flags(locks, (), SolveFlags(cache_dir=str(cache_dir), pypi_mapping=str(mapping)), LockFlags())
    )
    targets = pip_plan(plan(options))
    request = pip_request(targets)
    conda = {}
    for p in targets.platforms:
        lock = read_lock_file(locks / p.lock_name).lock
        assert lock is not None, p.lock_name
        conda[p.platform] = tuple((e.name, e.version) for e in lock.entries)
    secrets = SecretRegistry()
    reporter = NullReporter()
    mapping_table = mapping_for(request, reporter, None, secrets)
    platforms = all_platform_inputs(request, read_inputs(request, secrets), conda, mapping_table, reporter)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    resolver = UvResolver(cache_dir, secrets, reporter)
    lines = ["#!/bin/sh"]
    for item in platforms:
        if item.target is None:
            continue
        job = write_job(folder, item, None, request)
        env = resolver.environment(job)  # only what lockgen changes is written; the rest is inherited
        removed = [f"-u {k}" for k in sorted(set(os.environ) - set(env))]
        changed = [f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()) if os.environ.get(k) != v]
        exports = " ".join([*removed, *changed])
        lines.append(f": > {shlex.quote(str(job.output))}")  # no earlier pins, as in a lock without requirements.txt
        lines.insert(1, lines.pop())  # emptied before any uv starts
        lines.append(f"env {exports} {shlex.join(resolver.argv(job))} >/dev/null 2>&1 &")
    lines.append("wait")
    script = folder / "run.sh"
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o755)


def main() -> None:
    if len(sys.argv) != 7 or sys.argv[1] != "prepare":
        sys.exit(__doc__)
    prepare(*(Path(a) for a in sys.argv[2:]))


if __name__ == "__main__":
    main()
