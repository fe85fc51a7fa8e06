"""Signed (JWS / VC-JWT) and baked (PNG, SVG) Open Badges."""

from __future__ import annotations

import re

import orjson
import pytest

from preuve.connectors.cv import CvFormatError, parse_document, recipient_matches
from preuve.connectors.cv.constants import MAX_ATTACHMENT_BYTES
from tests.connectors.cv.builders import (
    baked_png,
    baked_svg,
    compact_jws,
    ob2_assertion,
    ob3_credential,
)

EMAIL = "claire.martin@exemple.fr"


def test_signed_ob2_assertion_is_read_from_its_jws_payload() -> None:
    doc = parse_document(compact_jws(ob2_assertion(EMAIL)), name="badge.jws")
    assert doc.format == "openbadges-2.0"
    assert doc.recipient is not None
    assert recipient_matches(doc.recipient, EMAIL)


def test_ob3_vc_jwt_uses_the_vc_claim() -> None:
    claims = {"iss": "https://of.exemple.fr", "vc": orjson.loads(ob3_credential(EMAIL))}
    doc = parse_document(compact_jws(orjson.dumps(claims)), name="badge.jwt")
    assert doc.format == "openbadges-3.0"
    assert doc.developments[0].title == "Pédagogie inversée"


def test_broken_jws_payload_is_refused() -> None:
    with pytest.raises(CvFormatError) as info:
        parse_document(b"eyJhbGciOiJub25lIn0.bm90IGpzb24.", name="badge.jws")
    assert info.value.code == "invalid_jws"


@pytest.mark.parametrize("compressed", [False, True])
def test_png_baked_assertion(compressed: bool) -> None:
    doc = parse_document(baked_png(ob2_assertion(EMAIL), compressed=compressed), name="b.png")
    assert doc.format == "openbadges-2.0"
    assert doc.recipient is not None
    assert recipient_matches(doc.recipient, EMAIL)


def test_png_with_signed_assertion_and_hosted_url() -> None:
    signed = parse_document(baked_png(compact_jws(ob2_assertion(EMAIL))), name="b.png")
    assert signed.developments[0].title == "Accessibilité des formations"
    with pytest.raises(CvFormatError, match=re.escape("https://badges.exemple.fr/a/1")) as info:
        parse_document(baked_png(b"https://badges.exemple.fr/a/1"), name="b.png")
    assert info.value.code == "hosted_assertion"


def test_png_without_badge_is_refused() -> None:
    plain = baked_png(b"").replace(b"openbadges", b"comment123")
    with pytest.raises(CvFormatError) as info:
        parse_document(plain, name="photo.png")
    assert info.value.code == "not_a_badge"


def test_svg_baked_assertion_and_hosted_only() -> None:
    doc = parse_document(baked_svg(ob2_assertion(EMAIL)), name="badge.svg")
    assert doc.recipient is not None
    assert recipient_matches(doc.recipient, EMAIL)
    with pytest.raises(CvFormatError) as info:
        parse_document(baked_svg(None, verify="https://x.fr/a.json"), name="badge.svg")
    assert info.value.code == "hosted_assertion"


def test_png_compressed_bomb_is_refused_without_inflating_it() -> None:
    import tracemalloc

    bomb = baked_png(b"{" + b" " * (64 * 1024 * 1024) + b"}", compressed=True)
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(CvFormatError) as info:
            parse_document(bomb, name="bomb.png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == "invalid_png"
    assert peak < 3 * MAX_ATTACHMENT_BYTES  # inflated up to the cap, never further


def test_svg_with_external_entity_does_not_leak_the_file() -> None:
    evil = (
        b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
        b"<openbadges:assertion>&x;</openbadges:assertion></svg>"
    )
    with pytest.raises(CvFormatError) as info:
        parse_document(evil, name="badge.svg")
    assert info.value.code == "not_a_badge"  # the entity stays unexpanded: nothing is read
