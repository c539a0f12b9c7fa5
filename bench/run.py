"""lockgen's benchmark: wall time, peak RSS and bytes fetched, beside the bare engine.

Not a test: it prints a table and writes bench/results.md. ``make bench`` runs it. Every
scenario locks linux-64, osx-64 and win-64 together against channels served over HTTP on
127.0.0.1 by :mod:`server` (which counts the bytes it sends), in three serving modes: ``json``
(plain repodata.json), ``zst`` (+ repodata.json.zst, what conda-forge serves) and ``sharded``
(+ CEP-16 shards). Each scenario runs lockgen as a user does (``python -m lockgen lock``, a new
process each run) and the bare engine (bench/engine.py: rattler's Gateway + solve for the same
specs and platforms, writing @EXPLICIT files, also a new process), ``--runs`` times each, and
reports medians. Peak RSS is GNU time's ``%M`` of each run: the largest process of its
tree (uv children included). ``lockgen/engine`` is the headline.

    python bench/run.py                   # everything (~10 min on 2 cores)
    python bench/run.py --quick           # 3 runs, a 10x smaller scale channel
    python bench/run.py --only dl-warm,noop --runs 7
    python bench/run.py --only install --install-scale 0.25   # install: lockgen vs rattler.install
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from server import Server, serve  # noqa: E402
from variants import prepare_channels  # noqa: E402

PLATFORMS = ("linux-64", "osx-64", "win-64")
CANONICAL = "https://conda.anaconda.org"
TIME = "/usr/bin/time" if Path("/usr/bin/time").is_file() else None
"""GNU time reports the peak RSS of the command (and its waited-for children); ``wait4`` of a
child of this (large) process would also count pages the child shared with it before ``exec``."""
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Children run as on a user's machine, where Python caches compiled modules. A sandbox or CI that
sets PYTHONDONTWRITEBYTECODE leaves an editable lockgen without .pyc files, so every run compiles
its ~25 modules from source (about 20-40 ms more; see docs/performance.md)."""
SCENARIOS = ("dl-cold", "dl-warm", "dl-pip", "noop", "scale", "concurrency", "install")


@dataclass
class Sample:
    wall: float
    rss_kb: int
    bytes_sent: int
    requests: int
    events: list[tuple[float, str]] = field(default_factory=list)
    anon_kb: int = 0
    """Peak private (anonymous) RSS of the main process, sampled every 10 ms; the rest of the peak is
    file-backed pages, chiefly repodata files rattler memory-maps from its cache."""
    cpu: float = 0.0
    """User + system CPU seconds of the run's tree (GNU time), when measured: steadier than wall time
    on a machine whose disk and cores other work shares."""


@dataclass
class Row:
    scenario: str
    lockgen: list[Sample]
    engine: list[Sample] = field(default_factory=list)
    note: str = ""

    @staticmethod
    def _median(samples: list[Sample], attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in samples) if samples else float("nan")

    def cells(self) -> list[str]:
        lw, ew = self._median(self.lockgen, "wall"), self._median(self.engine, "wall")
        ratio = f"**{lw / ew:.2f}**" if self.engine else "–"
        lc, ec = self._median(self.lockgen, "cpu"), self._median(self.engine, "cpu")
        cpu_ratio = f"**{lc / ec:.2f}**" if self.engine and ec else "–"

        def mb(samples: list[Sample]) -> str:
            if not samples:
                return "–"
            anon = max(s.anon_kb for s in samples) / 1024
            return f"{max(s.rss_kb for s in samples) / 1024:.0f} ({anon:.0f})"

        def fetched(samples: list[Sample]) -> str:
            if not samples:
                return "–"
            s = samples[len(samples) // 2]
            return f"{s.bytes_sent / 1e6:.2f} MB / {s.requests}"

        spread = f"{min(s.wall for s in self.lockgen):.3f}–{max(s.wall for s in self.lockgen):.3f}"
        return [
            self.scenario,
            f"{lw:.3f}",
            spread,
            f"{ew:.3f}" if self.engine else "–",
            ratio,
            f"{lc:.3f}",
            f"{ec:.3f}" if self.engine else "–",
            cpu_ratio,
            mb(self.lockgen),
            mb(self.engine),
            fetched(self.lockgen),
            fetched(self.engine),
        ]


HEADER = [
    "scenario",
    "lockgen s (median)",
    "lockgen min–max",
    "engine s",
    "lockgen/engine",
    "lockgen CPU s",
    "engine CPU s",
    "CPU lockgen/engine",
    "lockgen peak RSS MB (anon)",
    "engine peak RSS MB (anon)",
    "lockgen fetched / requests",
    "engine fetched / requests",
]


def run_once(cmd: Sequence[str], cwd: Path, server: Server | None, env: dict[str, str] | None = None) -> Sample:
    """One process: wall time, peak RSS of its tree, bytes the server sent, and its stderr lines, timed."""
    if server:
        server.counters.reset()
    env = env if env is not None else CHILD_ENV
    events: list[tuple[float, str]] = []
    handle, rss_name = tempfile.mkstemp(prefix="lockgen-bench-rss-")
    os.close(handle)
    rss_file = Path(rss_name)
    wrapped = [TIME, "-f", "%M %U %S", "-o", rss_name, *cmd] if TIME else list(cmd)
    started = time.perf_counter()
    proc = subprocess.Popen(wrapped, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    stderr = proc.stderr
    assert stderr is not None

    def read() -> None:
        for line in stderr:
            events.append((time.perf_counter() - started, line.rstrip()))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sampler = _AnonSampler(proc.pid, wrapped=TIME is not None)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    sampler.done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(5)
    sampler.join(5)
    rss_text = rss_file.read_text().strip()
    rss_file.unlink()
    if proc.returncode != 0:
        tail = "\n".join(line for _, line in events[-15:])
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{tail}")
    sent, requests = (server.counters.bytes_sent, server.counters.requests) if server else (0, 0)
    fields = rss_text.splitlines()[-1].split() if TIME and rss_text else []
    rss = int(fields[0]) if fields else usage.ru_maxrss
    cpu = float(fields[1]) + float(fields[2]) if len(fields) == 3 else usage.ru_utime + usage.ru_stime
    return Sample(wall, rss, sent, requests, events, sampler.peak_kb, cpu)


class _AnonSampler(threading.Thread):
    """Polls ``RssAnon`` of the measured process (the child of GNU time, when wrapped)."""

    def __init__(self, pid: int, wrapped: bool) -> None:
        super().__init__(daemon=True)
        self.pid, self.wrapped = pid, wrapped
        self.done = threading.Event()
        self.peak_kb = 0

    def _find_child(self) -> int | None:
        if not self.wrapped:
            return self.pid
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:
                return int(stat.parent.name)
        return None

    def run(self) -> None:
        target = None
        while not self.done.wait(0.01):
            target = target or self._find_child()
            if target is None:
                continue
            try:
                status = Path(f"/proc/{target}/status").read_text()
            except OSError:
                return
            for line in status.splitlines():
                if line.startswith("RssAnon:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))


def repeat(
    runs: int,
    cmd: Sequence[str],
    cwd: Path,
    server: Server | None,
    before: Callable[[], None] = lambda: None,
    env: dict[str, str] | None = None,
) -> list[Sample]:
    samples = []
    for _ in range(runs):
        before()
        samples.append(run_once(cmd, cwd, server, env))
    return samples


_REPORT_THREADS = """\
import os, resource, sys, time
def report():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    main = time.thread_time()
    print(f"bench-threads {main:.4f} {usage.ru_utime + usage.ru_stime - main:.4f}", file=sys.stderr, flush=True)
"""
LOCKGEN_THREADS = (
    _REPORT_THREADS
    + """\
import lockgen.cli.app as app
leave = app.finish
def finish(code):
    report()
    leave(code)
app.finish = finish
sys.argv = ["lockgen", *sys.argv[1:]]
app.main()
"""
)
ENGINE_THREADS = (
    _REPORT_THREADS
    + f"""\
sys.path.insert(0, {str(BENCH)!r})
import asyncio, engine
asyncio.run(engine._main(engine._args(sys.argv[1:])))
report()
os._exit(0)
"""
)
"""``python -c`` programs that run ``lockgen`` or bench/engine.py as the rows do and, as the process
leaves, print its main thread's CPU seconds and the rest of its CPU (rattler's threads)."""


def wipe(*paths: Path) -> Callable[[], None]:
    def clear() -> None:
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)

    return clear


# --- inputs ---------------------------------------------------------------------------------------


def write_env(source: Path, target: Path, pip: bool) -> list[str]:
    """The example environment with the three platforms (and without its pip section unless ``pip``)."""
    data = yaml.safe_load(source.read_text())
    if not pip:
        data["dependencies"] = [d for d in data["dependencies"] if not isinstance(d, dict)]
    data["platforms"] = list(PLATFORMS)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return [d for d in data["dependencies"] if isinstance(d, str)]


def user_cache(work: Path) -> Path:
    """A cache folder beside the project ``work``, outside it, as a user's default one is: lockgen keeps
    no memo in a cache a pull request could commit (the mapping's and the environment file's,
    docs/performance.md), so a cache inside the project would parse the 34k-entry mapping (25-31 ms of
    CPU) and the environment file with PyYAML (~13 ms) again on every run. Every lockgen row uses it."""
    return work.parent / f"{work.name}-user-cache"


def engine_command(
    py: str, url: str, work: Path, mode: str, channels: Sequence[str], specs: Sequence[str]
) -> list[str]:
    """bench/engine.py's command line for ``specs`` from ``channels`` served at ``url``/``mode``, caching
    and writing under ``work``."""
    cmd = [py, str(BENCH / "engine.py"), "--cache-dir", str(work / "engine-cache"), "--out-dir"]
    cmd += [str(work / "engine-out")]
    for channel in channels:
        cmd += ["--channel", f"{url}/{mode}/{channel}"]
    for spec in specs:
        cmd += ["--spec", spec]
    for p in PLATFORMS:
        cmd += ["--platform", p]
    return cmd + virtual_args()


def virtual_args() -> list[str]:
    from lockgen.platforms import default_virtual_packages

    out = []
    for p in PLATFORMS:
        for vp in default_virtual_packages(p).values():
            out += ["--virtual", f"{p}:{vp.name}={vp.version}={vp.build}"]
    return out


@dataclass
class Bench:
    args: argparse.Namespace
    server: Server
    scratch: Path
    modes: dict[str, list[Path]]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    references: dict[str, list[Sample]] = field(default_factory=dict)
    """``python -c pass`` and ``python -c "import yaml, click"``, measured once per run (`reference`)."""

    @property
    def py(self) -> str:
        return sys.executable

    def lockgen(self, work: Path, mode: str, *extra: str, cache: Path | None = None) -> list[str]:
        return [
            self.py, "-m", "lockgen", "lock", "-v", "-f", str(work / "environment.yml"), "-o", str(work / "locks"),
            "--cache-dir", str(cache or user_cache(work)), "--mirror", f"{CANONICAL}={self.server.url}/{mode}", *extra,
        ]  # fmt: skip

    def engine(self, work: Path, mode: str, channels: Sequence[str], specs: Sequence[str]) -> list[str]:
        return engine_command(self.py, self.server.url, work, mode, channels, specs)

    def pair(
        self,
        name: str,
        work: Path,
        mode: str,
        channels: Sequence[str],
        specs: Sequence[str],
        cold: bool,
        lock_extra: Sequence[str] = (),
        engine_extra: Sequence[str] = (),
        note: str = "",
    ) -> Row:
        """lockgen and the engine on the same input, cold (cache wiped each run) or warm (locks wiped)."""
        runs = self.args.runs
        lock_cmd = [*self.lockgen(work, mode), *lock_extra]
        engine_cmd = [*self.engine(work, mode, channels, specs), *engine_extra]
        if cold:
            lock_before = wipe(user_cache(work), work / "locks")
            engine_before = wipe(work / "engine-cache", work / "engine-out")
        else:
            run_once(lock_cmd, self.scratch, self.server)  # prime the caches
            run_once(engine_cmd, self.scratch, self.server)
            lock_before, engine_before = wipe(work / "locks"), wipe(work / "engine-out")
        lock, engine = [], []
        for _ in range(runs):  # interleaved, so both see the same load
            lock += repeat(1, lock_cmd, self.scratch, self.server, lock_before)
            engine += repeat(1, engine_cmd, self.scratch, self.server, engine_before)
        row = Row(name, lock, engine, note=note)
        self.add(row)
        return row

    def threads(self, row: Row, work: Path, mode: str, channels: Sequence[str], specs: Sequence[str]) -> None:
        """Where a warm row's CPU goes: lockgen's and the engine's main thread against their other
        threads (rattler's), medians of ``--runs`` interleaved runs of each, wrapped to report them
        (docs/performance.md, "Round 7: the warm sharded lock"). Untimed: the row is measured unwrapped."""
        lock = [self.py, "-c", LOCKGEN_THREADS, *self.lockgen(work, mode)[3:]]
        engine = [self.py, "-c", ENGINE_THREADS, *self.engine(work, mode, channels, specs)[2:]]
        found: dict[str, list[tuple[float, float]]] = {"lockgen": [], "engine": []}
        for _ in range(self.args.runs):
            for who, cmd, out in (("lockgen", lock, "locks"), ("engine", engine, "engine-out")):
                wipe(work / out)()
                sample = run_once(cmd, self.scratch, None)
                lines = [text.split()[1:] for _, text in sample.events if text.startswith("bench-threads ")]
                if lines:
                    found[who].append((float(lines[-1][0]), float(lines[-1][1])))
        if not found["lockgen"] or not found["engine"]:
            return

        def ms(who: str, i: int) -> float:
            return statistics.median(x[i] for x in found[who]) * 1000

        self.notes.append(
            f"{row.scenario}, CPU by thread (medians of {len(found['lockgen'])}): main thread lockgen"
            f" {ms('lockgen', 0):.0f} ms, engine {ms('engine', 0):.0f} ms; other threads (rattler's) lockgen"
            f" {ms('lockgen', 1):.0f} ms, engine {ms('engine', 1):.0f} ms."
        )

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(" | ".join(row.cells()) + (f"  ({row.note})" if row.note else ""), flush=True)

    # --- scenarios --------------------------------------------------------------------------------

    def dl_work(self, tag: str, pip: bool = False) -> tuple[Path, list[str]]:
        work = self.scratch / "runs" / tag
        for folder in (work, user_cache(work)):
            shutil.rmtree(folder, ignore_errors=True)
        specs = write_env(self.args.shared / "environments" / "dl-conda-forge.yml", work / "environment.yml", pip)
        return work, specs

    def dl_cold(self) -> None:
        for mode in ("zst", "sharded", "json"):
            work, specs = self.dl_work(f"dl-cold-{mode}")
            self.pair(f"1. dl conda, cold, {mode}", work, mode, ["conda-forge"], specs, cold=True)

    def dl_warm(self) -> None:
        for mode in ("zst", "sharded"):
            work, specs = self.dl_work(f"dl-warm-{mode}")
            row = self.pair(f"2. dl conda, warm, {mode}", work, mode, ["conda-forge"], specs, cold=False)
            self.threads(row, work, mode, ["conda-forge"], specs)

    def dl_pip(self) -> None:
        if not _pip_functional():
            self.notes.append("3. skipped: lockgen.pypi is not functional in this checkout.")
            print("3. skipped: lockgen.pypi not functional", flush=True)
            return
        work, specs = self.dl_work("dl-pip", pip=True)
        mapping = str(self.args.shared / "pypi-mapping" / "conda-forge.json")
        cache = user_cache(work)
        cmd = [*self.lockgen(work, "zst", cache=cache), "--pypi-mapping", mapping]
        engine_cmd = self.engine(work, "zst", ["conda-forge"], specs)
        run_once(cmd, self.scratch, self.server)  # conda cache, uv cache and mapping warm
        run_once(engine_cmd, self.scratch, self.server)
        floor = work / "uv-floor"  # the three `uv pip compile` runs lockgen makes, started together
        prepare = [self.py, str(BENCH / "pipfloor.py"), "prepare", str(work / "environment.yml")]
        prepare += [str(work / "locks"), str(cache), mapping, str(floor)]
        subprocess.run(prepare, cwd=self.scratch, check=True, env=CHILD_ENV)
        uv_cmd = [str(floor / "run.sh")]
        run_once(uv_cmd, self.scratch, None)
        pip: list[Sample] = []
        bound: list[Sample] = []
        for _ in range(self.args.runs):  # interleaved: lockgen, then the engine and the uv runs it is compared with
            pip += repeat(1, cmd, self.scratch, self.server, wipe(work / "locks"))
            wipe(work / "engine-out")()
            engine = run_once(engine_cmd, self.scratch, self.server)
            uv = run_once(uv_cmd, self.scratch, None)
            bound.append(
                Sample(engine.wall + uv.wall, max(engine.rss_kb, uv.rss_kb), engine.bytes_sent, engine.requests,
                       cpu=engine.cpu + uv.cpu)
            )  # fmt: skip
        row = Row("3. dl conda+pip (live PyPI), warm, zst", pip, bound)
        shares, overlap = [], []
        for s in pip:
            solved = [t for t, line in s.events if line.endswith("packages") and line.startswith("[")]
            starts = [t for t, line in s.events if "resolving pip packages" in line]
            ends = [t for t, line in s.events if "pip packages resolved" in line]
            if solved and starts and ends:
                shares.append((max(ends) - min(starts)) / s.wall)
                overlap.append(max(starts) < min(ends))
        row.note = (
            "engine column: bench/engine.py (conda) + the same three `uv pip compile` runs started together"
            " (bench/pipfloor.py), wall times added"
        )
        if shares:
            row.note += (
                f"; pip share of lockgen's wall {statistics.median(shares):.0%} (first uv start → last uv end);"
                f" 3 uv runs overlapping in {sum(overlap)}/{len(overlap)} runs"
            )
        self.add(row)

    def noop(self) -> None:
        work, _ = self.dl_work("noop", pip=_pip_functional())
        extra = ["--pypi-mapping", str(self.args.shared / "pypi-mapping" / "conda-forge.json")]
        cache = user_cache(work)
        run_once([*self.lockgen(work, "zst", cache=cache), *extra], self.scratch, self.server)
        runs = max(self.args.runs, 7)
        env_args = ["-f", str(work / "environment.yml"), "-o", str(work / "locks")]
        noop = repeat(runs, [*self.lockgen(work, "zst", cache=cache), *extra], self.scratch, self.server)
        self.add(Row("4a. no-op `lockgen lock` (dl + pip)", noop, note="no solve, no fetch"))
        if _check_functional():
            check = repeat(runs, [self.py, "-m", "lockgen", "check", *env_args], self.scratch, self.server)
            self.add(Row("4b. `lockgen check` (dl + pip)", check))
        else:
            self.notes.append("4b. skipped: `lockgen check` is not implemented in this checkout.")
        bare = self.reference("pass")
        rattler = repeat(runs, [self.py, "-c", "import rattler"], self.scratch, None)
        yaml_click = self.reference("import yaml, click")
        self.add(Row("4c. reference: `python -c pass`", bare))
        self.add(Row("4d. reference: `python -c 'import rattler'`", rattler))
        self.add(Row("4e. reference: `python -c 'import yaml, click'`", yaml_click))
        self.add(Row("4f. reference: `python -c 'import click'`", self.reference("import click")))
        if _check_functional():
            noop_ms = (Row._median(noop, "wall") - Row._median(yaml_click, "wall")) * 1000
            check_ms = (Row._median(check, "wall") - Row._median(yaml_click, "wall")) * 1000
            noop_cpu = (Row._median(noop, "cpu") - Row._median(yaml_click, "cpu")) * 1000
            check_cpu = (Row._median(check, "cpu") - Row._median(yaml_click, "cpu")) * 1000
            self.notes.append(
                f"Beyond `import yaml, click` (4e): no-op lock +{noop_ms:.0f} ms wall / +{noop_cpu:.0f} ms CPU,"
                f" check +{check_ms:.0f} ms wall / +{check_cpu:.0f} ms CPU (medians)."
            )
        self.importtime(work, env_args)

    def reference(self, code: str) -> list[Sample]:
        if code not in self.references:
            runs = max(self.args.runs, 7)
            self.references[code] = repeat(runs, [self.py, "-c", code], self.scratch, None)
        return self.references[code]

    def floors(self) -> None:
        """What the warm conda lock rows cannot go below: the engine's own run plus importing click (beyond
        ``python -c pass``), which ``lockgen lock`` needs and the engine does not. PyYAML is not in it: a
        warm lock reads the environment file's memo (docs/performance.md, "Round 9"). The pip row and the
        install rows have floors of their own."""
        lock_rows = ("2.", "5.")  # the conda-only lock rows
        warm = [r for r in self.rows if r.engine and r.scenario.startswith(lock_rows) and "warm" in r.scenario]
        if not warm:
            return
        bare, click = self.reference("pass"), self.reference("import click")
        extra_wall = Row._median(click, "wall") - Row._median(bare, "wall")
        extra_cpu = Row._median(click, "cpu") - Row._median(bare, "cpu")
        shown = []
        for row in warm:
            ew, ec = Row._median(row.engine, "wall"), Row._median(row.engine, "cpu")
            lw, lc = Row._median(row.lockgen, "wall"), Row._median(row.lockgen, "cpu")
            floor = f"{(ew + extra_wall) / ew:.2f}" + (f" / {(ec + extra_cpu) / ec:.2f}" if ec else "")
            beyond = f"{(lw - ew - extra_wall) * 1000:+.0f} ms wall / {(lc - ec - extra_cpu) * 1000:+.0f} ms CPU"
            shown.append(f"{row.scenario.split('. ', 1)[-1]}: floor {floor}, lockgen {beyond} above it")
        self.notes.append(
            f"Floors of the warm lock rows (wall / CPU ratios): the engine plus `import click` beyond"
            f" `python -c pass` (+{extra_wall * 1000:.0f} ms wall / +{extra_cpu * 1000:.0f} ms CPU in this run),"
            f" which every lockgen command pays and the engine does not. " + "; ".join(shown) + "."
        )

    def importtime(self, work: Path, env_args: list[str]) -> None:
        heavy = ("rattler", "httpx", "packaging", "yaml", "click", "asyncio", "lockgen.pypi")
        for command in ("lock", "check"):
            cmd = [self.py, "-X", "importtime", "-m", "lockgen", command, *env_args]
            if command == "lock":
                cmd += ["--cache-dir", str(user_cache(work)), "--mirror", f"{CANONICAL}={self.server.url}/zst"]
                cmd += ["--pypi-mapping", str(self.args.shared / "pypi-mapping" / "conda-forge.json")]
            done = subprocess.run(cmd, cwd=self.scratch, capture_output=True, text=True, check=False, env=CHILD_ENV)
            total, found = import_costs(done.stderr, heavy)
            shown = ", ".join(f"{k} {v / 1000:.1f} ms" for k, v in found.items()) or "none"
            self.notes.append(
                f"`python -X importtime -m lockgen {command}` (no-op): {total / 1000:.0f} ms of imports;"
                f" heavy modules imported: {shown}."
            )

    def concurrency(self) -> None:
        for tag, work, mode in self.concurrency_inputs():
            cmd = [self.py, str(BENCH / "concurrency.py"), str(work / "environment.yml"), str(user_cache(work))]
            cmd += [f"{CANONICAL}={self.server.url}/{mode}", str(self.args.runs)]
            done = subprocess.run(cmd, cwd=self.scratch, capture_output=True, text=True, check=False, env=CHILD_ENV)
            if done.returncode != 0:
                self.notes.append(f"Concurrency ({tag}): failed: {done.stderr.strip().splitlines()[-1:]}")
                print(self.notes[-1], flush=True)
                continue
            data = json.loads(done.stdout.strip().splitlines()[-1])
            alone = ", ".join(f"{p} {t:.3f}" for p, t in data["alone"].items())
            self.notes.append(
                f"Concurrency ({tag}, warm, in one process): platforms alone {alone} s, sum {data['sum']:.3f} s;"
                f" all three in one solve call {data['together']:.3f} s"
                f" ({data['together'] / data['sum']:.0%} of the sum)."
            )
            print(self.notes[-1], flush=True)

    def concurrency_inputs(self) -> list[tuple[str, Path, str]]:
        out = []
        work = self.scratch / "runs" / "dl-warm-zst"
        if not user_cache(work).is_dir():
            work, _ = self.dl_work("concurrency")
        out.append(("dl-conda-forge, zst", work, "zst"))
        scale = self.scratch / "runs" / "scale-sharded-warm"
        if "scale-sharded" in self.modes and user_cache(scale).is_dir():
            out.append(("scale, sharded", scale, "scale-sharded"))
        return out

    def scale(self) -> None:
        import scalegen

        records, names = (60_000, 3_000) if self.args.quick else (self.args.scale_records, self.args.scale_names)
        root = self.scratch / f"scale-v{scalegen.VERSION}-{records}-{names}"
        print(f"scale channel: {root} (generated once)", flush=True)
        code = f"import json, scalegen; print(json.dumps(scalegen.generate({str(root)!r}, {records}, {names})))"
        done = subprocess.run([self.py, "-c", code], cwd=BENCH, capture_output=True, text=True, check=True)
        info = json.loads(done.stdout)  # generated in a child: this serving process stays small
        counts = info["counts"]
        self.notes.append(
            f"Scale channel (generated in {info['seconds']} s, seed 7): "
            + ", ".join(f"{p} {counts[p]:,} records / {counts[p + ' names']:,} names" for p in (*PLATFORMS, "noarch"))
            + f"; linux-64 repodata.json {counts['linux-64 json bytes'] / 1e6:.0f} MB uncompressed;"
            f" environment: {len(info['specs'])} specs."
        )
        self.server_modes_scale(root)
        # flat (zst) repodata of this size does not fit lockgen's memory budget: by default it solves one
        # platform at a time, so it is compared with the engine doing the same; `-j 3` with the engine's
        # all-at-once. Sharded repodata fits, so both run all platforms at once.
        variants = [
            ("sharded", "", (), ()),
            ("zst", "auto", (), ("--one-at-a-time",)),
            ("zst", "-j 3", ("-j", "3"), ()),
        ]
        for mode, label, lock_extra, engine_extra in variants:
            for cold in (True, False):
                tag = f"scale-{mode}{'-j3' if lock_extra else ''}-{'cold' if cold else 'warm'}"
                work = self.scratch / "runs" / tag
                for folder in (work, user_cache(work)):
                    shutil.rmtree(folder, ignore_errors=True)
                work.mkdir(parents=True)
                env = (root / "environment.yml").read_text()
                env += "platforms:\n" + "".join(f"  - {p}\n" for p in PLATFORMS)
                (work / "environment.yml").write_text(env)
                name = f"5. scale, {'cold' if cold else 'warm'}, {mode}" + (f", lockgen {label}" if label else "")
                note = "engine one platform at a time" if engine_extra else ""
                row = self.pair(name, work, f"scale-{mode}", ["scale"], info["specs"], cold=cold,
                                lock_extra=lock_extra, engine_extra=engine_extra, note=note)  # fmt: skip
                if mode == "sharded" and not cold:
                    self.threads(row, work, f"scale-{mode}", ["scale"], info["specs"])

    def install(self) -> None:
        """`lockgen install` beside py-rattler's own `rattler.install` of the same records (bench/rattler_install.py),
        cold (package caches wiped) and warm (only the prefix wiped), interleaved: the realistic channel over
        loopback HTTP, then a small one as a local directory (a `file://` mirror)."""
        scale = min(self.args.install_scale, 0.1) if self.args.quick else self.args.install_scale
        self.install_pair("6", scale, local=False)
        self.install_pair("7", 0.01, local=True)

    def install_pair(self, number: str, scale: float, local: bool) -> None:
        import installgen

        root = self.scratch / f"install-v{installgen.VERSION}-{scale:g}"
        code = f"import json, installgen; print(json.dumps(installgen.generate({str(root)!r}, {scale})))"
        done = subprocess.run([self.py, "-c", code], cwd=BENCH, capture_output=True, text=True, check=True)
        info = json.loads(done.stdout)
        self.modes[f"install-{scale:g}"] = [root]
        served = f"{self.server.url}/install-{scale:g}"
        work = self.scratch / "runs" / f"install-{scale:g}"
        shutil.rmtree(work, ignore_errors=True)
        lock_cmd = [
            self.py, "-m", "lockgen", "install", "-q", "--no-pip", "-p", "linux-64", "-o", str(root / "locks"),
            "--prefix", str(work / "lockgen-prefix"), "--cache-dir", str(work / "lockgen-cache"),
            "--mirror", f"{CANONICAL}={root if local else served}",
        ]  # fmt: skip
        engine_cmd = [
            self.py, str(BENCH / "rattler_install.py"), "--lock", str(root / "locks" / "linux-64.txt"),
            "--channel", (root / installgen.CHANNEL).as_uri() if local else f"{served}/{installgen.CHANNEL}",
            "--cache-dir", str(work / "engine-cache"), "--prefix", str(work / "engine-prefix"),
        ]  # fmt: skip
        where = "a local directory (file://)" if local else "loopback HTTP"
        note = (
            f"synthetic channel (bench/installgen.py, scale {scale:g}) over {where}: {info['packages']} packages,"
            f" {info['archive_mb']} MB of archives, {info['unpacked_mb']} MB and {info['files']:,} files unpacked;"
            " engine = rattler.install of the same records"
        )
        label = "small local channel" if local else "realistic channel"
        for cold in (True, False):
            lock_before = wipe(work / "lockgen-prefix", *([work / "lockgen-cache"] if cold else []))
            engine_before = wipe(work / "engine-prefix", *([work / "engine-cache"] if cold else []))
            lock, engine = [], []
            for _ in range(max(self.args.runs, 5) if local else self.args.runs):  # interleaved: the same load
                lock += repeat(1, lock_cmd, self.scratch, self.server, lock_before)
                engine += repeat(1, engine_cmd, self.scratch, self.server, engine_before)
            name = f"{number}. install, {label}, {'cold' if cold else 'warm'}"
            lcpu, ecpu = (statistics.median(x.cpu for x in samples) for samples in (lock, engine))
            cpu = f"CPU (user+system) {lcpu:.2f} s vs {ecpu:.2f} s: **{lcpu / ecpu:.2f}**"
            self.add(Row(name, lock, engine, note=f"{cpu}; " + (note if cold else "caches kept, prefix wiped")))

    def server_modes_scale(self, root: Path) -> None:
        self.modes["scale-zst"] = [root]
        self.modes["scale-sharded"] = [root / "sharded", root]


def import_costs(stderr: str, heavy: Sequence[str]) -> tuple[int, dict[str, int]]:
    """From ``-X importtime`` output: total µs of imports, and µs per heavy package (its outermost imports)."""
    pending: dict[int, list[tuple[str, int, list[Any]]]] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, field = line.removeprefix("import time:").split("|")
        if not cumulative.strip().isdigit():
            continue
        depth = (len(field) - len(field.lstrip()) - 1) // 2
        node = (field.strip(), int(cumulative), pending.pop(depth + 1, []))
        pending.setdefault(depth, []).append(node)  # importtime prints children before their parent
    roots = pending.get(0, [])
    found: dict[str, int] = {}

    def walk(node: tuple[str, int, list[Any]], inside: frozenset[str]) -> None:
        name, cumulative, children = node
        hits = {h for h in heavy if name == h or name.startswith(h + ".")}
        for h in hits - inside:
            found[h] = found.get(h, 0) + cumulative
        for child in children:
            walk(child, inside | hits)

    for root in roots:
        walk(root, frozenset())
    return sum(r[1] for r in roots), found


def _pip_functional() -> bool:
    try:
        from lockgen.pypi.stage import lock_pip_files  # noqa: F401
    except Exception:
        return False
    return True


def _check_functional() -> bool:
    try:
        from lockgen.review.check import check  # noqa: F401
    except Exception:
        return False
    return True


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    mem = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    from importlib.metadata import version

    import rattler  # noqa: F401

    uv = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True, text=True, check=False)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "lockgen"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return [
        f"- machine: {cpu}, {os.cpu_count()} cores, {int(mem) / 1024 / 1024:.0f} GiB RAM; {platform.platform()}",
        f"- Python {platform.python_version()}, py-rattler {version('py-rattler')}, {uv.stdout.strip()}",
        f"- lockgen at {commit.stdout.strip()}" + (" (with uncommitted changes in lockgen/)" if dirty.stdout else ""),
    ]


def write_results(bench: Bench, started: float, load_before: tuple[float, ...], out: Path) -> None:
    load_after = os.getloadavg()
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` (`{' '.join(['python bench/run.py', *sys.argv[1:]])}`) on"
        f" {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in {time.time() - started:.0f} s."
        " Method: docs/performance.md.",
        "",
        *machine(),
        f"- load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min) — other work on this"
        " machine shares its 2 cores, so absolute times are noisy; the ratio is measured under the same load.",
        f"- {bench.args.runs} runs per cell (no-op and references: at least 7); times are medians of wall time",
        "  of a new process per run; RSS is the peak of the largest process of the run's tree (GNU time %M);",
        "  in brackets the peak private (anonymous) RSS of the main process, sampled every 10 ms: the rest is",
        "  file-backed pages, mostly repodata that rattler memory-maps from its cache;",
        "  fetched = bytes of HTTP bodies the loopback server sent during the median run / number of requests.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
        *("| " + " | ".join(row.cells()) + " |" for row in bench.rows),
        "",
        *(f"- {row.scenario}: {row.note}" for row in bench.rows if row.note),
        *(f"- {note}" for note in bench.notes),
        "",
    ]
    out.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 runs, scale channel of 60k records")
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated subset of {SCENARIOS}")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()) / "lockgen-bench")
    parser.add_argument("--scale-records", type=int, default=600_000)
    parser.add_argument("--scale-names", type=int, default=30_000)
    parser.add_argument("--install-scale", type=float, default=1.0, help="sizes of the install scenario's channel")
    parser.add_argument("--output", type=Path, default=BENCH / "results.md")
    args = parser.parse_args()
    if args.quick:
        args.runs = min(args.runs, 3)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s) {sorted(unknown)}; choose from {SCENARIOS}")
    channels = args.shared / "channels"
    if not channels.is_dir():
        sys.exit(f"no channel snapshot at {channels} (use --shared)")
    started, load_before = time.time(), os.getloadavg()
    args.scratch.mkdir(parents=True, exist_ok=True)
    zst_root, shard_root = prepare_channels(channels, args.scratch / "shared")
    modes: dict[str, list[Path]] = {
        "json": [channels],
        "zst": [zst_root, channels],
        "sharded": [shard_root, zst_root, channels],
    }
    with serve(modes) as server:
        bench = Bench(args, server, args.scratch, modes)  # the server reads `modes`: scale adds to it
        print(" | ".join(HEADER), flush=True)
        for name in SCENARIOS:
            if name in only:
                getattr(bench, name.replace("-", "_"))()
        bench.floors()
    write_results(bench, started, load_before, args.output)
    print(f"wrote {args.output}")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
