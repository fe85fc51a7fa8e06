"""Stable pseudonymous keys for people.

The same person seen by two sources (a Moodle user and an xAPI actor with the
same e-mail address) gets the same key, without the store keeping the address.
The key is an HMAC of a normalised identifier under a per-tenant secret, so it
cannot be reversed by someone holding only the database.

Matching rule (documented in docs/identity.md):
1. an e-mail address (lower-cased, trimmed, without a ``mailto:`` prefix) wins;
2. otherwise an account on a named system (``homepage`` + ``name``);
3. otherwise the source-scoped user id.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

PERSON_KEY_PREFIX = "p_"


def normalise_email(address: str) -> str:
    address = address.strip()
    if address.lower().startswith("mailto:"):
        address = address[len("mailto:") :]
    return address.strip().lower()


@dataclass(frozen=True, slots=True)
class Pseudonymiser:
    """Turns identifiers into stable pseudonymous person keys for one tenant."""

    secret: bytes

    def _key(self, identifier: str) -> str:
        digest = hmac.new(self.secret, identifier.encode("utf-8"), hashlib.sha256).hexdigest()
        return PERSON_KEY_PREFIX + digest[:20]

    def from_email(self, address: str) -> str:
        return self._key("email:" + normalise_email(address))

    def from_account(self, homepage: str, name: str) -> str:
        return self._key(f"account:{homepage.rstrip('/').lower()}|{name}")

    def from_source_user(self, source: str, user_id: str | int) -> str:
        return self._key(f"source:{source}|{user_id}")

    def person_key(
        self,
        *,
        source: str,
        user_id: str | int | None = None,
        email: str | None = None,
        account: tuple[str, str] | None = None,
    ) -> str:
        """The key for a person, applying the matching rule above."""
        if email and "@" in email:
            return self.from_email(email)
        if account is not None:
            return self.from_account(*account)
        if user_id is None:
            raise ValueError("a person needs an e-mail address, an account or a user id")
        return self.from_source_user(source, user_id)
