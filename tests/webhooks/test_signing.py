"""Signatures interoperate with the official standardwebhooks library, both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from preuve.webhooks.signing import (
    SECRET_PREFIX,
    SignatureError,
    generate_secret,
    sign,
    signed_headers,
    verify,
)

BODY = b'{"type":"sync.failed","timestamp":"2026-11-29T10:00:00+00:00","data":{"tenant":"t"}}'


def test_generated_secret_has_the_standard_form() -> None:
    secret = generate_secret()
    assert secret.startswith(SECRET_PREFIX)
    Webhook(secret)  # the library accepts it
    assert generate_secret() != secret


def test_our_signature_verifies_with_the_library() -> None:
    secret = generate_secret()
    headers = signed_headers("evt_1", BODY, [secret])
    assert Webhook(secret).verify(BODY, headers) == {
        "type": "sync.failed",
        "timestamp": "2026-11-29T10:00:00+00:00",
        "data": {"tenant": "t"},
    }


def test_every_active_secret_signs_during_a_rotation() -> None:
    old, new = generate_secret(), generate_secret()
    headers = signed_headers("evt_2", BODY, [old, new])
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_a_tampered_body_fails_the_library_check() -> None:
    secret = generate_secret()
    headers = signed_headers("evt_3", BODY, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b'"t"', b'"u"'), headers)


def test_we_verify_what_the_library_signs() -> None:
    secret = generate_secret()
    now = datetime.now(UTC)
    signature = Webhook(secret).sign("msg_1", now, BODY.decode())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    assert verify(headers, BODY, [secret]) == ("msg_1", int(now.timestamp()))
    # One of several configured secrets is enough (rotation on the sender's side).
    assert verify(headers, BODY, [generate_secret(), secret])[0] == "msg_1"


def test_verification_refuses_bad_requests() -> None:
    secret = generate_secret()
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_2",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_2", now, BODY.decode()),
    }
    with pytest.raises(SignatureError, match="no matching"):
        verify(headers, BODY + b" ", [secret])
    with pytest.raises(SignatureError, match="no matching"):
        verify(headers, BODY, [generate_secret()])
    with pytest.raises(SignatureError, match="tolerance"):
        verify(headers, BODY, [secret], now=now + timedelta(minutes=6))
    with pytest.raises(SignatureError, match="tolerance"):
        verify(headers, BODY, [secret], now=now - timedelta(minutes=6))
    with pytest.raises(SignatureError, match="missing"):
        verify({k: v for k, v in headers.items() if k != "webhook-id"}, BODY, [secret])
    with pytest.raises(SignatureError, match="Unix time"):
        verify({**headers, "webhook-timestamp": "yesterday"}, BODY, [secret])
    # An unknown version or garbage next to the good signature is ignored, not fatal.
    mixed = {**headers, "webhook-signature": "v9,abc v1,@@@ " + headers["webhook-signature"]}
    assert verify(mixed, BODY, [secret])[0] == "msg_2"


def test_signature_is_over_id_timestamp_and_body() -> None:
    secret = generate_secret()
    assert sign("a", 1, BODY, [secret]) != sign("b", 1, BODY, [secret])
    assert sign("a", 1, BODY, [secret]) != sign("a", 2, BODY, [secret])
    with pytest.raises(ValueError, match="no active secret"):
        sign("a", 1, BODY, [])
