"""What one sync learns about the site, fetched once and shared by the streams:
site info and functions, the course list, course contents, course members,
and which courses changed since a stream's cursor."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from preuve.connectors.errors import PermanentError, SkipItem
from preuve.connectors.moodle.client import MoodleClient
from preuve.connectors.moodle.concurrency import ordered_map
from preuve.connectors.moodle.constants import (
    F_CONTENTS,
    F_COURSES,
    F_ENROLLED,
    F_QUIZ_ATTEMPTS_NEW,
    F_QUIZ_ATTEMPTS_OLD,
    F_SITE_INFO,
    F_UPDATES_SINCE,
    MENU_FUNCTIONS,
    MENU_TAGS,
    QUIZ_ATTEMPTS_RENAMED_IN,
    REQUIRED_FUNCTIONS,
)
from preuve.connectors.moodle.cursor import CursorState
from preuve.connectors.moodle.encoding import options_list
from preuve.connectors.moodle.options import MoodleOptions
from preuve.connectors.moodle.tags import MSG_TAGS_DISABLED, module_area, tagged_modules
from preuve.connectors.moodle.values import text, to_int
from preuve.evidence.identity import Pseudonymiser
from preuve.evidence.model import TRAINER_ROLES, PersonRole
from preuve.i18n import Text

MSG_MISSING_REQUIRED = Text(
    fr="fonctions obligatoires absentes du service : {functions}",
    en="required functions missing from the service: {functions}",
)
MSG_COURSE = Text(fr="cours {id}", en="course {id}")

ROLE_PRIORITY = (
    PersonRole.TRAINER,
    PersonRole.NON_EDITING_TRAINER,
    PersonRole.TUTOR,
    PersonRole.LEARNER,
    PersonRole.OTHER,
)
DAY = 86400


@dataclass(frozen=True, slots=True)
class SiteInfo:
    release: str
    version: str
    site_url: str
    user_id: int
    is_site_admin: bool
    functions: dict[str, str]  # name -> version
    username: str = ""  # the token's account, named in the fixes `check` gives

    def has(self, function: str) -> bool:
        return function in self.functions

    @property
    def major(self) -> int:
        head = self.release.split(".", 1)[0]
        return int(head) if head.isdigit() else 0

    @property
    def quiz_attempts_function(self) -> str:
        """Moodle 5.0 deprecated mod_quiz_get_user_attempts for the new name: the new
        one when the service has it, else the old one (the expected one on 5.0+)."""
        if self.has(F_QUIZ_ATTEMPTS_NEW):
            return F_QUIZ_ATTEMPTS_NEW
        if self.has(F_QUIZ_ATTEMPTS_OLD) or self.major < QUIZ_ATTEMPTS_RENAMED_IN:
            return F_QUIZ_ATTEMPTS_OLD
        return F_QUIZ_ATTEMPTS_NEW

    def plugin_versions(self) -> dict[str, str]:
        versions: dict[str, str] = {}
        for name, version in self.functions.items():
            if name.startswith("mod_"):
                versions.setdefault(name.split("_")[1], version)
        return versions


@dataclass(frozen=True, slots=True)
class CourseInfo:
    id: int
    fullname: str
    shortname: str
    idnumber: str | None
    category: int
    summary: str | None
    startdate: int
    enddate: int
    timemodified: int
    visible: bool
    enablecompletion: bool
    customfields: dict[str, str]
    contacts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    cmid: int
    modname: str
    instance: int
    name: str
    section: int
    url: str | None
    completion: int
    visible: bool


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    person_ref: str
    role: PersonRole
    suspended: bool
    display_name: str | None


def _course(raw: dict[str, Any]) -> CourseInfo:
    fields: dict[str, str] = {}
    for item in raw.get("customfields") or ():
        if isinstance(item, dict) and item.get("shortname"):
            value = item.get("valueraw", item.get("value"))
            if value not in (None, ""):
                fields[str(item["shortname"])] = str(value)
    return CourseInfo(
        id=int(raw["id"]),
        fullname=text(raw.get("fullname")) or str(raw.get("shortname") or raw["id"]),
        shortname=str(raw.get("shortname") or ""),
        idnumber=str(raw.get("idnumber")) if raw.get("idnumber") else None,
        category=int(raw.get("categoryid") or raw.get("category") or 0),
        summary=text(raw.get("summary")),
        startdate=to_int(raw.get("startdate")) or 0,
        enddate=to_int(raw.get("enddate")) or 0,
        timemodified=to_int(raw.get("timemodified")) or 0,
        visible=bool(raw.get("visible", 1)),
        enablecompletion=bool(raw.get("enablecompletion")),
        customfields=fields,
        contacts=tuple(int(c["id"]) for c in raw.get("contacts") or () if "id" in c),
    )


@dataclass
class MoodleSite:
    """Per-sync shared state; every fetch goes through the client."""

    client: MoodleClient
    options: MoodleOptions
    source_id: str
    pseudonymiser: Pseudonymiser
    clock: Callable[[], datetime]
    _info: SiteInfo | None = None
    _courses: list[CourseInfo] | None = None
    _contents: dict[int, tuple[ModuleInfo, ...]] = field(default_factory=dict)
    _members: dict[int, tuple[Member, ...]] = field(default_factory=dict)
    _changed: dict[tuple[int, int], bool] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _tagged: dict[str, frozenset[int]] | None = None  # configured tag -> course module ids
    _tag_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def now(self) -> int:
        return int(self.clock().timestamp())

    def action_ref(self, course_id: int) -> str:
        return f"{self.source_id}:course:{course_id}"

    def person_ref(self, user_id: int, email: str | None = None) -> str:
        return self.pseudonymiser.person_key(source=self.source_id, user_id=user_id, email=email)

    @property
    def fetched_info(self) -> SiteInfo | None:
        """The site info if already fetched (even when required functions were missing)."""
        return self._info

    async def info(self) -> SiteInfo:
        async with self._lock:
            if self._info is None:
                raw = await self.client.call(F_SITE_INFO)
                functions = {
                    str(f["name"]): str(f.get("version", ""))
                    for f in raw.get("functions") or ()
                    if isinstance(f, dict) and "name" in f
                }
                self._info = SiteInfo(
                    release=str(raw.get("release", "")),
                    version=str(raw.get("version", "")),
                    site_url=str(raw.get("siteurl", "")),
                    user_id=int(raw.get("userid", 0)),
                    is_site_admin=bool(raw.get("userissiteadmin")),
                    functions=functions,
                    username=str(raw.get("username") or ""),
                )
                missing = [f for f in REQUIRED_FUNCTIONS if f not in functions]
                if missing:
                    raise PermanentError(
                        MSG_MISSING_REQUIRED(functions=", ".join(missing)),
                        code="function_not_in_service",
                        hint=MENU_FUNCTIONS,
                    )
            return self._info

    async def courses(self) -> list[CourseInfo]:
        async with self._lock:
            if self._courses is None:
                raw = await self.client.call(F_COURSES)
                wanted = set(self.options.category_ids)
                courses = [
                    _course(c)
                    for c in raw.get("courses") or ()
                    if c.get("format") != "site" and int(c.get("id", 1)) != 1
                ]
                self._courses = sorted(
                    (c for c in courses if not wanted or c.category in wanted),
                    key=lambda c: c.id,
                )
            return self._courses

    async def contents(self, course_id: int) -> tuple[ModuleInfo, ...]:
        cached = self._contents.get(course_id)
        if cached is not None:
            return cached
        raw = await self.client.call(
            F_CONTENTS,
            {"courseid": course_id, "options": options_list(excludecontents=1)},
            item=MSG_COURSE(id=course_id),
        )
        modules = tuple(
            ModuleInfo(
                cmid=int(m["id"]),
                modname=str(m.get("modname", "")),
                instance=int(m.get("instance") or 0),
                name=text(m.get("name")) or f"cm {m['id']}",
                section=int(section.get("section") or 0),
                url=m.get("url"),
                completion=int(m.get("completion") or 0),
                visible=bool(m.get("visible", 1)),
            )
            for section in raw or ()
            for m in section.get("modules") or ()
        )
        self._contents[course_id] = modules
        return modules

    async def tag_index(self) -> dict[str, frozenset[int]]:
        """The activities carrying each configured tag, read once per sync."""
        async with self._tag_lock:
            if self._tagged is None:
                tags = self.options.activity_tags
                option = self.options.tag_option_names
                index: dict[str, frozenset[int]] = {}
                if tags:
                    area = await module_area(self.client, option)
                    if area is None:
                        raise PermanentError(
                            MSG_TAGS_DISABLED(option=option), code="tags_disabled", hint=MENU_TAGS
                        )
                    for tag in tags:
                        index[tag] = frozenset(await tagged_modules(self.client, area, tag, option))
                self._tagged = index
            return self._tagged

    async def modules(self, course_id: int, modname: str) -> list[ModuleInfo]:
        return [m for m in await self.contents(course_id) if m.modname == modname]

    async def members(self, course_id: int) -> tuple[Member, ...]:
        """Everyone enrolled with a mapped role, with suspended enrolments marked."""
        cached = self._members.get(course_id)
        if cached is not None:
            return cached
        item = MSG_COURSE(id=course_id)
        users = await self._paged_users(course_id, "id,fullname,email,roles", item)
        suspended = {
            int(u["id"]) for u in await self._paged_users(course_id, "id", item, onlysuspended=1)
        }
        role_map = self.options.role_map
        keep_names = self.options.display_names
        members: list[Member] = []
        for user in users:
            roles = {
                role_map[r["shortname"]]
                for r in user.get("roles") or ()
                if r.get("shortname") in role_map
            }
            if not roles:
                continue
            role = next(r for r in ROLE_PRIORITY if r in roles)
            uid = int(user["id"])
            name = text(user.get("fullname"))
            show = keep_names == "all" or (keep_names == "trainers" and role in TRAINER_ROLES)
            members.append(
                Member(
                    user_id=uid,
                    person_ref=self.person_ref(uid, user.get("email")),
                    role=role,
                    suspended=uid in suspended,
                    display_name=name if show else None,
                )
            )
        result = tuple(members)
        self._members[course_id] = result
        return result

    async def _paged_users(
        self, course_id: int, fields: str, item: str, **extra: Any
    ) -> list[dict[str, Any]]:
        size = self.options.page_size
        users: list[dict[str, Any]] = []
        start = 0
        while True:
            page = await self.client.call(
                F_ENROLLED,
                {
                    "courseid": course_id,
                    "options": options_list(
                        **extra, userfields=fields, sortby="id", limitfrom=start, limitnumber=size
                    ),
                },
                item=item,
            )
            users.extend(u for u in page or () if isinstance(u, dict) and "id" in u)
            if len(page or ()) < size:
                return users
            start += size

    async def changed_since(self, course: CourseInfo, since: int) -> bool:
        """Did anything in the course change since ``since`` (module-level view)?"""
        if course.timemodified >= since:
            return True
        info = await self.info()
        if not info.has(F_UPDATES_SINCE):
            return True  # cannot tell: read it again
        key = (course.id, since)
        if key not in self._changed:
            raw = await self.client.call(
                F_UPDATES_SINCE,
                {"courseid": course.id, "since": since},
                item=MSG_COURSE(id=course.id),
            )
            self._changed[key] = bool(raw.get("instances"))
        return self._changed[key]

    def running(self, course: CourseInfo, now: int) -> bool:
        """Taking place now (attendance and enrolments move without module updates)."""
        grace = self.options.running_grace_days * DAY
        starts = course.startdate - DAY if course.startdate else 0
        ends = course.enddate + grace if course.enddate else now + 1
        return starts <= now <= ends

    def closed(self, course: CourseInfo, now: int) -> bool:
        limit = self.options.poll_closed_courses_days * DAY
        return bool(course.enddate) and course.enddate + limit < now

    async def select(
        self, state: CursorState, *, live: bool
    ) -> tuple[list[CourseInfo], list[tuple[CourseInfo, SkipItem]]]:
        """Courses a pass must read, and those whose change check was refused."""
        courses = [c for c in await self.courses() if state.after is None or c.id > state.after]
        if state.full or state.since is None:
            return courses, []
        since = state.since
        now = self.now()
        retry = set(state.retry)

        async def needed(course: CourseInfo) -> bool:
            if course.id in retry or course.timemodified >= since:
                return True
            if self.closed(course, now):
                return False
            if live and self.running(course, now):
                return True
            return await self.changed_since(course, since)

        chosen: list[CourseInfo] = []
        refused: list[tuple[CourseInfo, SkipItem]] = []
        async for course, result in ordered_map(courses, needed, self.options.concurrency * 2):
            if isinstance(result, SkipItem):
                refused.append((course, result))
            elif result:
                chosen.append(course)
        return chosen, refused
