"""Run the Moodle stand-in on its own: ``python -m preuve.testing.moodle --port 8765``.

Prints its URL and token, then serves until interrupted. Benchmarks run it in a
separate process, like a real Moodle on another machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
from typing import IO

from preuve.testing.moodle.faults import Faults
from preuve.testing.moodle.generator import SiteSpec
from preuve.testing.moodle.server import start_stand_in


async def serve(args: argparse.Namespace, log: IO[bytes] | None) -> None:
    spec = SiteSpec(
        courses=args.courses,
        learners_per_course=args.learners,
        sessions_per_course=args.sessions,
        graded_per_course=args.graded,
        spread_days=args.spread_days,
    )
    stand_in = await start_stand_in(spec, Faults(latency=args.latency), port=args.port)
    stand_in.request_log = log
    print(f"{stand_in.url} {stand_in.token}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await stand_in.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Moodle stand-in")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--courses", type=int, default=6)
    parser.add_argument("--learners", type=int, default=12)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--graded", type=int, default=4)
    parser.add_argument("--spread-days", type=int, default=120)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--log", help="file receiving one JSON line per request")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(Path(args.log).open("wb")) if args.log else None
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args, log))


if __name__ == "__main__":
    main()
