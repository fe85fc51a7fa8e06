"""Statement validation per xAPI 1.0.3 (and the 2.0 context agents/groups).

The intake refuses a batch at the first fault, naming the property and why:
:class:`StatementError` carries a dotted path (``result.score.scaled``) and a
French-first reason. Only what a statement resource must enforce is checked
(reference note, section 3.4); the pull side does not validate, it maps what
the LRS already accepted.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from preuve.connectors.xapi.constants import VOIDED
from preuve.i18n import Text

UUID_RE: Final = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
IRI_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
MBOX_RE: Final = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")
SHA1_RE: Final = re.compile(r"^[0-9a-fA-F]{40}$")
LANG_RE: Final = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
_NUM = r"(?:\d+(?:[.,]\d+)?)"
DURATION_RE: Final = re.compile(
    rf"^P(?!$)(?:(?P<y>{_NUM})Y)?(?:(?P<mo>{_NUM})M)?(?:(?P<w>{_NUM})W)?(?:(?P<d>{_NUM})D)?"
    rf"(?:T(?=\d)(?:(?P<h>{_NUM})H)?(?:(?P<mi>{_NUM})M)?(?:(?P<s>{_NUM})S)?)?$"
)
VERSION_RE: Final = re.compile(r"^1\.0(?:\.\d+)?$")
VERSION_2_RE: Final = re.compile(r"^2\.0(?:\.\d+)?$")

INTERACTION_TYPES: Final = frozenset(
    {
        "true-false",
        "choice",
        "fill-in",
        "long-fill-in",
        "matching",
        "performance",
        "sequencing",
        "likert",
        "numeric",
        "other",
    }
)
_COMPONENT_LISTS: Final = ("choices", "scale", "source", "target", "steps")

STATEMENT_KEYS: Final = frozenset(
    {
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    }
)
SUBSTATEMENT_KEYS: Final = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)
AGENT_KEYS: Final = frozenset({"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"})
GROUP_KEYS: Final = AGENT_KEYS | {"member"}
IFI_KEYS: Final = ("mbox", "mbox_sha1sum", "openid", "account")
ACTIVITY_KEYS: Final = frozenset({"objectType", "id", "definition"})
DEFINITION_KEYS: Final = frozenset(
    {
        "name",
        "description",
        "type",
        "moreInfo",
        "extensions",
        "interactionType",
        "correctResponsesPattern",
        *_COMPONENT_LISTS,
    }
)
RESULT_KEYS: Final = frozenset(
    {"score", "success", "completion", "response", "duration", "extensions"}
)
SCORE_KEYS: Final = frozenset({"scaled", "raw", "min", "max"})
CONTEXT_KEYS: Final = frozenset(
    {
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    }
)
CONTEXT_KEYS_2: Final = frozenset({"contextAgents", "contextGroups"})
CONTEXT_ACTIVITY_KEYS: Final = frozenset({"parent", "grouping", "category", "other"})
ATTACHMENT_KEYS: Final = frozenset(
    {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
)

MSG_MISSING = Text(fr="propriété obligatoire absente", en="required property missing")
MSG_UNKNOWN = Text(fr="propriété inconnue", en="unknown property")
MSG_TYPE = Text(fr="doit être {what}", en="must be {what_en}")
MSG_IRI = Text(
    fr="doit être un IRI absolu (un schéma, sans espace) : {value!r}",
    en="must be an absolute IRI (a scheme, no spaces): {value!r}",
)
MSG_UUID = Text(fr="doit être un UUID : {value!r}", en="must be a UUID: {value!r}")
MSG_MBOX = Text(
    fr="doit être de la forme mailto:adresse@domaine", en="must be mailto:address@domain"
)
MSG_SHA1 = Text(
    fr="doit être un SHA-1 hexadécimal (40 caractères)", en="must be a hex SHA-1 (40 characters)"
)
MSG_IFI = Text(
    fr="un agent doit avoir exactement un identifiant (mbox, mbox_sha1sum, openid ou account), "
    "{count} {count:trouvé|trouvés}",
    en="an agent needs exactly one identifier (mbox, mbox_sha1sum, openid or account), "
    "{count} found",
)
MSG_GROUP_IFI = Text(
    fr="un groupe a au plus un identifiant, et un groupe anonyme doit lister ses membres",
    en="a group has at most one identifier, and an anonymous group must list its members",
)
MSG_OBJECT_TYPE = Text(
    fr="objectType {value!r} non permis ici", en="objectType {value!r} is not allowed here"
)
MSG_SCALED = Text(fr="doit être compris entre -1 et 1", en="must be between -1 and 1")
MSG_RAW = Text(fr="doit être compris entre min et max", en="must be between min and max")
MSG_MIN_MAX = Text(fr="doit être inférieur à max", en="must be less than max")
MSG_DURATION = Text(
    fr="doit être une durée ISO 8601 (ex. PT1H30M) : {value!r}",
    en="must be an ISO 8601 duration (e.g. PT1H30M): {value!r}",
)
MSG_TIMESTAMP = Text(
    fr="doit être une date-heure ISO 8601 avec fuseau (ex. 2026-01-31T09:00:00Z) : {value!r}",
    en="must be an ISO 8601 date-time with a time zone (e.g. 2026-01-31T09:00:00Z): {value!r}",
)
MSG_LANG = Text(
    fr="clé {key!r} : étiquette de langue RFC 5646 attendue",
    en="key {key!r}: an RFC 5646 language tag is expected",
)
MSG_VERSION = Text(
    fr="version {value!r} non prise en charge (1.0.x attendu)",
    en="version {value!r} is not supported (1.0.x expected)",
)
MSG_ACTIVITY_ONLY = Text(
    fr="n'est permis que si l'objet est une activité",
    en="is only allowed when the object is an activity",
)
MSG_NESTED = Text(
    fr="une sous-déclaration ne peut pas en contenir une autre",
    en="a sub-statement cannot contain another one",
)
MSG_RAW_ATTACHMENT = Text(
    fr="pièce jointe sans fileUrl : les envois multipart ne sont pas acceptés par ce point "
    "d'entrée",
    en="attachment without fileUrl: multipart uploads are not accepted by this intake",
)
MSG_V2_ONLY = Text(
    fr="propriété xAPI 2.0 : envoyer l'en-tête X-Experience-API-Version: 2.0.0",
    en="xAPI 2.0 property: send the header X-Experience-API-Version: 2.0.0",
)
MSG_INTERACTION = Text(
    fr="interactionType inconnu : {value!r}", en="unknown interactionType: {value!r}"
)
MSG_VOIDING = Text(
    fr="une déclaration « voided » doit viser une StatementRef",
    en="a voiding statement must target a StatementRef",
)
MSG_NOT_NEGATIVE = Text(
    fr="doit être un entier positif ou nul", en="must be a non-negative integer"
)

_KINDS = {
    "object": ("un objet JSON", "a JSON object"),
    "string": ("une chaîne", "a string"),
    "boolean": ("un booléen", "a boolean"),
    "number": ("un nombre", "a number"),
    "array": ("un tableau", "an array"),
}


class StatementError(ValueError):
    """A statement is invalid: ``path`` names the property, ``reason`` says why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _type_error(path: str, kind: str) -> StatementError:
    fr, en = _KINDS[kind]
    return StatementError(path, MSG_TYPE(what=fr, what_en=en))


def _obj(value: Any, path: str, allowed: frozenset[str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _type_error(path, "object")
    # One set comparison (in C) on the valid path; the first unknown key, in
    # the order sent, is looked for only when there is one.
    if allowed is not None and not value.keys() <= allowed:
        for key in value:
            if key not in allowed:
                raise StatementError(_join(path, key), MSG_UNKNOWN())
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _type_error(path, "string")
    return value


def _bool(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise _type_error(path, "boolean")


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _type_error(path, "number")
    return float(value)


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _type_error(path, "array")
    return value


# IRIs already found valid: verbs, activities and extension keys repeat from one
# statement to the next, so most checks become a set lookup. Bounded: cleared
# when full.
_VALID_IRIS: set[str] = set()
_VALID_IRIS_LIMIT = 4096


def _iri(value: Any, path: str) -> str:
    if type(value) is str and value in _VALID_IRIS:
        return value
    text = _str(value, path)
    if not IRI_RE.match(text):
        raise StatementError(path, MSG_IRI(value=text[:200]))
    if len(_VALID_IRIS) >= _VALID_IRIS_LIMIT:
        _VALID_IRIS.clear()
    _VALID_IRIS.add(text)
    return text


def _uuid(value: Any, path: str) -> str:
    text = _str(value, path)
    if not UUID_RE.match(text):
        raise StatementError(path, MSG_UUID(value=text[:64]))
    return text


def _lang_map(value: Any, path: str) -> None:
    for key, text in _obj(value, path).items():
        if not LANG_RE.match(key):
            raise StatementError(path, MSG_LANG(key=key[:32]))
        _str(text, _join(path, key))


def _extensions(value: Any, path: str) -> None:
    for key in _obj(value, path):
        if key not in _VALID_IRIS:  # the path is built only when it may be needed
            _iri(key, f"{path}[{key!r}]")


def parse_timestamp(value: str) -> datetime | None:
    """An aware datetime from ISO 8601 text, None when it is not one."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _timestamp(value: Any, path: str) -> None:
    text = _str(value, path)
    if parse_timestamp(text) is None:
        raise StatementError(path, MSG_TIMESTAMP(value=text[:64]))


def parse_duration(value: str) -> float | None:
    """Seconds of an ISO 8601 duration (years as 365 days, months as 30), None if invalid."""
    match = DURATION_RE.match(value)
    if match is None:
        return None
    parts = {k: float(v.replace(",", ".")) for k, v in match.groupdict().items() if v}
    return (
        parts.get("y", 0) * 365 * 86400
        + parts.get("mo", 0) * 30 * 86400
        + parts.get("w", 0) * 7 * 86400
        + parts.get("d", 0) * 86400
        + parts.get("h", 0) * 3600
        + parts.get("mi", 0) * 60
        + parts.get("s", 0)
    )


def _agent(value: dict[str, Any], path: str) -> None:
    _obj(value, path, AGENT_KEYS)
    ifis = [key for key in IFI_KEYS if key in value]
    if len(ifis) != 1:
        raise StatementError(path, MSG_IFI(count=len(ifis)))
    _ifi(value, path)


def _ifi(value: dict[str, Any], path: str) -> None:
    if "name" in value:
        _str(value["name"], _join(path, "name"))
    if "mbox" in value and not MBOX_RE.match(_str(value["mbox"], _join(path, "mbox"))):
        raise StatementError(_join(path, "mbox"), MSG_MBOX())
    if "mbox_sha1sum" in value and not SHA1_RE.match(
        _str(value["mbox_sha1sum"], _join(path, "mbox_sha1sum"))
    ):
        raise StatementError(_join(path, "mbox_sha1sum"), MSG_SHA1())
    if "openid" in value:
        _iri(value["openid"], _join(path, "openid"))
    if "account" in value:
        account_path = _join(path, "account")
        account = _obj(value["account"], account_path, frozenset({"homePage", "name"}))
        for key in ("homePage", "name"):
            if key not in account:
                raise StatementError(_join(account_path, key), MSG_MISSING())
        _iri(account["homePage"], _join(account_path, "homePage"))
        _str(account["name"], _join(account_path, "name"))


def _group(value: dict[str, Any], path: str) -> None:
    _obj(value, path, GROUP_KEYS)
    ifis = [key for key in IFI_KEYS if key in value]
    if len(ifis) > 1 or (not ifis and "member" not in value):
        raise StatementError(path, MSG_GROUP_IFI())
    _ifi(value, path)
    if "member" in value:
        for index, item in enumerate(_list(value["member"], _join(path, "member"))):
            member_path = f"{path}.member[{index}]"
            member = _obj(item, member_path)
            if member.get("objectType", "Agent") != "Agent":
                raise StatementError(
                    _join(member_path, "objectType"), MSG_OBJECT_TYPE(value=member["objectType"])
                )
            _agent(member, member_path)


def _actor(value: Any, path: str) -> None:
    actor = _obj(value, path)
    object_type = actor.get("objectType", "Agent")
    if object_type == "Agent":
        _agent(actor, path)
    elif object_type == "Group":
        _group(actor, path)
    else:
        raise StatementError(_join(path, "objectType"), MSG_OBJECT_TYPE(value=object_type))


def _definition(value: Any, path: str) -> None:
    definition = _obj(value, path, DEFINITION_KEYS)
    for key in ("name", "description"):
        if key in definition:
            _lang_map(definition[key], _join(path, key))
    for key in ("type", "moreInfo"):
        if key in definition:
            _iri(definition[key], _join(path, key))
    if "extensions" in definition:
        _extensions(definition["extensions"], _join(path, "extensions"))
    if "interactionType" in definition:
        kind = _str(definition["interactionType"], _join(path, "interactionType"))
        if kind not in INTERACTION_TYPES:
            raise StatementError(_join(path, "interactionType"), MSG_INTERACTION(value=kind))
    if "correctResponsesPattern" in definition:
        pattern_path = _join(path, "correctResponsesPattern")
        for index, item in enumerate(_list(definition["correctResponsesPattern"], pattern_path)):
            _str(item, f"{pattern_path}[{index}]")
    for key in _COMPONENT_LISTS:
        if key in definition:
            list_path = _join(path, key)
            for index, item in enumerate(_list(definition[key], list_path)):
                item_path = f"{list_path}[{index}]"
                component = _obj(item, item_path, frozenset({"id", "description"}))
                if "id" not in component:
                    raise StatementError(_join(item_path, "id"), MSG_MISSING())
                _str(component["id"], _join(item_path, "id"))
                if "description" in component:
                    _lang_map(component["description"], _join(item_path, "description"))


def _activity(value: Any, path: str) -> None:
    activity = _obj(value, path, ACTIVITY_KEYS)
    if activity.get("objectType", "Activity") != "Activity":
        raise StatementError(
            _join(path, "objectType"), MSG_OBJECT_TYPE(value=activity["objectType"])
        )
    if "id" not in activity:
        raise StatementError(_join(path, "id"), MSG_MISSING())
    _iri(activity["id"], _join(path, "id"))
    if "definition" in activity:
        _definition(activity["definition"], _join(path, "definition"))


def _statement_ref(value: dict[str, Any], path: str) -> None:
    _obj(value, path, frozenset({"objectType", "id"}))
    if "id" not in value:
        raise StatementError(_join(path, "id"), MSG_MISSING())
    _uuid(value["id"], _join(path, "id"))


def _object(value: Any, path: str, *, nested: bool) -> str:
    target = _obj(value, path)
    object_type = target.get("objectType", "Activity")
    if object_type == "Activity":
        _activity(target, path)
    elif object_type == "Agent":
        _agent(target, path)
    elif object_type == "Group":
        _group(target, path)
    elif object_type == "StatementRef":
        _statement_ref(target, path)
    elif object_type == "SubStatement":
        if nested:
            raise StatementError(path, MSG_NESTED())
        _body(target, path, SUBSTATEMENT_KEYS, version_2=False, nested=True)
    else:
        raise StatementError(_join(path, "objectType"), MSG_OBJECT_TYPE(value=object_type))
    return str(object_type)


def _result(value: Any, path: str) -> None:
    result = _obj(value, path, RESULT_KEYS)
    if "score" in result:
        score_path = _join(path, "score")
        score = _obj(result["score"], score_path, SCORE_KEYS)
        numbers = {key: _number(score[key], _join(score_path, key)) for key in score}
        scaled = numbers.get("scaled")
        if scaled is not None and not -1 <= scaled <= 1:
            raise StatementError(_join(score_path, "scaled"), MSG_SCALED())
        low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
        if low is not None and high is not None and not low < high:
            raise StatementError(_join(score_path, "min"), MSG_MIN_MAX())
        if raw is not None and (
            (low is not None and raw < low) or (high is not None and raw > high)
        ):
            raise StatementError(_join(score_path, "raw"), MSG_RAW())
    for key in ("success", "completion"):
        if key in result:
            _bool(result[key], _join(path, key))
    if "response" in result:
        _str(result["response"], _join(path, "response"))
    if "duration" in result:
        text = _str(result["duration"], _join(path, "duration"))
        if parse_duration(text) is None:
            raise StatementError(_join(path, "duration"), MSG_DURATION(value=text[:64]))
    if "extensions" in result:
        _extensions(result["extensions"], _join(path, "extensions"))


def _context(value: Any, path: str, object_type: str, *, version_2: bool) -> None:
    allowed = CONTEXT_KEYS | CONTEXT_KEYS_2 if version_2 else CONTEXT_KEYS
    context = _obj(value, path)
    for key in context:
        if key not in allowed:
            message = MSG_V2_ONLY() if key in CONTEXT_KEYS_2 else MSG_UNKNOWN()
            raise StatementError(_join(path, key), message)
    if "registration" in context:
        _uuid(context["registration"], _join(path, "registration"))
    if "instructor" in context:
        _actor(context["instructor"], _join(path, "instructor"))
    if "team" in context:
        team = _obj(context["team"], _join(path, "team"))
        if team.get("objectType") != "Group":
            raise StatementError(
                _join(path, "team.objectType"), MSG_OBJECT_TYPE(value=team.get("objectType"))
            )
        _group(team, _join(path, "team"))
    if "contextActivities" in context:
        ca_path = _join(path, "contextActivities")
        for key, item in _obj(context["contextActivities"], ca_path, CONTEXT_ACTIVITY_KEYS).items():
            entries = item if isinstance(item, list) else [item]
            for index, entry in enumerate(entries):
                _activity(entry, f"{ca_path}.{key}[{index}]")
    for key in ("revision", "platform"):
        if key in context:
            _str(context[key], _join(path, key))
            if object_type != "Activity":
                raise StatementError(_join(path, key), MSG_ACTIVITY_ONLY())
    if "language" in context:
        language = _str(context["language"], _join(path, "language"))
        if not LANG_RE.match(language):
            raise StatementError(_join(path, "language"), MSG_LANG(key=language[:32]))
    if "statement" in context:
        ref = _obj(context["statement"], _join(path, "statement"))
        if ref.get("objectType") != "StatementRef":
            raise StatementError(
                _join(path, "statement.objectType"), MSG_OBJECT_TYPE(value=ref.get("objectType"))
            )
        _statement_ref(ref, _join(path, "statement"))
    if "extensions" in context:
        _extensions(context["extensions"], _join(path, "extensions"))


def _attachments(value: Any, path: str) -> None:
    for index, item in enumerate(_list(value, path)):
        item_path = f"{path}[{index}]"
        attachment = _obj(item, item_path, ATTACHMENT_KEYS)
        for key in ("usageType", "display", "contentType", "length", "sha2"):
            if key not in attachment:
                raise StatementError(_join(item_path, key), MSG_MISSING())
        _iri(attachment["usageType"], _join(item_path, "usageType"))
        _lang_map(attachment["display"], _join(item_path, "display"))
        if "description" in attachment:
            _lang_map(attachment["description"], _join(item_path, "description"))
        _str(attachment["contentType"], _join(item_path, "contentType"))
        length = attachment["length"]
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise StatementError(_join(item_path, "length"), MSG_NOT_NEGATIVE())
        _str(attachment["sha2"], _join(item_path, "sha2"))
        if "fileUrl" not in attachment:
            raise StatementError(_join(item_path, "fileUrl"), MSG_RAW_ATTACHMENT())
        _iri(attachment["fileUrl"], _join(item_path, "fileUrl"))


def _body(
    statement: dict[str, Any],
    path: str,
    allowed: frozenset[str],
    *,
    version_2: bool,
    nested: bool,
) -> None:
    _obj(statement, path, allowed)
    for key in ("actor", "verb", "object"):
        if key not in statement:
            raise StatementError(_join(path, key), MSG_MISSING())
    _actor(statement["actor"], _join(path, "actor"))
    verb_path = _join(path, "verb")
    verb = _obj(statement["verb"], verb_path, frozenset({"id", "display"}))
    if "id" not in verb:
        raise StatementError(_join(verb_path, "id"), MSG_MISSING())
    verb_id = _iri(verb["id"], _join(verb_path, "id"))
    if "display" in verb:
        _lang_map(verb["display"], _join(verb_path, "display"))
    object_type = _object(statement["object"], _join(path, "object"), nested=nested)
    if verb_id == VOIDED and object_type != "StatementRef":
        raise StatementError(_join(path, "object"), MSG_VOIDING())
    if "result" in statement:
        _result(statement["result"], _join(path, "result"))
    if "context" in statement:
        _context(statement["context"], _join(path, "context"), object_type, version_2=version_2)
    if "timestamp" in statement:
        _timestamp(statement["timestamp"], _join(path, "timestamp"))
    if "attachments" in statement:
        _attachments(statement["attachments"], _join(path, "attachments"))


def validate_statement(statement: Any, *, version_2: bool = False) -> None:
    """Raise :class:`StatementError` for the first fault of one statement."""
    body = _obj(statement, "")
    _body(body, "", STATEMENT_KEYS, version_2=version_2, nested=False)
    if "id" in body:
        _uuid(body["id"], "id")
    if "stored" in body:
        _timestamp(body["stored"], "stored")
    if "authority" in body:
        _actor(body["authority"], "authority")
    if "version" in body:
        version = _str(body["version"], "version")
        pattern_ok = VERSION_RE.match(version) or (version_2 and VERSION_2_RE.match(version))
        if not pattern_ok:
            raise StatementError("version", MSG_VERSION(value=version[:16]))
