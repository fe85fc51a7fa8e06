"""The evidence model shared by connectors, the store, the mapping and the web app."""

from preuve.evidence.identity import Pseudonymiser
from preuve.evidence.model import (
    EVIDENCE_KINDS,
    EvidenceData,
    EvidenceRecord,
    PartialDate,
    Provenance,
    Withdrawal,
)

__all__ = [
    "EVIDENCE_KINDS",
    "EvidenceData",
    "EvidenceRecord",
    "PartialDate",
    "Provenance",
    "Pseudonymiser",
    "Withdrawal",
]
