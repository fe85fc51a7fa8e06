"""Helpers for benchmarks: timing, peak memory, and a printed table.

Benchmarks print their figures; they are never timed tests. Peak memory is the
Python heap peak (tracemalloc) of one phase, plus the process's max RSS.
"""

from __future__ import annotations

import resource
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Measure:
    seconds: float = 0.0
    peak_heap_mb: float = 0.0
    max_rss_mb: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@contextmanager
def measure(trace_memory: bool = True) -> Iterator[Measure]:
    """Wall time and peak Python heap of the block (tracemalloc slows it down a little)."""
    result = Measure()
    if trace_memory:
        tracemalloc.start()
        tracemalloc.reset_peak()
    start = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - start
        if trace_memory:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            result.peak_heap_mb = peak / 1e6
        result.max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = await call()
    return time.perf_counter() - start, value


def print_table(title: str, headers: list[str], rows: list[list[Any]]) -> None:
    """A plain-text table on stdout."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
