"""Europass CVs: legacy XML v1.x/v2.0 (``learnerinfo``), XML v3.x (``SkillsPassport``)
and the v3 JSON form.

The three share one extractor over :mod:`preuve.connectors.cv.tree` (lower-case
local names), since namespaces and case changed between generations. Dates are
split parts (``<From year="2002" month="--08"/>``, ``{"Year": 2002, "Month": 8}``)
and stay as precise as written. Identification keeps the name and the e-mail
(to name the trainer); address, phone, birth date, photo and attachments are
never read.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from preuve.connectors.cv.constants import FORMAT_EUROPASS_JSON, FORMAT_EUROPASS_XML
from preuve.connectors.cv.dates import parse_partial, partial_date
from preuve.connectors.cv.document import (
    CvFormatError,
    Development,
    Experience,
    ParsedDocument,
    Qualification,
)
from preuve.connectors.cv.freetext import development_from, qualification_from, read_line
from preuve.connectors.cv.textutil import one_line, plain_lines
from preuve.connectors.cv.tree import Node, from_json, from_xml
from preuve.connectors.scorm.xmlsafe import parser_options
from preuve.evidence.model import PartialDate
from preuve.i18n import Text

MSG_XML_SYNTAX = Text(
    fr="XML invalide, ligne {line} : {error}", en="invalid XML, line {line}: {error}"
)
MSG_NOT_EUROPASS = Text(
    fr="élément racine « {root} » : ce n'est pas un CV Europass",
    en="root element '{root}': not a Europass CV",
)
MSG_CANDIDATE = Text(
    fr="CV Europass 2020 (élément Candidate, HR-XML) : format non pris en charge ; "
    "exportez le CV en PDF Europass ou en JSON Resume",
    en="Europass 2020 CV (Candidate element, HR-XML): format not supported; "
    "export the CV as a Europass PDF or as JSON Resume",
)
MSG_VERSION = Text(
    fr="version de schéma Europass « {version} » inconnue (attendu V1.x, V2.x ou V3.x)",
    en="unknown Europass schema version '{version}' (expected V1.x, V2.x or V3.x)",
)
MSG_NO_LEARNER = Text(
    fr="CV Europass sans élément LearnerInfo", en="Europass CV without a LearnerInfo element"
)

_LEGACY_VERSION = re.compile(r"^V?[12](\.\d+)*$", re.IGNORECASE)
_V3_VERSION = re.compile(r"^V?3(\.\d+)*$", re.IGNORECASE)


def parse_xml_bytes(data: bytes) -> etree._Element:
    """Parse untrusted XML: no entities, no DTD, no network, no huge trees.

    The hardened options are the ones every uploaded XML gets (one definition,
    shared with the SCORM readers).
    """
    parser = etree.XMLParser(**parser_options())
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise CvFormatError(
            MSG_XML_SYNTAX(line=exc.lineno or "?", error=exc.msg), code="invalid_xml"
        ) from exc


def _date(node: Node | None) -> PartialDate | None:
    if node is None:
        return None
    found = partial_date(node.value("year"), node.value("month"), node.value("day"))
    return found or parse_partial(node.value())


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"true", "1", "yes"}


def _label(node: Node, *path: str) -> str | None:
    """A code/label pair read as its label (the code when no label is given)."""
    return one_line(node.value(*path, "label") or node.value(*path, "code") or node.value(*path))


def _level(node: Node) -> str | None:
    label = node.value("level", "label")
    if label:
        return one_line(label)
    code = node.value("level", "code")
    if code:
        return f"EQF {code}" if code.isdigit() else code
    return one_line(node.value("level"))


def _experiences(learner: Node) -> list[Experience]:
    found = []
    for item in learner.items("workexperience"):
        title = _label(item, "position")
        if not title:
            continue
        sector = _label(item, "employer", "sector")
        found.append(
            Experience(
                title=title,
                employer=one_line(item.value("employer", "name")),
                start=_date(item.first("period", "from")),
                end=_date(item.first("period", "to")),
                current=_true(item.value("period", "current")),
                domains=(sector,) if sector else (),
            )
        )
    return found


def _education(learner: Node) -> list[Qualification]:
    found = []
    for item in learner.items("education"):
        title = one_line(item.value("title"))
        if not title:
            continue
        field = _label(item, "field")
        ongoing = _true(item.value("period", "current"))
        found.append(
            Qualification(
                title=title,
                level=_level(item),
                issuer=one_line(item.value("organisation", "name")),
                # Still studying: nothing obtained yet, so no date is made up.
                obtained=None if ongoing else _date(item.first("period", "to")),
                domains=(field,) if field else (),
            )
        )
    return found


def _certificates(learner: Node) -> list[Qualification]:
    found: list[Qualification] = []
    skills = learner.first("skills")
    if skills is None:
        return found
    holders: list[tuple[str | None, Node]] = []
    linguistic = skills.first("linguistic")
    if linguistic is not None:
        for language in linguistic.items("foreignlanguage"):
            holders.append((_label(language, "description"), language))
    for name, nodes in skills.children.items():
        if name != "linguistic":
            holders.extend((None, node) for node in nodes)
    for domain, holder in holders:
        for cert in holder.all("verifiedby", "certificate"):
            title = one_line(cert.value("title"))
            if not title:
                continue
            found.append(
                Qualification(
                    title=title,
                    level=one_line(cert.value("level")),
                    issuer=one_line(cert.value("awardingbody")),
                    obtained=_date(cert.first("date")),
                    domains=(domain,) if domain else (),
                )
            )
    return found


def _achievements(learner: Node, doc: ParsedDocument) -> None:
    """Courses and certifications listed as undated free text (the Europass trap).

    Each line becomes an entry; a date written in the text is used but flagged
    for review, and an entry without one stays undated.
    """
    for item in learner.items("achievement"):
        code = (item.value("title", "code") or "").lower()
        if code not in {"courses", "certifications"}:
            continue
        for line in plain_lines(item.value("description")):
            facts = read_line(line)
            if facts is None:
                continue
            guessed = bool(facts.dates or facts.hours or facts.organisation)
            if code == "courses":
                entry = development_from(facts)
                doc.developments.append(
                    Development(
                        title=entry.title,
                        provider=entry.provider,
                        completed=entry.completed,
                        hours=entry.hours,
                        needs_review=guessed,
                    )
                )
            else:
                qual = qualification_from(facts)
                doc.qualifications.append(
                    Qualification(
                        title=qual.title,
                        level=qual.level,
                        issuer=qual.issuer,
                        obtained=qual.obtained,
                        needs_review=guessed,
                    )
                )


def _fill(doc: ParsedDocument, identification: Node | None, learner: Node) -> ParsedDocument:
    if identification is not None:
        first = identification.value("personname", "firstname") or identification.value("firstname")
        last = identification.value("personname", "surname") or identification.value("lastname")
        name = " ".join(part for part in (first, last) if part)
        doc.display_name = one_line(name)
        emails = [
            e.strip().lower()
            for e in (
                identification.value("contactinfo", "email", "contact"),
                identification.value("contactinfo", "email"),
            )
            if e and "@" in e
        ]
        doc.emails = tuple(dict.fromkeys(emails))
    doc.experiences.extend(_experiences(learner))
    doc.qualifications.extend(_education(learner))
    doc.qualifications.extend(_certificates(learner))
    _achievements(learner, doc)
    return doc


def _from_v3(root: Node, fmt: str) -> ParsedDocument:
    info = root.first("documentinfo")
    version = (info.value("xsdversion") if info else None) or "V3"
    if not _V3_VERSION.match(version):
        raise CvFormatError(MSG_VERSION(version=version), code="unsupported_version")
    learner = root.first("learnerinfo")
    if learner is None:
        raise CvFormatError(MSG_NO_LEARNER(), code="not_a_cv")
    updated = None
    if info is not None:
        updated = parse_partial(info.value("lastupdatedate")) or parse_partial(
            info.value("creationdate")
        )
    doc = ParsedDocument(format=fmt, updated=updated)
    return _fill(doc, learner.first("identification"), learner)


def _from_legacy(root: Node) -> ParsedDocument:
    version = root.value("docinfo", "xsdversion") or "V2.0"
    if not _LEGACY_VERSION.match(version):
        raise CvFormatError(MSG_VERSION(version=version), code="unsupported_version")
    doc = ParsedDocument(
        format=FORMAT_EUROPASS_XML, updated=parse_partial(root.value("docinfo", "issuedate"))
    )
    return _fill(doc, root.first("identification"), root)


def parse_europass_xml(data: bytes) -> ParsedDocument:
    """Read a Europass CV in XML (v1.x, v2.0 or v3.x)."""
    element = parse_xml_bytes(data)
    return europass_from_element(element)


def europass_from_element(element: etree._Element) -> ParsedDocument:
    root_name = etree.QName(element).localname
    lowered = root_name.lower()
    if lowered == "skillspassport":
        return _from_v3(from_xml(element), FORMAT_EUROPASS_XML)
    if lowered == "learnerinfo":
        return _from_legacy(from_xml(element))
    if lowered == "candidate":
        raise CvFormatError(MSG_CANDIDATE(), code="unsupported_format")
    raise CvFormatError(MSG_NOT_EUROPASS(root=root_name), code="not_a_cv")


def parse_europass_json(value: dict[str, Any]) -> ParsedDocument:
    """Read a Europass v3 CV in JSON (``{"SkillsPassport": {...}}``)."""
    passport = value.get("SkillsPassport", value)
    root = from_json(passport)
    return _from_v3(root, FORMAT_EUROPASS_JSON)
