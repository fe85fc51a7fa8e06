"""The Qualiopi referential (versioned data), declarative rules, coverage and snapshots."""

from __future__ import annotations

from preuve.mapping.evaluate import evaluate
from preuve.mapping.referential import (
    ReferentialError,
    available_referentials,
    select_referential,
    shipped_referentials,
)
from preuve.mapping.result import CoverageResult, IndicatorCoverage, Status
from preuve.mapping.rules import RulesError, validate_overrides
from preuve.mapping.snapshot import evaluate_and_snapshot

__all__ = [
    "CoverageResult",
    "IndicatorCoverage",
    "ReferentialError",
    "RulesError",
    "Status",
    "available_referentials",
    "evaluate",
    "evaluate_and_snapshot",
    "select_referential",
    "shipped_referentials",
    "validate_overrides",
]
