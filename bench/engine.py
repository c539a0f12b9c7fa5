"""The bare engine: what lockgen's conda side costs at least, in one process.

One rattler Gateway, one ``solve`` per platform run concurrently (asyncio.gather), each result
written as an ``@EXPLICIT`` file of ``url#md5`` lines. No spec parsing, no hashing of inputs, no
ordering, no pip. With ``--one-at-a-time`` the platforms are solved in turn and each one's subdir is
dropped from the Gateway before the next: the least memory rattler needs for flat repodata, which
is what lockgen's ``--jobs auto`` does when repodata is large. Like lockgen's command line, it keeps
its Gateway until ``os._exit``: dropping one frees every subdir it loaded (20-30 ms of the main
thread on the dl environment), work a process that leaves through ``os._exit`` need not do
(docs/performance.md, "Round 7: the warm sharded lock"). Usage (bench/run.py builds the arguments)::

    python bench/engine.py --cache-dir C --out-dir O --channel URL [--channel URL ...] \
        --spec 'python=3.11' ... --platform linux-64 --virtual linux-64:__glibc=2.17=0 ... \
        [--one-at-a-time]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--channel", action="append", required=True)
    parser.add_argument("--spec", action="append", required=True)
    parser.add_argument("--platform", action="append", required=True)
    parser.add_argument("--virtual", action="append", default=[], help="PLATFORM:NAME=VERSION=BUILD")
    parser.add_argument("--one-at-a-time", action="store_true", help="solve in turn, releasing each subdir")
    return parser.parse_args(argv)


_KEPT: list[object] = []
"""The Gateway, kept until ``os._exit`` (lockgen's ``keep_gateways_until_exit``)."""


async def _main(args: argparse.Namespace) -> None:
    from rattler import BuildString, Gateway, GenericVirtualPackage, PackageName, Version, solve

    gateway = Gateway(cache_dir=args.cache_dir)
    _KEPT.append(gateway)

    def virtual(platform: str) -> list[GenericVirtualPackage]:
        found = []
        for text in args.virtual:
            target, _, rest = text.partition(":")
            if target == platform:
                name, version, build = rest.split("=")
                found.append(GenericVirtualPackage(PackageName(name), Version(version), BuildString(build)))
        return found

    async def one(platform: str) -> None:
        records = await solve(
            args.channel,
            args.spec,
            gateway=gateway,
            platforms=[platform, "noarch"],
            virtual_packages=virtual(platform),
            timestamp_policy="allow-missing",
        )
        lines = ["@EXPLICIT", *(f"{r.url}#{r.md5.hex() if r.md5 else ''}" for r in records)]
        (args.out_dir / f"{platform}.txt").write_text("\n".join(lines) + "\n")

    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.one_at_a_time:
        for platform in args.platform:
            await one(platform)
            for channel in args.channel:
                gateway.clear_repodata_cache(channel, [platform])
    else:
        await asyncio.gather(*(one(p) for p in args.platform))


def main() -> None:
    asyncio.run(_main(_args(sys.argv[1:])))
    sys.stdout.flush()
    os._exit(0)  # like lockgen: skip interpreter teardown after rattler ran


if __name__ == "__main__":
    main()
