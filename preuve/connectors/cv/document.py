"""What a parser makes of one trainer document, before it becomes evidence.

Parsers are plain functions returning a :class:`ParsedDocument`, or raising
:class:`CvFormatError` with a reason the admin can act on. Only the fields the
indicators 21 and 22 need are kept: no address, phone, birth date or photo.
E-mail addresses found in a document serve to name the trainer (pseudonymous
key) and are never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from preuve.evidence.model import PartialDate


class CvFormatError(ValueError):
    """A document that cannot be read; ``reason`` says why (in the user's language)."""

    def __init__(self, reason: str, *, code: str = "unreadable") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True, slots=True)
class Qualification:
    title: str
    level: str | None = None
    issuer: str | None = None
    obtained: PartialDate | None = None
    domains: tuple[str, ...] = ()
    needs_review: bool = False


@dataclass(frozen=True, slots=True)
class Experience:
    title: str
    employer: str | None = None
    start: PartialDate | None = None
    end: PartialDate | None = None
    current: bool = False
    years: float | None = None  # stated ("10 ans d'expérience"); else computed from dates
    domains: tuple[str, ...] = ()
    needs_review: bool = False


@dataclass(frozen=True, slots=True)
class Development:
    """A continuing-development entry (training followed, badge earned)."""

    title: str
    provider: str | None = None
    completed: PartialDate | None = None
    hours: float | None = None
    needs_review: bool = False


@dataclass(frozen=True, slots=True)
class BadgeRecipient:
    """The recipient of an Open Badge, possibly a salted hash of an e-mail."""

    identity: str
    hashed: bool
    salt: str | None = None
    type: str = "email"


@dataclass(slots=True)
class ParsedDocument:
    format: str
    is_cv: bool = True
    emails: tuple[str, ...] = ()
    display_name: str | None = None
    updated: PartialDate | None = None
    recipient: BadgeRecipient | None = None
    qualifications: list[Qualification] = field(default_factory=list)
    experiences: list[Experience] = field(default_factory=list)
    developments: list[Development] = field(default_factory=list)
