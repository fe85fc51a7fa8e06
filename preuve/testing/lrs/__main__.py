"""Run the LRS stand-in with a generated backlog (benchmarks, demo).

``python -m preuve.testing.lrs --count 200000 --voided 20 --port 0`` prints
``LISTENING <port>`` once it serves. ``--versions 1.0.3`` makes it a 1.0.x-only
LRS (``--versions ""``: none we speak), ``--no-about`` an LRS without /about.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp import web

from preuve.testing.lrs.generate import generate_statements
from preuve.testing.lrs.server import LrsStandIn


def load(lrs: LrsStandIn, count: int, voided: int, seed: int) -> list[str]:
    """``count`` statements stored over the past hours, then ``voided`` voidings."""
    start = datetime.now(UTC) - timedelta(hours=2)
    step = timedelta(milliseconds=20)
    ids = lrs.add_many(generate_statements(count, seed=seed), start=start, step=step)
    every = max(count // max(voided, 1), 1)
    targets = ids[::every][:voided]
    void_start = start + step * count
    for n, target in enumerate(targets):
        lrs.void(target, stored=void_start + step * n)
    return targets


async def serve(args: argparse.Namespace) -> None:
    lrs = LrsStandIn(
        page_limit=args.page_limit,
        consistent_lag=timedelta(seconds=1),
        versions=[v for v in args.versions.split(",") if v.strip()],
        serves_about=not args.no_about,
    )
    load(lrs, args.count, args.voided, args.seed)
    runner = web.AppRunner(lrs.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    await site.start()
    port = runner.addresses[0][1]
    print(f"LISTENING {port}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--voided", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--page-limit", type=int, default=500)
    parser.add_argument(
        "--versions", default="1.0.3,2.0.0", help="versions implemented, comma-separated"
    )
    parser.add_argument("--no-about", action="store_true", help="answer /about with 404")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
