"""Manifest parsing, pure: versions, structure, metadata, and traps 1-8 of the reference."""

from __future__ import annotations

import pytest

from preuve.connectors.scorm import ScormError, UnsafePackageError, parse_manifest
from preuve.connectors.scorm.lom import LomInfo
from tests.connectors.scorm.builders import LOM_2004, manifest_12, manifest_2004


def test_scorm_12_course_items_and_mastery() -> None:
    course = parse_manifest(manifest_12().encode())
    assert (course.version, course.edition) == ("1.2", None)
    assert course.title == "Sécurité au travail"
    assert course.identifier == "com.example.securite"
    launch = {i.identifier: i.launch_url for i in course.launchable_items()}
    assert launch == {"module1": "m1/index.html", "quiz": "quiz.html?mode=quiz"}
    assert course.mastery_scores == (80.0,)
    assert course.file_count == 2


@pytest.mark.parametrize(
    ("schemaversion", "edition"),
    [("2004 4th Edition", 4), ("2004 3rd Edition", 3), ("2004 2nd Edition", 2)],
)
def test_scorm_2004_editions(schemaversion: str, edition: int) -> None:
    course = parse_manifest(manifest_2004(schemaversion=schemaversion, completion="").encode())
    assert (course.version, course.edition) == ("2004", edition)


def test_trap5_cam_13_is_2004_with_unknown_edition() -> None:
    course = parse_manifest(manifest_2004(schemaversion="CAM 1.3", completion="").encode())
    assert (course.version, course.edition, course.schemaversion) == ("2004", None, "CAM 1.3")


def test_trap5_missing_schemaversion_detected_from_namespaces() -> None:
    assert parse_manifest(manifest_12(schemaversion=None).encode()).version == "1.2"
    course = parse_manifest(manifest_2004(schemaversion=None, completion="").encode())
    assert (course.version, course.edition) == ("2004", None)


def test_trap5_fourth_edition_inferred_from_completion_threshold_attributes() -> None:
    course = parse_manifest(manifest_2004(schemaversion="CAM 1.3").encode())
    assert course.edition == 4


def test_trap5_schemaversion_contradicting_namespaces_keeps_namespaces() -> None:
    course = parse_manifest(manifest_12(schemaversion="2004 3rd Edition").encode())
    assert course.version == "1.2"
    assert any("2004 3rd Edition" in w for w in course.warnings)


def test_trap5_no_version_at_all_is_an_error_in_strict_mode() -> None:
    bare = (
        b'<manifest identifier="x"><organizations/><resources>'
        b'<resource identifier="r" href="a.html" scormtype="sco"/></resources></manifest>'
    )
    assert parse_manifest(bare).version == "1.2"  # lenient: assumed, with a warning
    with pytest.raises(ScormError) as caught:
        parse_manifest(bare, strict=True)
    assert caught.value.code == "no_version"


def test_2004_sequencing_objectives_threshold_and_lom() -> None:
    course = parse_manifest(manifest_2004(lom=LOM_2004).encode())
    assert course.title == "RGPD pour les formateurs"  # organization title first
    assert course.lom.title == "RGPD pour les formateurs (LOM)"  # French string preferred
    assert course.description == "Comprendre et appliquer le RGPD."
    assert course.duration_seconds == 5400
    assert course.lom.objectives == (
        "Identifier une donnée personnelle",
        "Tenir un registre des traitements",
    )
    assert course.passing_measures == (0.7,)
    assert course.completion_thresholds == (0.75,)
    secondary = [o for o in course.sequencing_objectives if not o.primary]
    assert secondary[0].objective_id == "identifier_les_donnees_personnelles"
    assert secondary[0].global_targets == ("global.rgpd.1",)
    # The aggregation item launches nothing; only its leaf does.
    assert [i.identifier for i in course.launchable_items()] == ["sco1"]


def test_trap1_byte_order_mark() -> None:
    course = parse_manifest(b"\xef\xbb\xbf" + manifest_12().encode())
    assert course.title == "Sécurité au travail"


def test_trap2_no_declaration_and_wrong_declaration() -> None:
    text = manifest_12().split("\n", 1)[1]  # without <?xml ...?>
    assert parse_manifest(text.encode()).title == "Sécurité au travail"
    latin = manifest_12().encode("cp1252")  # declared UTF-8, written in Windows-1252
    course = parse_manifest(latin)
    assert course.title == "Sécurité au travail"
    assert course.warnings


def test_trap2_utf16_with_declaration() -> None:
    data = manifest_12().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert parse_manifest(data).title == "Sécurité au travail"


def test_trap3_prefixed_lom_and_unused_prefixes() -> None:
    lom = (
        '<lom:lom xmlns:lom="http://ltsc.ieee.org/xsd/LOM" xmlns:unused="urn:nothing">'
        "<lom:general><lom:title><lom:string>Préfixé</lom:string></lom:title></lom:general>"
        "<lom:educational><lom:typicalLearningTime><lom:duration>PT45M</lom:duration>"
        "</lom:typicalLearningTime></lom:educational></lom:lom>"
    )
    course = parse_manifest(manifest_2004(lom=lom, completion="").encode())
    assert course.lom.title == "Préfixé"
    assert course.duration_seconds == 2700


def test_trap3_cdata_langstring() -> None:
    lom = (
        '<lom xmlns="http://www.imsglobal.org/xsd/imsmd_rootv1p2p1"><general><title>'
        "<langstring><![CDATA[Titre <en> CDATA]]></langstring></title></general></lom>"
    )
    course = parse_manifest(manifest_12(metadata=lom).encode())
    assert course.lom.title == "Titre <en> CDATA"


def test_trap4_attribute_spellings() -> None:
    for spelling in ("scormtype", "scormType", "SCORMTYPE"):
        course = parse_manifest(manifest_12(scormtype_attr=spelling).encode())
        assert {i.scorm_type for i in course.launchable_items()} == {"sco"}


def test_trap6_xml_base_at_every_level() -> None:
    course = parse_manifest(
        manifest_2004(bases=("./", "resources/", "common/"), completion="").encode()
    )
    assert course.launchable_items()[0].launch_url == "resources/common/index.html"


def test_trap7_default_organization_mismatch_uses_first() -> None:
    text = manifest_12().replace('default="org"', 'default="missing-org"')
    course = parse_manifest(text.encode())
    assert course.organization_id == "org"
    assert any("missing-org" in w for w in course.warnings)


def test_trap7_empty_organizations_fall_back_to_sco_resources() -> None:
    start = manifest_12().index("<organizations")
    end = manifest_12().index("</organizations>") + len("</organizations>")
    text = manifest_12()[:start] + "<organizations/>" + manifest_12()[end:]
    course = parse_manifest(text.encode())
    assert [i.launch_url for i in course.launchable_items()] == ["m1/index.html", "quiz.html"]
    assert course.title  # never without a title


def test_trap7_shared_resource_keeps_both_items() -> None:
    text = manifest_12().replace('identifierref="res2"', 'identifierref="res1"')
    course = parse_manifest(text.encode())
    assert [i.identifier for i in course.launchable_items()] == ["module1", "quiz"]


def test_trap7_missing_resource_lenient_and_strict() -> None:
    text = manifest_12().replace('identifierref="res2"', 'identifierref="nowhere"')
    course = parse_manifest(text.encode())
    assert [i.identifier for i in course.launchable_items()] == ["module1"]
    with pytest.raises(ScormError) as caught:
        parse_manifest(text.encode(), strict=True)
    assert "nowhere" in str(caught.value)
    assert caught.value.where == "<item quiz>"


def test_trap8_huge_file_list_with_duplicates_is_counted_not_kept() -> None:
    text = manifest_12(files=5000).replace(
        "</resource>", '<file href="page1.html"/><file href="page2.html"/></resource>', 1
    )
    course = parse_manifest(text.encode())
    assert course.file_count == 5002
    assert course.duplicate_files == 2


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE manifest [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE manifest SYSTEM "http://example.org/evil.dtd">',
        '<!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
    ],
)
def test_trap8_dtd_and_entities_refused(prolog: str) -> None:
    text = manifest_12().replace("<manifest ", prolog + "\n<manifest ", 1)
    text = text.replace("Sécurité au travail", "&xxe;")
    with pytest.raises(UnsafePackageError) as caught:
        parse_manifest(text.encode())
    assert caught.value.code == "dtd_refused"


def test_malformed_xml_names_the_line() -> None:
    text = manifest_12().replace("</item>", "", 1)
    with pytest.raises(ScormError) as caught:
        parse_manifest(text.encode(), file="pkg.zip/imsmanifest.xml")
    assert caught.value.code == "xml_syntax"
    assert caught.value.where
    assert caught.value.where.startswith("ligne ")
    assert "pkg.zip/imsmanifest.xml" in str(caught.value)


def test_not_a_manifest() -> None:
    with pytest.raises(ScormError) as caught:
        parse_manifest(b"<courseStructure/>")
    assert caught.value.code == "not_manifest"


def test_external_metadata_loader_fills_blanks() -> None:
    asked: list[str] = []

    def loader(href: str) -> LomInfo:
        asked.append(href)
        return LomInfo(title="Externe", description="Depuis metadata.xml")

    meta = "<adlcp:location>metadata.xml</adlcp:location>"
    text = manifest_12(metadata=meta).replace(
        "<title>Quiz final</title>", f"<title>Quiz final</title><metadata>{meta}</metadata>"
    )
    course = parse_manifest(text.encode(), load_metadata=loader)
    assert asked == ["metadata.xml"]  # named twice, read once
    assert course.description == "Depuis metadata.xml"
    assert course.metadata_locations == ("metadata.xml",)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_trap8_dtd_refused_in_utf16_too(encoding: str) -> None:
    text = manifest_12().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    text = text.replace("<manifest ", '<!DOCTYPE manifest [<!ENTITY x "y">]>\n<manifest ', 1)
    with pytest.raises(UnsafePackageError) as caught:
        parse_manifest(text.encode(encoding))
    assert caught.value.code == "dtd_refused"
