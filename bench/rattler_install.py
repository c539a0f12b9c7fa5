"""The floor for ``lockgen install``: py-rattler's own ``rattler.install`` of the same records.

Reads the ``@EXPLICIT`` lock bench/installgen.py wrote, finds each package's record in the
channel's repodata with rattler's Gateway (as lockgen does), and installs them into PREFIX with
rattler's package cache under CACHE (no link scripts, no progress bar). Usage (bench/run.py builds
the arguments)::

    python bench/rattler_install.py --lock L --channel URL --cache-dir C --prefix P
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path


async def _main(args: argparse.Namespace) -> None:
    from rattler import Gateway, Platform, install

    wanted = {}
    for line in args.lock.read_text().splitlines():
        if line.startswith(("http://", "https://")):
            url = line.split("#", 1)[0]
            wanted[url.rsplit("/", 1)[1]] = url
    names = sorted({name.rsplit("-", 2)[0] for name in wanted})
    gateway = Gateway(cache_dir=args.cache_dir / "repodata")
    found = await gateway.query([args.channel], [Platform("linux-64"), Platform("noarch")], names, recursive=False)
    records = [r for group in found for r in group if r.file_name in wanted]
    if len(records) != len(wanted):
        sys.exit(f"found {len(records)} of {len(wanted)} records")
    await install(records, args.prefix, cache_dir=args.cache_dir / "pkgs", execute_link_scripts=False,
                  show_progress=False)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lock", type=Path, required=True)
    parser.add_argument("--channel", required=True)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--prefix", type=Path, required=True)
    asyncio.run(_main(parser.parse_args()))
    sys.stdout.flush()
    os._exit(0)  # like lockgen: skip interpreter teardown after rattler ran


if __name__ == "__main__":
    main()
