"""Parsers: every format, partial and missing dates, hashed badges, PDFs, privacy."""

from __future__ import annotations

import io

import orjson
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, NumberObject

from preuve.connectors.cv import (
    CvFormatError,
    parse_badge,
    parse_document,
    parse_europass_xml,
    parse_json_resume,
    parse_pdf,
    recipient_matches,
)
from preuve.connectors.cv.dates import parse_partial, partial_date, years_between
from preuve.connectors.cv.document import BadgeRecipient
from preuve.connectors.cv.freetext import read_line
from preuve.evidence.model import PartialDate
from tests.connectors.cv.builders import (
    europass_json,
    europass_v2_xml,
    europass_v3_xml,
    json_resume,
    ob2_assertion,
    ob3_credential,
    salted,
)
from tests.connectors.cv.pdfmaker import blank_pdf, make_pdf

EMAIL = "claire.martin@exemple.fr"


# --- dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019", "2019"),
        ("2019-05", "2019-05"),
        ("2019-05-20", "2019-05-20"),
        ("2012-03-01T00:00:00.000Z", "2012-03-01"),
        ("2013-03-13T19:13:14.265+02:00", "2013-03-13"),
        ("2019-02-30", "2019-02"),  # an impossible day is dropped, not moved
    ],
)
def test_partial_dates_keep_the_written_precision(text: str, expected: str) -> None:
    value = parse_partial(text)
    assert value is not None
    assert str(value) == expected


@pytest.mark.parametrize("text", ["", "juin 2012", "20/05/2019", None, 2019])
def test_unreadable_structured_dates_are_left_out(text: object) -> None:
    assert parse_partial(text) is None


def test_g_type_parts_and_missing_parts() -> None:
    assert str(partial_date("2002", "--08")) == "2002-08"
    assert str(partial_date("1940", "--03", "---10")) == "1940-03-10"
    assert str(partial_date("2002", None, "---10")) == "2002"  # a day without a month is dropped
    assert partial_date(None, "--08") is None


def test_years_of_a_closed_period_count_whole_partial_years() -> None:
    assert years_between(PartialDate(year=2015), PartialDate(year=2017)) == 3.0
    assert years_between(PartialDate(year=2015, month=1), None) is None


# --- Europass ----------------------------------------------------------------------


def test_europass_v3_xml_reads_qualifications_experience_and_courses() -> None:
    doc = parse_europass_xml(europass_v3_xml())
    assert doc.format == "europass-xml"
    assert doc.emails == (EMAIL,)
    assert doc.display_name == "Claire Martin"
    assert str(doc.updated) == "2025-09-15"
    titles = {q.title: q for q in doc.qualifications}
    master = titles["Master Ingénierie de la formation"]
    assert (master.level, master.issuer, str(master.obtained)) == (
        "EQF 7",
        "Université Lyon 2",
        "2008-06",
    )
    assert master.domains == ("Éducation",)
    # Still studying: the diploma has no date of obtention, none is invented.
    assert titles["DU Handicap et formation"].obtained is None
    toeic = titles["TOEIC"]
    assert (toeic.issuer, toeic.level, str(toeic.obtained), toeic.domains) == (
        "ETS",
        "C1",
        "2019-11",
        ("Anglais",),
    )
    current, past = doc.experiences
    assert (current.title, current.employer, str(current.start), current.end, current.current) == (
        "Formatrice bureautique",
        "Form'Action",
        "2016-09",
        None,
        True,
    )
    assert current.domains == ("Enseignement",)
    assert (str(past.start), str(past.end)) == ("2010", "2015")
    # Achievement "courses": undated free text; the date found in the text is flagged.
    dated, undated = doc.developments
    assert (dated.title, str(dated.completed), dated.hours, dated.needs_review) == (
        "Classe virtuelle : animer à distance",
        "2025-03",
        14.0,
        True,
    )
    assert (undated.title, undated.completed, undated.needs_review) == (
        "Gestion de conflits",
        None,
        False,
    )


def test_europass_v3_minor_version_namespace_is_accepted() -> None:
    doc = parse_europass_xml(
        europass_v3_xml(version="V3.1", namespace="http://europass.cedefop.europa.eu/Europass/V3.1")
    )
    assert doc.display_name == "Claire Martin"
    assert len(doc.experiences) == 2


def test_europass_legacy_v2_xml() -> None:
    doc = parse_europass_xml(europass_v2_xml())
    assert doc.emails == ("paul.legrand@exemple.fr",)
    assert doc.display_name == "Paul Legrand"
    (qual,) = doc.qualifications
    assert (qual.title, qual.level, str(qual.obtained)) == ("BTS Hygiène Sécurité", "Bac+2", "1997")
    (exp,) = doc.experiences
    assert (exp.title, str(exp.start), str(exp.end), exp.domains) == (
        "Formateur sécurité",
        "2001-03",
        "2010",
        ("Sécurité",),
    )


def test_europass_json_with_missing_dates() -> None:
    doc = parse_document(europass_json(), name="cv.json")
    assert doc.format == "europass-json"
    undated = next(q for q in doc.qualifications if q.title == "Certificat sans date")
    assert undated.obtained is None
    assert undated.issuer == "CNAM"
    assert doc.experiences[0].current is True


def test_europass_unknown_version_and_new_europass_are_refused_with_a_reason() -> None:
    with pytest.raises(CvFormatError, match=r"V9\.0"):
        parse_europass_xml(europass_v3_xml(version="V9.0"))
    candidate = b'<Candidate xmlns="http://www.europass.eu/1.0"><x/></Candidate>'
    with pytest.raises(CvFormatError) as info:
        parse_europass_xml(candidate)
    assert info.value.code == "unsupported_format"
    with pytest.raises(CvFormatError, match="ligne 1"):
        parse_europass_xml(b"<SkillsPassport><LearnerInfo></SkillsPassport>")


def test_xml_entities_are_not_expanded() -> None:
    evil = b"""<?xml version="1.0"?>
<!DOCTYPE SkillsPassport [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<SkillsPassport><DocumentInfo><XSDVersion>V3.0</XSDVersion></DocumentInfo>
<LearnerInfo><Identification><PersonName><FirstName>&secret;</FirstName>
<Surname>X</Surname></PersonName></Identification></LearnerInfo></SkillsPassport>"""
    doc = parse_europass_xml(evil)
    assert "root:" not in (doc.display_name or "")


# --- JSON Resume -------------------------------------------------------------------


def test_json_resume_sections_aliases_and_dates() -> None:
    doc = parse_json_resume(orjson.loads(json_resume()))
    assert doc.emails == ("nadia.benali@exemple.fr",)
    assert str(doc.updated) == "2025-06-30"
    quals = {q.title: q for q in doc.qualifications}
    assert str(quals["Master Informatique"].obtained) == "2016-06"
    assert quals["Master Informatique"].domains == ("Informatique",)
    assert quals["DUT Réseaux"].obtained is None  # "juin 2012" is not a schema date
    assert quals["Formateur professionnel d'adultes"].obtained is None
    old_job, current = doc.experiences
    assert (old_job.employer, str(old_job.start), str(old_job.end)) == (
        "Digital Campus",
        "2018-02",
        "2023",
    )
    assert current.current
    assert current.end is None
    cpd = {d.title: d for d in doc.developments}
    assert str(cpd["AWS Cloud Practitioner"].completed) == "2025-03-10"
    assert cpd["AWS Cloud Practitioner"].provider == "AWS"


def test_json_resume_bad_section_and_non_resume() -> None:
    with pytest.raises(CvFormatError, match="work"):
        parse_json_resume(orjson.loads(json_resume(work={"oops": 1})))
    with pytest.raises(CvFormatError, match="JSON non reconnu"):
        parse_document(b'{"hello": "world"}', name="x.json")


# --- Open Badges -------------------------------------------------------------------


def test_ob2_salted_sha256_recipient_is_verified() -> None:
    doc = parse_badge(orjson.loads(ob2_assertion(EMAIL)))
    assert doc.format == "openbadges-2.0"
    assert not doc.is_cv
    assert doc.recipient is not None
    assert doc.recipient.hashed
    assert recipient_matches(doc.recipient, EMAIL)
    assert recipient_matches(doc.recipient, "  Claire.Martin@Exemple.fr ")  # normalised
    assert not recipient_matches(doc.recipient, "someone.else@exemple.fr")
    (cpd,) = doc.developments
    assert (cpd.title, cpd.provider, str(cpd.completed), cpd.needs_review) == (
        "Accessibilité des formations",
        "Ressource Handicap Formation",
        "2025-04-02",
        False,
    )


def test_ob2_md5_hash_plain_recipient_and_hosted_badge_class() -> None:
    md5 = parse_badge(orjson.loads(ob2_assertion(EMAIL, algorithm="md5")))
    assert md5.recipient is not None
    assert recipient_matches(md5.recipient, EMAIL)
    plain = parse_badge(orjson.loads(ob2_assertion(EMAIL, hashed=False, embedded=False)))
    assert plain.recipient is not None
    assert recipient_matches(plain.recipient, EMAIL)
    (cpd,) = plain.developments
    assert cpd.title.startswith("https://badges.exemple.fr/")
    assert cpd.needs_review  # the hosted class is not fetched: a human names it


def test_known_published_salted_hash() -> None:
    # sha256("bob@example.org" + "deadsea"), computed independently of the parser.
    recipient = BadgeRecipient(
        identity=salted("bob@example.org", "deadsea"), hashed=True, salt="deadsea"
    )
    assert recipient_matches(recipient, "bob@example.org")
    with pytest.raises(CvFormatError, match="empreinte"):
        recipient_matches(BadgeRecipient(identity="sha1$abc", hashed=True), "bob@example.org")


def test_an_unreadable_hash_is_not_repeated_in_the_reason() -> None:
    # Marked as hashed but holding a plain address: the run log must not get the address.
    plain = BadgeRecipient(identity="alice.durand@exemple.fr", hashed=True)
    with pytest.raises(CvFormatError) as info:
        recipient_matches(plain, "bob@example.org")
    assert info.value.code == "bad_hash"
    assert "alice" not in info.value.reason
    assert "exemple.fr" not in info.value.reason
    with pytest.raises(CvFormatError) as info:
        recipient_matches(BadgeRecipient(identity="sha1$abc", hashed=True), "bob@example.org")
    assert "sha1$" in info.value.reason  # the algorithm found is named, not the digest
    assert "abc" not in info.value.reason


def test_ob3_credential_with_hashed_identifier() -> None:
    doc = parse_document(ob3_credential(EMAIL), name="badge.json")
    assert doc.format == "openbadges-3.0"
    assert doc.recipient is not None
    assert doc.recipient.type == "email"
    assert recipient_matches(doc.recipient, EMAIL)
    (cpd,) = doc.developments
    assert (cpd.title, cpd.provider, str(cpd.completed)) == (
        "Pédagogie inversée",
        "OF Exemple",
        "2025-01-20",
    )


def test_badge_documents_without_recipient_are_refused() -> None:
    badge_class = {"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass", "name": "X"}
    with pytest.raises(CvFormatError, match="BadgeClass") as info:
        parse_badge(badge_class)
    assert info.value.code == "not_an_assertion"


# --- PDF -----------------------------------------------------------------------------


def test_pdf_text_is_read_and_every_value_flagged_for_review() -> None:
    data = make_pdf(
        [
            "Claire Martin",
            "claire.martin@exemple.fr",
            "Diplômes",
            "2008 Master Ingénierie de la formation (Bac+5), Université Lyon 2",
            "Titre professionnel Formateur d'adultes",
            "Expérience professionnelle",
            "Sept 2016 - aujourd'hui Formatrice bureautique, Form'Action",
            "2010 - 2015 Assistante de gestion, Cabinet Durand",
            "15 ans d'expérience en bureautique",
            "Formation continue",
            "03/2025 Classe virtuelle, Cnam (14 h)",
            "12/03/2024 Sauveteur secouriste du travail - INRS 14 heures",
            "Langues",
            "Anglais 2019",
        ],
        modified="D:20250301120000Z",
    )
    doc = parse_pdf(data)
    assert doc.format == "pdf"
    assert doc.emails == (EMAIL,)
    assert str(doc.updated) == "2025-03-01"
    assert all(
        entry.needs_review for entry in [*doc.qualifications, *doc.experiences, *doc.developments]
    )
    master, titre = doc.qualifications
    assert (master.title, master.level, master.issuer, str(master.obtained)) == (
        "Master Ingénierie de la formation (Bac+5)",
        "Bac+5",
        "Université Lyon 2",
        "2008",
    )
    assert titre.obtained is None  # no date written, none invented
    current, past, stated = doc.experiences
    assert (current.title, str(current.start), current.end, current.current) == (
        "Formatrice bureautique",
        "2016-09",
        None,
        True,
    )
    assert (str(past.start), str(past.end), past.employer) == ("2010", "2015", "Cabinet Durand")
    assert (stated.years, stated.domains) == (15.0, ("bureautique",))
    virtual, sst = doc.developments
    assert (virtual.title, virtual.provider, str(virtual.completed), virtual.hours) == (
        "Classe virtuelle",
        "Cnam",
        "2025-03",
        14.0,
    )
    assert (str(sst.completed), sst.hours, sst.provider) == ("2024-03-12", 14.0, "INRS")


def test_pdf_with_embedded_europass_xml_uses_the_attachment() -> None:
    data = make_pdf(
        ["Curriculum vitae", "Formation continue", "2001 Something else"],
        attachments={"attachment.xml": europass_v3_xml()},
    )
    doc = parse_document(data, name="europass.pdf")
    assert doc.format == "pdf+europass-xml"
    assert doc.display_name == "Claire Martin"
    assert doc.emails == (EMAIL,)
    assert not any(q.needs_review for q in doc.qualifications)
    assert {q.title for q in doc.qualifications} >= {"Master Ingénierie de la formation"}


def test_pdf_with_an_unrelated_attachment_falls_back_to_text() -> None:
    data = make_pdf(
        ["x@exemple.fr", "Formation continue", "2024 Animer une formation"],
        attachments={"notes.xml": b"<notes><n>hello</n></notes>"},
    )
    doc = parse_pdf(data)
    assert doc.format == "pdf"
    assert [d.title for d in doc.developments] == ["Animer une formation"]


def test_a_broken_attachment_tree_falls_back_to_text() -> None:
    # pypdf raises AttributeError (not one of its own errors) on such files: found by
    # fuzzing; it used to escape the parser and fail the whole sync.
    data = make_pdf(
        ["Formation continue", "05/2025 Animer une formation (7 h)"],
        attachments={"cv.xml": europass_v3_xml()},
    )
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    files = writer.root_object["/Names"]["/EmbeddedFiles"]["/Names"]
    spec = files[1].get_object()
    spec[NameObject("/EF")] = DictionaryObject({NameObject("/F"): NumberObject(3)})
    out = io.BytesIO()
    writer.write(out)
    doc = parse_pdf(out.getvalue())
    assert doc.format == "pdf"
    assert [(d.title, d.hours) for d in doc.developments] == [("Animer une formation", 7.0)]


def test_pdf_without_text_and_broken_pdf_are_refused() -> None:
    with pytest.raises(CvFormatError) as info:
        parse_pdf(blank_pdf())
    assert info.value.code == "no_text"
    with pytest.raises(CvFormatError) as broken:
        parse_document(b"%PDF-1.7\nthis is not a pdf", name="cv.pdf")
    assert broken.value.code in {"invalid_pdf", "no_text"}


# --- dispatch and privacy -------------------------------------------------------------


def test_unsupported_empty_and_invalid_json_files() -> None:
    with pytest.raises(CvFormatError, match=r"\.docx"):
        parse_document(b"PK\x03\x04", name="cv.docx")
    with pytest.raises(CvFormatError, match="vide"):
        parse_document(b"  \n", name="cv.json")
    with pytest.raises(CvFormatError, match="JSON invalide") as info:
        parse_document(b'{"a": "line\nbreak"}', name="badge.json")
    assert "line 1" in info.value.reason


def test_free_text_line_reading() -> None:
    facts = read_line("Sept 2018 à juin 2019 : Formateur Excel chez ACME")
    assert facts is not None
    assert (facts.title, facts.organisation) == ("Formateur Excel", "ACME")
    assert [str(d) for d in facts.dates] == ["2018-09", "2019-06"]
    since = read_line("depuis 2015 Consultant RH")
    assert since is not None
    assert since.since
    assert since.title == "Consultant RH"
    assert read_line("2019") is None


def test_dot_leaders_are_trimmed_on_lines_of_any_length() -> None:
    # PDF tables of contents and CV layouts write dot leaders; the end-of-line trim
    # used to be quadratic in the line length (minutes for this line), now linear.
    facts = read_line("Formateur Excel " + "." * 50_000 + " 2019")
    assert facts is not None
    assert (facts.title, [str(d) for d in facts.dates]) == ("Formateur Excel", ["2019"])
    facts = read_line("2019 Formateur Word " + "- " * 25_000)
    assert facts is not None
    assert facts.title == "Formateur Word"


def test_no_personal_field_beyond_name_and_email_is_kept() -> None:
    doc = parse_europass_xml(europass_v3_xml())
    dumped = repr(doc)
    for private in ("Lilas", "+33", "1980", "AAAA", "image/jpeg"):
        assert private not in dumped


def test_english_free_text_cv() -> None:
    data = make_pdf(
        [
            "John Smith - john.smith@example.org",
            "Education",
            "MSc Adult Education, University of Leeds, 2011",
            "Work experience",
            "Jan 2020 - Present  Lead trainer at Acme Learning",
            "Professional development",
            "2025-02-14 Accessibility in e-learning, W3C (6 hours)",
            "Skills",
            "Excel 2016",
        ]
    )
    doc = parse_pdf(data)
    assert doc.emails == ("john.smith@example.org",)
    (msc,) = doc.qualifications
    assert (msc.title, msc.issuer, str(msc.obtained)) == (
        "MSc Adult Education",
        "University of Leeds",
        "2011",
    )
    (lead,) = doc.experiences  # "Excel 2016" under Skills is not an experience
    assert (lead.title, lead.employer, str(lead.start), lead.current) == (
        "Lead trainer",
        "Acme Learning",
        "2020-01",
        True,
    )
    (cpd,) = doc.developments
    assert (str(cpd.completed), cpd.hours, cpd.provider) == ("2025-02-14", 6.0, "W3C")


def test_a_deeply_nested_json_is_refused_not_crashing() -> None:
    # orjson accepts 1,000 levels; reading them recursively would exhaust Python's stack.
    deep = b'{"SkillsPassport":' + b'{"a":' * 1000 + b"1" + b"}" * 1001
    with pytest.raises(CvFormatError) as info:
        parse_document(deep, name="cv.json")
    assert info.value.code == "invalid_json"
    assert "100" in info.value.reason
