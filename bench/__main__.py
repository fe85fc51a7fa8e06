"""Run every benchmark in turn: ``python -m bench [--quick]``.

Each benchmark is its own module (``python -m bench.store``...) and prints its
own table; this runner only calls them one after the other, so that they do not
compete for the machine.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

BENCHMARKS = ("store", "coverage", "moodle", "xapi", "scorm", "cv", "sync", "webhooks")


def main() -> int:
    args = sys.argv[1:]
    only = [a for a in args if not a.startswith("-")]
    flags = [a for a in args if a.startswith("-")]
    failures = 0
    for name in only or BENCHMARKS:
        if importlib.util.find_spec(f"bench.{name}") is None:
            print(f"\n== bench.{name}: not present, skipped")
            continue
        print(f"\n== bench.{name} {' '.join(flags)}", flush=True)
        code = subprocess.call([sys.executable, "-m", f"bench.{name}", *flags])
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
