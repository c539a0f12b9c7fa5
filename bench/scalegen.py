"""Generate a conda channel the size of today's conda-forge linux-64, once, into a scratch dir.

Deterministic (seeded). ``records`` records over ``names`` names in each of linux-64, osx-64 and
win-64, plus a noarch subdir of python packages (a tenth of the names). The structure follows
real repodata:

* names sit in layers (base libraries → libraries → python packages → applications); each depends
  on 0-6 names of lower layers, drawn with a Zipf-like preference, so a few (the runtime, python,
  a numpy-like package) are depended on by thousands, most by nobody;
* 40 % of names are python packages with one build per python minor (py310 … py313), pinned
  ``python >=3.12,<3.13.0a0``; libraries get run-export-style pins ``dep >=1.4.2,<2.0a0``;
* older versions depend on older ranges (``dep >=0.3,<0.9``), so not every combination works
  and the solver has to choose; the newest versions are always compatible, so a request for
  recent packages has a solution;
* records carry md5, sha256, size, timestamp, license, build_number, sometimes constrains;
  90 % are ``.conda``, 10 % ``.tar.bz2``; each platform depends on its own runtime
  (libgcc / libcxx / ucrt), linux builds on ``__glibc``.

Written per subdir: ``repodata.json.zst`` (monolithic, as conda-forge serves it; the
uncompressed file is not kept) and the CEP-16 shard set (:mod:`variants`). Also written:
``environment.yml`` with 40 specs.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard
from variants import write_shard_set

VERSION = 2
PLATFORMS = ("linux-64", "osx-64", "win-64")
RUNTIME = {"linux-64": "libgcc", "osx-64": "libcxx", "win-64": "ucrt"}
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
LICENSES = ("MIT", "BSD-3-Clause", "Apache-2.0", "GPL-3.0-or-later", "LGPL-2.1-or-later", "MPL-2.0")
_SYLLABLES = [
    "ka",
    "ze",
    "lo",
    "ri",
    "mu",
    "tan",
    "vor",
    "pel",
    "qui",
    "dra",
    "sen",
    "fo",
    "ba",
    "lix",
    "nor",
    "gu",
    "te",
    "wy",
    "hap",
    "cel",
    "mon",
    "sti",
    "rav",
    "ob",
    "en",
    "ul",
    "gri",
    "zan",
    "pho",
    "kel",
    "tro",
    "vin",
    "sa",
    "de",
    "mi",
    "nu",
    "bo",
    "ca",
    "fe",
    "gi",
    "ho",
    "ja",
]


@dataclass
class Package:
    name: str
    layer: int
    python: bool
    noarch: bool
    versions: list[str]
    deps: list[str] = field(default_factory=list)


def _names(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    out = []
    prefixes = ("", "", "", "lib", "py", "r-", "")
    while len(out) < count:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        name = rng.choice(prefixes) + word
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def _versions(rng: random.Random, count: int) -> list[str]:
    major, minor, patch = rng.randint(0, 3), rng.randint(0, 9), 0
    out = []
    for _ in range(count):
        out.append(f"{major}.{minor}.{patch}")
        step = rng.random()
        if step < 0.1:
            major, minor, patch = major + 1, 0, 0
        elif step < 0.5:
            minor, patch = minor + 1, 0
        else:
            patch += 1
    return out


def _plan(rng: random.Random, records: int, names: int) -> list[Package]:
    """Names, layers, versions and dependency names; sized so each platform has ~``records``."""
    words = _names(rng, names)
    per_name = records / names
    packages = [
        Package(RUNTIME_NAME, 0, False, False, _versions(rng, 12)) for RUNTIME_NAME in sorted(set(RUNTIME.values()))
    ]
    packages.append(Package("python", 1, False, False, [f"{p}.{i}" for p in PYTHONS for i in range(8)]))
    packages.append(Package("numpo", 2, True, False, _versions(rng, 30)))
    layers = (0.03, 0.12, 0.30, 0.35, 0.20)  # share of names per layer 0..4
    bounds = [sum(layers[: i + 1]) for i in range(len(layers))]
    for i, word in enumerate(words[len(packages) :]):
        layer = next(k for k, b in enumerate(bounds) if i / names < b)
        python = layer >= 2 and rng.random() < 0.55
        noarch = python and rng.random() < 0.18
        variants = 1 if noarch else (len(PYTHONS) if python else 1.5)
        count = max(1, round(rng.lognormvariate(math.log(per_name / variants) - 0.5, 1.0)))
        packages.append(Package(word, layer, python, noarch, _versions(rng, min(count, 400))))
    by_layer: dict[int, list[Package]] = {}
    for p in packages:
        by_layer.setdefault(p.layer, []).append(p)
    for p in packages:
        lower = [q for layer, qs in by_layer.items() if layer < p.layer for q in qs if not q.noarch or p.noarch]
        if not lower:
            continue
        weights = [1.0 / (1 + k) ** 1.1 for k in range(len(lower))]  # Zipf: early names are popular
        wanted = min(len(lower), rng.choice((0, 1, 2, 2, 3, 3, 4, 5, 6)))
        p.deps = sorted({q.name for q in rng.choices(lower, weights=weights, k=wanted)} - {"python", p.name})
    return packages


def _dep_spec(rng: random.Random, dep: Package, newest: bool) -> str:
    vs = dep.versions
    if newest or len(vs) < 3:
        low = vs[rng.randrange(max(1, len(vs) // 2), len(vs))] if len(vs) > 1 else vs[0]
        major = int(vs[-1].split(".")[0])
        return f"{dep.name} >={low},<{major + 1}.0a0"
    lo = rng.randrange(0, len(vs) - 2)
    hi = rng.randrange(lo + 1, len(vs) - 1)
    return f"{dep.name} >={vs[lo]},<{vs[hi]}"


def _records(
    rng: random.Random, p: Package, subdir: str, index: dict[str, Package]
) -> Iterator[tuple[str, dict[str, Any]]]:
    base_ts = 1_600_000_000_000
    for vi, version in enumerate(p.versions):
        newest = vi >= (len(p.versions) - 1) * 0.6  # the last version is always "newest"
        deps = [_dep_spec(rng, index[d], newest) for d in p.deps]
        if not p.noarch and p.layer <= 2 and p.name not in RUNTIME.values():
            deps.append(f"{RUNTIME[subdir]} >={index[RUNTIME[subdir]].versions[0]}")
            if subdir == "linux-64" and rng.random() < 0.3:
                deps.append("__glibc >=2.17,<3.0.a0")
        pythons: tuple[str | None, ...] = (None,)
        if p.noarch:
            pythons = ("noarch",)
        elif p.python:
            pythons = PYTHONS
        elif p.name not in RUNTIME.values() and p.name != "python" and rng.random() < 0.5:
            pythons = (None, None)
        for k, py in enumerate(pythons):
            build_number = rng.choice((0, 0, 0, 1, 2))
            extra = list(deps)
            if py == "noarch":
                build, extra = f"pyhd8ed1ab_{build_number}", [*extra, "python >=3.10"]
            elif py is not None:
                nodot = py.replace(".", "")
                minor = int(py.split(".")[1])
                build = f"py{nodot}h{_hex(p.name, version, py)[:8]}_{build_number}"
                extra.append(f"python >={py},<3.{minor + 1}.0a0")
            else:
                build = f"h{_hex(p.name, version, str(k))[:8]}_{build_number}"
            file_name = f"{p.name}-{version}-{build}" + (".tar.bz2" if rng.random() < 0.1 else ".conda")
            digest = hashlib.sha256(f"{subdir}/{file_name}".encode()).hexdigest()
            record: dict[str, Any] = {
                "build": build,
                "build_number": build_number,
                "depends": extra,
                "license": rng.choice(LICENSES),
                "md5": digest[:32],
                "name": p.name,
                "sha256": digest,
                "size": rng.randint(4_000, 60_000_000),
                "subdir": subdir,
                "timestamp": base_ts + vi * 86_400_000 + rng.randint(0, 86_400_000),
                "version": version,
            }
            if py == "noarch":
                record["noarch"] = "python"
            if rng.random() < 0.1 and p.deps:
                record["constrains"] = [f"{p.deps[0]}-extra >=1"]
            yield file_name, record


def _hex(*parts: str) -> str:
    return hashlib.md5("/".join(parts).encode()).hexdigest()


def _environment(rng: random.Random, packages: list[Package]) -> list[str]:
    top = [p for p in packages if p.layer >= 3 and len(p.versions) >= 2]
    chosen = rng.sample(top, 39)
    specs = ["python=3.12"]
    for p in chosen:
        form = rng.random()
        if form < 0.4:
            specs.append(p.name)
        elif form < 0.8:
            specs.append(f"{p.name}>={p.versions[len(p.versions) // 2]}")
        else:
            specs.append(f"{p.name}>={p.versions[0]},<={p.versions[-1]}")
    return specs


def generate(root: Path | str, records: int = 600_000, names: int = 30_000, seed: int = 7) -> dict[str, Any]:
    """Write the channel under ``root`` (skipped when a finished one with the same parameters is there)."""
    root = Path(root)
    params = {"version": VERSION, "records": records, "names": names, "seed": seed}
    done = root / "DONE.json"
    if done.is_file() and json.loads(done.read_text()).get("params") == params:
        return dict(json.loads(done.read_text()))
    started = time.perf_counter()
    rng = random.Random(seed)
    packages = _plan(rng, records, names)
    index = {p.name: p for p in packages}
    counts: dict[str, int] = {}
    compressor = zstandard.ZstdCompressor(level=3, threads=-1)
    for subdir in (*PLATFORMS, "noarch"):
        sub_rng = random.Random(f"{seed}-{subdir}")
        repodata: dict[str, Any] = {
            "info": {"subdir": subdir},
            "packages": {},
            "packages.conda": {},
            "repodata_version": 1,
        }
        shards = []
        for p in packages:
            if p.noarch != (subdir == "noarch"):
                continue
            shard: dict[str, dict[str, Any]] = {"packages": {}, "packages.conda": {}}
            for file_name, record in _records(sub_rng, p, subdir, index):
                key = "packages.conda" if file_name.endswith(".conda") else "packages"
                repodata[key][file_name] = record
                shard[key][file_name] = {
                    **record,
                    "md5": bytes.fromhex(record["md5"]),
                    "sha256": bytes.fromhex(record["sha256"]),
                }
            shards.append((p.name, shard))
        target = root / "scale" / subdir
        target.mkdir(parents=True, exist_ok=True)
        blob = json.dumps(repodata, separators=(",", ":"), sort_keys=True).encode()
        (target / "repodata.json.zst").write_bytes(compressor.compress(blob))
        write_shard_set(shards, subdir, root / "sharded" / "scale" / subdir)
        counts[subdir] = len(repodata["packages"]) + len(repodata["packages.conda"])
        counts[f"{subdir} names"] = len(shards)
        counts[f"{subdir} json bytes"] = len(blob)
        del repodata, shards, blob
    specs = _environment(rng, packages)
    env = "name: scale\nchannels:\n  - scale\ndependencies:\n" + "".join(f"  - {s}\n" for s in specs)
    (root / "environment.yml").write_text(env)
    info = {"params": params, "counts": counts, "specs": specs, "seconds": round(time.perf_counter() - started, 1)}
    done.write_text(json.dumps(info, indent=1))
    return info
