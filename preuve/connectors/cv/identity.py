"""Which trainer a document belongs to.

In order: the e-mail configured for the file (``options.email`` or
``options.trainers``), else the e-mail written in the document (a structured CV's
contact e-mail, the only address in a PDF, an Open Badge's plain recipient), else
``options.person_ref``. A hashed badge recipient is verified against the
configured e-mail, or, when the file is not mapped, against every configured
trainer e-mail. The person key is the tenant's pseudonymous key of the e-mail, so
it matches the Moodle user with the same address.
"""

from __future__ import annotations

from dataclasses import dataclass

from preuve.connectors.cv.badges import recipient_matches
from preuve.connectors.cv.constants import FORMAT_PDF
from preuve.connectors.cv.document import CvFormatError, ParsedDocument
from preuve.connectors.cv.options import CvOptions
from preuve.evidence.identity import Pseudonymiser, normalise_email
from preuve.i18n import Text

MSG_NO_OWNER = Text(
    fr="formateur inconnu : aucun e-mail dans le document et aucune correspondance "
    "(options.trainers : nom du fichier -> e-mail)",
    en="unknown trainer: no e-mail in the document and no mapping "
    "(options.trainers: file name -> e-mail)",
)
MSG_SEVERAL_EMAILS = Text(
    fr="formateur incertain : le PDF contient {count} adresses e-mail ; associez le fichier "
    "au formateur dans options.trainers",
    en="uncertain trainer: the PDF holds {count} e-mail addresses; map the file to the "
    "trainer in options.trainers",
)
MSG_BADGE_MISMATCH = Text(
    fr="le destinataire du badge ({how}) ne correspond pas à l'e-mail du formateur associé "
    "au fichier",
    en="the badge recipient ({how}) does not match the e-mail of the trainer the file is mapped to",
)
MSG_BADGE_NO_MATCH = Text(
    fr="le destinataire du badge ({how}) ne correspond à aucun e-mail de formateur configuré "
    "(options.trainers)",
    en="the badge recipient ({how}) matches no configured trainer e-mail (options.trainers)",
)
MSG_BADGE_UNVERIFIABLE = Text(
    fr="badge au destinataire chiffré (empreinte) : l'e-mail du formateur est nécessaire pour "
    "le vérifier",
    en="badge with a hashed recipient: the trainer's e-mail is needed to verify it",
)
MSG_BADGE_ID = Text(
    fr="le destinataire du badge est un identifiant « {kind} » : associez le fichier au "
    "formateur dans options.trainers",
    en="the badge recipient is a '{kind}' identifier: map the file to the trainer in "
    "options.trainers",
)


@dataclass(frozen=True, slots=True)
class Owner:
    person_ref: str
    verified_by: str  # "mapping", "document", "badge-hash", "badge-email", "person_ref"


def _describe(doc: ParsedDocument) -> str:
    recipient = doc.recipient
    assert recipient is not None
    if recipient.hashed:
        return recipient.identity.partition("$")[0] + "$…"
    return recipient.type


def _badge_owner(
    doc: ParsedDocument,
    configured: str | None,
    options: CvOptions,
    key: Pseudonymiser,
    source: str,
) -> Owner:
    recipient = doc.recipient
    assert recipient is not None
    if recipient.type != "email":
        if configured:
            return Owner(key.person_key(source=source, email=configured), "mapping")
        if options.person_ref:
            return Owner(options.person_ref, "person_ref")
        raise CvFormatError(MSG_BADGE_ID(kind=recipient.type), code="unknown_trainer")
    if configured:
        if not recipient_matches(recipient, configured):
            raise CvFormatError(MSG_BADGE_MISMATCH(how=_describe(doc)), code="badge_mismatch")
        how = "badge-hash" if recipient.hashed else "badge-email"
        return Owner(key.person_key(source=source, email=configured), how)
    if not recipient.hashed:
        return Owner(
            key.person_key(source=source, email=normalise_email(recipient.identity)),
            "badge-email",
        )
    candidates = dict.fromkeys(options.trainers.values())
    if not candidates and options.person_ref:
        raise CvFormatError(MSG_BADGE_UNVERIFIABLE(), code="unknown_trainer")
    for email in candidates:
        if recipient_matches(recipient, email):
            return Owner(key.person_key(source=source, email=email), "badge-hash")
    raise CvFormatError(MSG_BADGE_NO_MATCH(how=_describe(doc)), code="unknown_trainer")


def resolve_owner(
    doc: ParsedDocument,
    *,
    configured: str | None,
    options: CvOptions,
    pseudonymiser: Pseudonymiser,
    source: str,
) -> Owner:
    """The trainer a document belongs to; CvFormatError (a reason) when it cannot be told."""
    if doc.recipient is not None:
        return _badge_owner(doc, configured, options, pseudonymiser, source)
    if configured:
        return Owner(pseudonymiser.person_key(source=source, email=configured), "mapping")
    if doc.format == FORMAT_PDF and len(doc.emails) > 1:
        raise CvFormatError(MSG_SEVERAL_EMAILS(count=len(doc.emails)), code="unknown_trainer")
    if doc.emails:
        return Owner(pseudonymiser.person_key(source=source, email=doc.emails[0]), "document")
    if options.person_ref:
        return Owner(options.person_ref, "person_ref")
    raise CvFormatError(MSG_NO_OWNER(), code="unknown_trainer")
