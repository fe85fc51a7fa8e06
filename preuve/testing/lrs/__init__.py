"""An LRS stand-in (xAPI Statement Resource) for tests, benchmarks and the demo."""

from __future__ import annotations

from preuve.testing.lrs.generate import generate_statements, voiding_statement
from preuve.testing.lrs.server import Fault, LrsStandIn

__all__ = ["Fault", "LrsStandIn", "generate_statements", "voiding_statement"]
