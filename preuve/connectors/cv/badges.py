"""Open Badges assertions as continuing-development evidence.

- Open Badges 2.0: an ``Assertion`` (JSON-LD, ``@context`` .../openbadges/v2) with a
  ``recipient`` that is often a salted hash (``sha256$<hex>`` or ``md5$<hex>`` of the
  e-mail followed by the salt) and a ``badge`` that is either an embedded
  ``BadgeClass`` or its URL. Hosted badge classes are not fetched: the URL then
  stands as the title and the entry is flagged for review.
- Open Badges 3.0: a Verifiable Credential of type ``OpenBadgeCredential``; the
  recipient is ``credentialSubject.identifier[]`` (hashed or not) or an id such as
  a DID; the date is ``validFrom`` (``issuanceDate`` in VC 1.1-era credentials,
  ``awardedDate`` when given).

Other Open Badges documents (BadgeClass, Issuer, Evidence, keys...) carry no
recipient and are refused with that reason.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from preuve.connectors.cv.constants import FORMAT_OPEN_BADGES_2, FORMAT_OPEN_BADGES_3
from preuve.connectors.cv.dates import parse_partial
from preuve.connectors.cv.document import BadgeRecipient, CvFormatError, Development, ParsedDocument
from preuve.connectors.cv.textutil import one_line
from preuve.evidence.identity import normalise_email
from preuve.i18n import Text

OB2_CONTEXT = "openbadges/v2"
OB3_CONTEXT = "ob/v3p0"

MSG_NOT_ASSERTION = Text(
    fr="document Open Badges de type « {type} » : seule une assertion (badge attribué à une "
    "personne) est une preuve ; ce document n'a pas de destinataire",
    en="Open Badges document of type '{type}': only an assertion (a badge awarded to a "
    "person) is evidence; this document has no recipient",
)
MSG_NO_RECIPIENT = Text(
    fr="assertion Open Badges sans destinataire (recipient)",
    en="Open Badges assertion without a recipient",
)
MSG_NO_NAME = Text(
    fr="badge sans nom (achievement.name)", en="badge without a name (achievement.name)"
)
MSG_BAD_HASH = Text(
    fr="empreinte du destinataire illisible (attendu sha256$… ou md5$…, reçu {kind})",
    en="unreadable recipient hash (expected sha256$… or md5$…, got {kind})",
)


def _types(value: dict[str, Any]) -> list[str]:
    raw = value.get("type", value.get("@type"))
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list):
        return [str(t) for t in raw]
    return []


def _contexts(value: dict[str, Any]) -> str:
    raw = value.get("@context")
    items = raw if isinstance(raw, list) else [raw]
    return " ".join(str(item) for item in items if isinstance(item, str))


def looks_like_badge(value: dict[str, Any]) -> bool:
    contexts = _contexts(value)
    return (
        OB2_CONTEXT in contexts or OB3_CONTEXT in contexts or "OpenBadgeCredential" in _types(value)
    )


def _name(value: Any) -> str | None:
    if isinstance(value, dict):
        return one_line(value.get("name")) if isinstance(value.get("name"), str) else None
    return None


def _recipient(raw: Any) -> BadgeRecipient | None:
    if not isinstance(raw, dict):
        return None
    identity = raw.get("identity", raw.get("identityHash"))
    if not isinstance(identity, str) or not identity.strip():
        return None
    # OB 3.0 IdentityObject: "type" is the object's type, "identityType" the identity's.
    kind = str(raw.get("identityType") or raw.get("type") or "email")
    salt = raw.get("salt")
    return BadgeRecipient(
        identity=identity.strip(),
        hashed=bool(raw.get("hashed", False)),
        salt=salt if isinstance(salt, str) else None,
        type="email" if kind.lower() in {"email", "emailaddress"} else kind,
    )


def _ob2(value: dict[str, Any]) -> ParsedDocument:
    recipient = _recipient(value.get("recipient"))
    if recipient is None:
        raise CvFormatError(MSG_NO_RECIPIENT(), code="no_recipient")
    badge = value.get("badge")
    title, provider, review = _name(badge), None, False
    if isinstance(badge, dict):
        issuer = badge.get("issuer")
        provider = _name(issuer)
    elif isinstance(badge, str) and badge.strip():
        # Hosted badge class: not fetched (no network from a file connector).
        title, review = badge.strip(), True
    if not title:
        raise CvFormatError(MSG_NO_NAME(), code="no_name")
    return ParsedDocument(
        format=FORMAT_OPEN_BADGES_2,
        is_cv=False,
        recipient=recipient,
        developments=[
            Development(
                title=title,
                provider=provider,
                completed=parse_partial(value.get("issuedOn")),
                needs_review=review,
            )
        ],
    )


def _ob3(value: dict[str, Any]) -> ParsedDocument:
    subject = value.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    if not isinstance(subject, dict):
        raise CvFormatError(MSG_NO_RECIPIENT(), code="no_recipient")
    recipient = None
    identifiers = subject.get("identifier")
    for item in identifiers if isinstance(identifiers, list) else [identifiers]:
        recipient = _recipient(item)
        if recipient is not None:
            break
    if recipient is None and isinstance(subject.get("id"), str):
        subject_id = subject["id"].strip()
        kind = "email" if subject_id.lower().startswith("mailto:") else "id"
        recipient = BadgeRecipient(identity=subject_id, hashed=False, type=kind)
    if recipient is None:
        raise CvFormatError(MSG_NO_RECIPIENT(), code="no_recipient")
    achievement = subject.get("achievement")
    title = _name(achievement) or _name(value)
    if not title:
        raise CvFormatError(MSG_NO_NAME(), code="no_name")
    completed = (
        parse_partial(subject.get("awardedDate"))
        or parse_partial(value.get("awardedDate"))
        or parse_partial(value.get("validFrom"))
        or parse_partial(value.get("issuanceDate"))
    )
    return ParsedDocument(
        format=FORMAT_OPEN_BADGES_3,
        is_cv=False,
        recipient=recipient,
        developments=[
            Development(title=title, provider=_name(value.get("issuer")), completed=completed)
        ],
    )


def parse_badge(value: dict[str, Any]) -> ParsedDocument:
    """Read an Open Badges 2.0 assertion or 3.0 credential."""
    types = _types(value)
    if "OpenBadgeCredential" in types or "AchievementCredential" in types:
        return _ob3(value)
    if "Assertion" in types:
        return _ob2(value)
    raise CvFormatError(MSG_NOT_ASSERTION(type=", ".join(types) or "-"), code="not_an_assertion")


def recipient_matches(recipient: BadgeRecipient, email: str) -> bool:
    """Whether the badge was awarded to this e-mail address.

    A hashed identity is ``<algorithm>$<hex>`` of the normalised address followed
    by the salt; the comparison of the hex is case-insensitive and constant-time.
    """
    address = normalise_email(email)
    if recipient.type != "email":
        return False
    if not recipient.hashed:
        return normalise_email(recipient.identity) == address
    algorithm, sep, expected = recipient.identity.partition("$")
    algorithm = algorithm.lower()
    if not sep or algorithm not in {"sha256", "md5"} or not expected:
        # The identity itself is not repeated: it may be a plain address marked as hashed.
        kind = f"{algorithm[:12]}$…" if sep and algorithm.isalnum() else "?"
        raise CvFormatError(MSG_BAD_HASH(kind=kind), code="bad_hash")
    salted = (address + (recipient.salt or "")).encode("utf-8")
    digest = hashlib.new(algorithm, salted, usedforsecurity=False).hexdigest()
    return hmac.compare_digest(digest, expected.strip().lower())
