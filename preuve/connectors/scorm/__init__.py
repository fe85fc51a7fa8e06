"""SCORM content packages and tracking exports as Qualiopi evidence.

Plain functions for other code (the Moodle connector, the CLI, the web app):

- :func:`parse_manifest` — ``imsmanifest.xml`` bytes to a :class:`ScormCourse`;
- :func:`read_package` — a zip or a folder, vetted, to a :class:`ScormPackage`;
- :func:`read_tracking_export` — a Moodle report / SCORM Cloud export to attempts;
- :func:`normalise_cmi` — SCORM 1.2/2004 CMI elements to a :class:`NormalisedAttempt`;
- :func:`parse_duration` — ISO 8601 / CMITimespan to seconds (zero = not set).
"""

from __future__ import annotations

from preuve.connectors.scorm.cmi import (
    CompletionStatus,
    Interaction,
    NormalisedAttempt,
    ObjectiveResult,
    Score,
    SuccessStatus,
    normalise_cmi,
)
from preuve.connectors.scorm.connector import ScormConnector, ScormOptions, read_tracking_export
from preuve.connectors.scorm.durations import DurationError, parse_duration
from preuve.connectors.scorm.errors import ScormError, UnsafePackageError
from preuve.connectors.scorm.evidence import attempt_evidence, package_evidence
from preuve.connectors.scorm.manifest import ScormCourse, ScormItem, parse_manifest
from preuve.connectors.scorm.package import ScormPackage, read_package
from preuve.connectors.scorm.tracking import TrackedAttempt, TrackingProblem

__all__ = [
    "CompletionStatus",
    "DurationError",
    "Interaction",
    "NormalisedAttempt",
    "ObjectiveResult",
    "Score",
    "ScormConnector",
    "ScormCourse",
    "ScormError",
    "ScormItem",
    "ScormOptions",
    "ScormPackage",
    "SuccessStatus",
    "TrackedAttempt",
    "TrackingProblem",
    "UnsafePackageError",
    "attempt_evidence",
    "normalise_cmi",
    "package_evidence",
    "parse_duration",
    "parse_manifest",
    "read_package",
    "read_tracking_export",
]
