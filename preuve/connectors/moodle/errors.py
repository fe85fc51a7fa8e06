"""Classify a decoded Moodle answer once: fine, fail (tell the admin) or skip one item.

Moodle answers errors with HTTP 200 and a body ``{"exception", "errorcode",
"message"}``. Exception class names changed in 4.3 (namespaced), so only
``errorcode`` is compared.
"""

from __future__ import annotations

import re
from typing import Any

from preuve.connectors.errors import PermanentError, SkipItem
from preuve.connectors.moodle.constants import (
    CAPABILITY_ERRORS,
    COURSE_SKIP_ERRORS,
    DISABLED_ERRORS,
    FUNCTION_CAPABILITIES,
    MENU_ENABLE,
    MENU_FUNCTIONS,
    MENU_ROLES,
    MENU_TOKENS,
    SERVICE_ERRORS,
    TOKEN_ERRORS,
)
from preuve.i18n import Text

MSG_TOKEN = Text(
    fr="Moodle refuse le jeton ({code}) : jeton inconnu, expiré ou utilisateur suspendu",
    en="Moodle refuses the token ({code}): unknown or expired token, or suspended user",
)
MSG_NOT_IN_SERVICE = Text(
    fr="la fonction {function} n'est pas dans le service externe du jeton",
    en="function {function} is not in the token's external service",
)
MSG_NO_FUNCTION = Text(
    fr="la fonction {function} n'existe pas sur ce Moodle (version trop ancienne ou plugin absent)",
    en="function {function} does not exist on this Moodle (version too old or plugin missing)",
)
MSG_DISABLED = Text(
    fr="les services web ou le protocole REST sont désactivés sur ce Moodle",
    en="web services or the REST protocol are disabled on this Moodle",
)
MSG_CAPABILITY = Text(
    fr="le compte du jeton n'a pas la permission requise pour {function}{capability}",
    en="the token's account lacks the permission required by {function}{capability}",
)
MSG_PARAMETER = Text(
    fr="Moodle rejette les paramètres de {function} ({code}) : version de Moodle incompatible ?",
    en="Moodle rejects the parameters of {function} ({code}): incompatible Moodle version?",
)
MSG_OTHER = Text(
    fr="Moodle a répondu une erreur à {function} : {code} ({message})",
    en="Moodle answered {function} with an error: {code} ({message})",
)
MSG_ITEM = Text(
    fr="{item} inaccessible ({code}) : {message}",
    en="{item} not accessible ({code}): {message}",
)

_CAPABILITY_ID = re.compile(r"\b([a-z]+/[a-z_]+:[a-z_]+)\b")


def is_error(body: Any) -> bool:
    return isinstance(body, dict) and "exception" in body


def raise_for_error(body: Any, function: str, *, item: str | None = None) -> None:
    """Raise the classified error when ``body`` is a Moodle exception; else return."""
    if not is_error(body):
        return
    code = str(body.get("errorcode") or body.get("exception") or "unknown")
    message = str(body.get("message") or "")[:300]
    if code in TOKEN_ERRORS:
        raise PermanentError(MSG_TOKEN(code=code), code="invalid_token", hint=MENU_TOKENS)
    if code in SERVICE_ERRORS:
        raise PermanentError(
            MSG_NOT_IN_SERVICE(function=function),
            code="function_not_in_service",
            hint=MENU_FUNCTIONS,
        )
    if code in DISABLED_ERRORS:
        raise PermanentError(MSG_DISABLED(), code="webservices_disabled", hint=MENU_ENABLE)
    if code == "invalidrecord" and "external_functions" in message:
        raise PermanentError(MSG_NO_FUNCTION(function=function), code="function_missing")
    if code in CAPABILITY_ERRORS:
        # debuginfo names the capability only when debugging is on; else use ours.
        found = _CAPABILITY_ID.search(str(body.get("debuginfo") or "") + " " + message)
        name = found.group(1) if found else FUNCTION_CAPABILITIES.get(function)
        capability = f" : {name}" if name else ""
        raise PermanentError(
            MSG_CAPABILITY(function=function, capability=capability),
            code="missing_capability",
            hint=MENU_ROLES,
        )
    if item is not None and code in COURSE_SKIP_ERRORS:
        raise SkipItem(MSG_ITEM(item=item, code=code, message=message), code=code)
    if code in {"invalidparameter", "missingparameter"}:
        raise PermanentError(MSG_PARAMETER(function=function, code=code), code="invalid_parameter")
    raise PermanentError(
        MSG_OTHER(function=function, code=code, message=message), code=f"moodle_{code}"[:64]
    )


def warnings_of(body: Any) -> list[dict[str, Any]]:
    """The ``warnings`` list many mod_* functions return for partial failures."""
    if isinstance(body, dict):
        found = body.get("warnings")
        if isinstance(found, list):
            return [w for w in found if isinstance(w, dict)]
    return []
