"""Actor -> pseudonymous person key, so an xAPI learner is the same person as in
the other sources (docs/xapi.md, "Actor matching").

1. ``mbox``: the e-mail address (the rule every connector applies first).
2. ``mbox_sha1sum``: a SHA-1 cannot be reversed; when ``known_emails_file``
   lists the organisation's learner addresses, each is hashed (``mailto:`` +
   address, as written and lower-cased) and a match resolves to the address.
   Otherwise the key is derived from the hash itself: stable across xAPI
   sources, but not joined to other sources.
3. ``account``: with ``account_names_are_emails`` and an ``@`` in the name, the
   name is the e-mail; when ``account_sources`` maps the homePage to a
   configured source id, the name is that source's user id (e.g. a Moodle
   user id sent by logstore_xapi); otherwise the (homePage, name) account.
4. ``openid``: the URI, as an account of the ``openid`` system.

A group is matched by its own identifier; an anonymous group names nobody.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from preuve.connectors.errors import PermanentError
from preuve.connectors.xapi.options import XapiOptions
from preuve.evidence.identity import Pseudonymiser, normalise_email
from preuve.i18n import Text

MSG_EMAILS_FILE = Text(
    fr="fichier d'adresses connues illisible ({path}) : {error}",
    en="cannot read the known e-mail file ({path}): {error}",
)

SHA1_SYSTEM = "xapi:mbox_sha1sum"
OPENID_SYSTEM = "xapi:openid"
_CACHE_LIMIT = 100_000


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def load_known_emails(path: Path) -> dict[str, str]:
    """mbox_sha1sum -> address, for every address of the file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PermanentError(
            MSG_EMAILS_FILE(path=path, error=type(exc).__name__), code="bad_options"
        ) from exc
    table: dict[str, str] = {}
    for line in lines:
        address = line.strip()
        if not address or address.startswith("#") or "@" not in address:
            continue
        for form in {address, address.lower()}:
            table[_sha1("mailto:" + form)] = address
    return table


class ActorResolver:
    """Applies the matching rule; results are cached per actor identifier."""

    def __init__(self, pseudonymiser: Pseudonymiser, options: XapiOptions) -> None:
        self._pseudonymiser = pseudonymiser
        self._options = options
        path = options.emails_path()
        self._known = load_known_emails(path) if path is not None else {}
        self._sources = {
            home.rstrip("/").lower(): src for home, src in options.account_sources.items()
        }
        self._cache: dict[tuple[str, ...], str] = {}

    def person_ref(self, actor: Any) -> str | None:
        """The person key of an Agent or identified Group, None when none can be made."""
        if not isinstance(actor, dict):
            return None
        key = _identifier(actor)
        if key is None:
            return None
        cached = self._cache.get(key)
        if cached is None:
            cached = self._resolve(key)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = cached
        return cached

    def _resolve(self, key: tuple[str, ...]) -> str:
        pseudo = self._pseudonymiser
        kind = key[0]
        if kind == "mbox":
            return pseudo.from_email(key[1])
        if kind == "mbox_sha1sum":
            address = self._known.get(key[1])
            if address is not None:
                return pseudo.from_email(address)
            return pseudo.from_account(SHA1_SYSTEM, key[1])
        if kind == "account":
            home, name = key[1], key[2]
            if self._options.account_names_are_emails and "@" in name:
                return pseudo.from_email(normalise_email(name))
            source = self._sources.get(home.rstrip("/").lower())
            if source is not None:
                return pseudo.from_source_user(source, name)
            return pseudo.from_account(home, name)
        return pseudo.from_account(OPENID_SYSTEM, key[1])


def _identifier(actor: dict[str, Any]) -> tuple[str, ...] | None:
    mbox = actor.get("mbox")
    if isinstance(mbox, str) and "@" in mbox:
        return ("mbox", mbox)
    sha1 = actor.get("mbox_sha1sum")
    if isinstance(sha1, str) and sha1:
        return ("mbox_sha1sum", sha1.lower())
    account = actor.get("account")
    if isinstance(account, dict):
        home, name = account.get("homePage"), account.get("name")
        if isinstance(home, str) and isinstance(name, str) and name:
            return ("account", home, name)
    openid = actor.get("openid")
    if isinstance(openid, str) and openid:
        return ("openid", openid)
    return None
