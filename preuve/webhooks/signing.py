"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``.

The scheme is a few lines of the standard library; interoperability with the
official ``standardwebhooks`` library is proven by the tests, in both directions.
Several secrets may be active at once (rotation): one signature per secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the format prefix, not a secret
SECRET_BYTES: Final = 32
DEFAULT_TOLERANCE_SECONDS: Final = 300
MAX_SIGNATURE_HEADER: Final = 4096


class SignatureError(Exception):
    """A request whose signature cannot be accepted (reason in the message)."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret (base64 after the prefix)."""
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from exc
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(msg_id: str, timestamp: int, body: bytes, secrets_: Sequence[str]) -> str:
    """The ``webhook-signature`` header value: one ``v1,`` signature per secret."""
    if not secrets_:
        raise ValueError("no active secret to sign with")
    return " ".join(
        "v1," + base64.b64encode(_signature(secret_key(s), msg_id, timestamp, body)).decode()
        for s in secrets_
    )


def signed_headers(
    msg_id: str, body: bytes, secrets_: Sequence[str], *, now: datetime | None = None
) -> dict[str, str]:
    timestamp = int((now or datetime.now(UTC)).timestamp())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(msg_id, timestamp, body, secrets_),
    }


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets_: Sequence[str],
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: datetime | None = None,
) -> tuple[str, int]:
    """Check the headers against the body; returns (id, timestamp) or raises SignatureError."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    timestamp_text = lowered.get("webhook-timestamp", "")
    signature = lowered.get("webhook-signature", "")
    if not (msg_id and timestamp_text and signature):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    if len(signature) > MAX_SIGNATURE_HEADER:
        raise SignatureError("webhook-signature too long")
    try:
        timestamp = int(timestamp_text)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not a Unix time in seconds") from exc
    current = int((now or datetime.now(UTC)).timestamp())
    if abs(current - timestamp) > tolerance_seconds:
        raise SignatureError("webhook-timestamp outside the tolerance window")
    offered: list[bytes] = []
    for item in signature.split():
        version, _, value = item.partition(",")
        if version != "v1":
            continue
        try:
            offered.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    for secret in secrets_:
        expected = _signature(secret_key(secret), msg_id, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return msg_id, timestamp
    raise SignatureError("no matching signature")
