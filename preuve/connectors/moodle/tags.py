"""Activity tags, read from Moodle's tag index (the only web service that gives them).

No web service returns the tags of an activity: ``core_course_get_contents``
has tags only on files, ``core_tag_get_tags`` describes tags by id. What does
exist (Moodle 3.7+) is the tag index the Moodle app shows:
``core_tag_get_tagindex_per_area`` gives, for one tag and one tag area, the
tagged items as the rendered ``core_tag/tagfeed`` list (HTML), 20 per page in
exclusive mode, with a ``nextpageurl`` while more pages follow. For the area
``core/course_modules`` each item links to its activity (``/mod/<name>/view.php?id=<cmid>``),
so the course module ids are read from those links, never from the displayed
text. ``core_tag_get_tag_areas`` gives the area's id and tag collection.

The index lists only what the token's account may see (hidden activities need
``moodle/course:viewhiddenactivities``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import lxml.etree
import lxml.html

from preuve.connectors.errors import PermanentError
from preuve.connectors.moodle.client import MoodleClient
from preuve.connectors.moodle.constants import F_TAG_AREAS, F_TAG_INDEX, MENU_TAGS
from preuve.connectors.moodle.values import to_int
from preuve.i18n import Text

AREA_COMPONENT = "core"
AREA_ITEMTYPE = "course_modules"
MAX_PAGES = 500  # 10,000 tagged activities per tag: a safety stop, not a limit met in practice

MSG_TAGS_DISABLED = Text(
    fr="les tags sont désactivés sur ce Moodle (ou pour les activités) : l'option "
    "{option} ne peut rien reconnaître ; activez-les ou retirez la clé tag",
    en="tags are disabled on this Moodle (or for activities): option {option} cannot "
    "recognise anything; enable them or remove the tag key",
)
MSG_TOO_MANY = Text(
    fr="plus de {pages} pages d'activités portent le tag « {tag} » : lecture arrêtée",
    en="more than {pages} pages of activities carry tag '{tag}': reading stopped",
)

_PARSER = lxml.html.HTMLParser(no_network=True, remove_comments=True, huge_tree=False)
_MODULE_LINK = re.compile(r"/mod/[a-z0-9_]+/view\.php\?(?:[^#]*&)?id=(\d+)")


@dataclass(frozen=True, slots=True)
class TagArea:
    id: int
    collection: int


def carried(index: dict[str, frozenset[int]], cmid: int | None) -> frozenset[str]:
    """The tags of ``index`` (casefolded) that course module ``cmid`` carries."""
    if cmid is None or not index:
        return frozenset()
    return frozenset(tag for tag, cmids in index.items() if cmid in cmids)


def module_ids(content: str) -> set[int]:
    """The course module ids a rendered tag feed links to."""
    if not content.strip():
        return set()
    try:
        root = lxml.html.fragment_fromstring(content, create_parent="div", parser=_PARSER)
        hrefs = [str(a.get("href") or "") for a in root.iter("a")]
    except (ValueError, lxml.etree.ParserError):
        hrefs = re.findall(r'href="([^"]*)"', content)
    found: set[int] = set()
    for href in hrefs:
        match = _MODULE_LINK.search(href.replace("&amp;", "&"))
        if match:
            found.add(int(match.group(1)))
    return found


async def module_area(client: MoodleClient, option: str) -> TagArea | None:
    """The ``core/course_modules`` tag area, None when activities cannot be tagged."""
    try:
        raw = await client.call(F_TAG_AREAS)
    except PermanentError as exc:
        raise _disabled(exc, option) from exc
    for area in raw.get("areas") or ():
        if area.get("component") == AREA_COMPONENT and area.get("itemtype") == AREA_ITEMTYPE:
            area_id, collection = to_int(area.get("id")), to_int(area.get("tagcollid"))
            if area.get("enabled", True) and area_id and collection:
                return TagArea(area_id, collection)
    return None


async def tagged_modules(client: MoodleClient, area: TagArea, tag: str, option: str) -> set[int]:
    """The ids of the course modules carrying ``tag``."""
    found: set[int] = set()
    for page in range(MAX_PAGES):
        try:
            raw = await client.call(
                F_TAG_INDEX,
                {
                    "tagindex": {
                        "tag": tag,
                        "tc": area.collection,
                        "ta": area.id,
                        "excl": 1,
                        "page": page,
                    }
                },
            )
        except PermanentError as exc:
            if exc.code == "moodle_notagsfound":
                return found  # no such tag: no activity carries it
            raise _disabled(exc, option) from exc
        entry = _entry(raw, area)
        if entry is None:
            return found  # past the last page (or nothing tagged)
        found |= module_ids(str(entry.get("content") or ""))
        if not entry.get("nextpageurl"):
            return found
    raise PermanentError(MSG_TOO_MANY(pages=MAX_PAGES, tag=tag), code="too_many_tagged")


def _entry(raw: Any, area: TagArea) -> dict[str, Any] | None:
    for entry in raw or ():
        if not isinstance(entry, dict):
            continue
        same_area = to_int(entry.get("ta")) == area.id or (
            entry.get("component") == AREA_COMPONENT and entry.get("itemtype") == AREA_ITEMTYPE
        )
        if same_area:
            return entry
    return None


def _disabled(exc: PermanentError, option: str) -> PermanentError:
    if exc.code == "moodle_tagsaredisabled":
        message = MSG_TAGS_DISABLED(option=option)
        return PermanentError(message, code="tags_disabled", hint=MENU_TAGS)
    return exc
