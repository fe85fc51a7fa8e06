"""The Moodle functions the stand-in answers, shaped like recorded 4.5.6 answers."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from preuve.testing.moodle.faults import Faults
from preuve.testing.moodle.generator import (
    SATISFACTION,
    SITE_URL,
    STATUS_SETS,
    GeneratedSite,
    Module,
)

Handler = Callable[[dict[str, Any]], Any]
QUIZ_RENAMED_IN = 5  # major release that added mod_quiz_get_user_quiz_attempts
SCORM_MASTERY = 50  # SCORM 1.2 mastery score of the generated packages
SCORM_THRESHOLD = 0.8  # SCORM 2004 completion threshold (manifest)
SCORM_PASSING = 0.6  # SCORM 2004 scaled passing score (manifest)


class MoodleError(Exception):
    """Answered as HTTP 200 with Moodle's exception body."""

    def __init__(self, exception: str, errorcode: str, message: str, debuginfo: str = "") -> None:
        super().__init__(errorcode)
        self.body: dict[str, Any] = {
            "exception": exception,
            "errorcode": errorcode,
            "message": message,
        }
        self.debuginfo = debuginfo


def invalid_parameter(detail: str) -> MoodleError:
    return MoodleError(
        "core\\exception\\invalid_parameter_exception",
        "invalidparameter",
        "Invalid parameter value detected",
        detail,
    )


def missing_record(table: str) -> MoodleError:
    return MoodleError(
        "dml_missing_record_exception",
        "invalidrecord",
        f"Can't find data record in database table {table}.",
    )


def no_permission(capability: str, label: str) -> MoodleError:
    return MoodleError(
        "core\\exception\\required_capability_exception",
        "nopermissions",
        f"Sorry, but you do not currently have permissions to do that ({label}).",
        capability,
    )


def _int(params: dict[str, Any], name: str, default: int | None = None) -> int:
    value = params.get(name)
    if value is None:
        if default is None:
            raise invalid_parameter(f"Missing required key in single structure: {name}")
        return default
    try:
        return int(str(value))
    except ValueError as exc:
        raise invalid_parameter(f"{name} => Invalid parameter value detected") from exc


def _options(params: dict[str, Any]) -> dict[str, str]:
    found = params.get("options") or []
    if not isinstance(found, list):
        raise invalid_parameter("options => Only arrays accepted.")
    return {str(o.get("name")): str(o.get("value")) for o in found if isinstance(o, dict)}


def _ids(params: dict[str, Any], name: str) -> list[int]:
    value = params.get(name) or []
    if not isinstance(value, list):
        raise invalid_parameter(f"{name} => Only arrays accepted.")
    return [int(v) for v in value]


CAPABILITIES = {
    "core_enrol_get_enrolled_users": ("moodle/course:viewparticipants", "View participants"),
    "gradereport_user_get_grade_items": ("moodle/grade:viewall", "View all grades"),
    "mod_attendance_get_sessions": ("mod/attendance:takeattendances", "Take attendances"),
    "mod_feedback_get_responses_analysis": ("mod/feedback:viewreports", "View reports"),
    "mod_scorm_get_scorm_sco_tracks": ("mod/scorm:viewreport", "View SCORM reports"),
    "mod_quiz_get_user_attempts": ("mod/quiz:viewreports", "View quiz reports"),
    "mod_quiz_get_user_quiz_attempts": ("mod/quiz:viewreports", "View quiz reports"),
    "mod_quiz_get_user_best_grade": ("mod/quiz:viewreports", "View quiz reports"),
    "core_badges_get_user_badges": ("moodle/badges:viewotherbadges", "View other users' badges"),
}

# Tag areas of a 4.5 site (id -> component, itemtype, callback, callback file); all in
# the default collection.
DEFAULT_TAG_COLLECTION = 1
TAG_AREAS: dict[int, tuple[str, str, str | None, str | None]] = {
    1: ("core", "user", "user_get_tagged_users", "/user/lib.php"),
    2: ("core", "course", "course_get_tagged_courses", "/course/lib.php"),
    3: ("core_question", "question", None, None),
    4: ("core", "post", "blog_get_tagged_posts", "/blog/lib.php"),
    5: ("core", "blog_external", None, None),
    6: ("core", "course_modules", "course_get_tagged_course_modules", "/course/lib.php"),
}

# core_enrol_get_users_courses gives another user's completion only with it (no error).
COMPLETION_CAPABILITY = "report/completion:view"

# Functions that check their capability only when asked about another user.
OTHER_USERS_ONLY = frozenset(
    {
        "mod_quiz_get_user_attempts",
        "mod_quiz_get_user_quiz_attempts",
        "mod_quiz_get_user_best_grade",
        "core_badges_get_user_badges",
    }
)


class Functions:
    def __init__(self, site: GeneratedSite, faults: Faults) -> None:
        self.site = site
        self.faults = faults
        self.table: dict[str, Handler] = {
            "core_webservice_get_site_info": self.site_info,
            "core_course_get_courses_by_field": self.courses_by_field,
            "core_course_get_contents": self.contents,
            "core_course_get_updates_since": self.updates_since,
            "core_enrol_get_enrolled_users": self.enrolled_users,
            "core_enrol_get_users_courses": self.users_courses,
            "core_completion_get_activities_completion_status": self.activities_completion,
            "core_user_get_users_by_field": self.users_by_field,
            "gradereport_user_get_grade_items": self.grade_items,
            "mod_attendance_get_sessions": self.attendance_sessions,
            "mod_feedback_get_feedbacks_by_courses": self.feedbacks,
            "mod_feedback_get_responses_analysis": self.feedback_responses,
            "mod_feedback_get_non_respondents": self.feedback_non_respondents,
            "mod_scorm_get_scorms_by_courses": self.scorms,
            "mod_scorm_get_scorm_scoes": self.scorm_scoes,
            "mod_scorm_get_scorm_sco_tracks": self.scorm_tracks,
            "mod_quiz_get_user_attempts": self.quiz_attempts,
            "mod_quiz_get_user_best_grade": self.quiz_best_grade,
            "core_badges_get_user_badges": self.user_badges,
            "core_tag_get_tag_areas": self.tag_areas,
            "core_tag_get_tagindex_per_area": self.tagindex_per_area,
        }
        if int(site.spec.release.split(".")[0]) >= QUIZ_RENAMED_IN:
            # Moodle 5.0 added the new name; the old one stays, deprecated.
            self.table["mod_quiz_get_user_quiz_attempts"] = self.quiz_attempts

    def available(self) -> list[str]:
        return sorted(f for f in self.table if f not in self.faults.missing_functions)

    @property
    def token_user(self) -> int:
        """The token's account (``userid`` of the site info)."""
        return 2 if self.faults.site_admin else 35

    def check_capability(self, function: str, params: dict[str, Any] | None = None) -> None:
        needed = CAPABILITIES.get(function)
        if not needed or needed[0] not in self.faults.missing_capabilities:
            return
        if function in OTHER_USERS_ONLY and _int(params or {}, "userid", 0) in (
            0,
            self.token_user,
        ):
            return  # Moodle checks the capability only for someone else's data
        raise no_permission(*needed)

    def _course(self, course_id: int) -> None:
        if not self.site.has_course(course_id):
            raise missing_record("course")
        if course_id in self.faults.inaccessible_courses:
            raise MoodleError(
                "core\\exception\\require_login_exception",
                "requireloginerror",
                "Course or activity not accessible. (Not enrolled)",
            )

    def _module(self, cmid: int, modname: str) -> Module:
        module = self.site.module(cmid)
        if module is None or module.modname != modname:
            raise missing_record(modname)
        self._course(cmid // 100)
        return module

    # -- core ---------------------------------------------------------------

    def site_info(self, params: dict[str, Any]) -> Any:
        spec = self.site.spec
        return {
            "sitename": "Organisme Démo",
            "username": "qualiopi_ws",
            "firstname": "Qualiopi",
            "lastname": "Connector",
            "fullname": "Qualiopi Connector",
            "lang": "fr",
            "userid": self.token_user,
            "siteurl": SITE_URL,
            "userpictureurl": f"{SITE_URL}/theme/image.php/boost/core/1/u/f1",
            "functions": [
                {"name": f, "version": "2024020500" if "attendance" in f else spec.version}
                for f in self.available()
            ],
            "downloadfiles": 1,
            "uploadfiles": 0,
            "release": spec.release,
            "version": spec.version,
            "mobilecssurl": "",
            "advancedfeatures": [{"name": "enablecompletion", "value": 1}],
            "usercanmanageownfiles": True,
            "userquota": 104857600,
            "usermaxuploadfilesize": 67108864,
            "userhomepage": 1,
            "siteid": 1,
            "sitecalendartype": "gregorian",
            "usercalendartype": "gregorian",
            "userissiteadmin": self.faults.site_admin,
            "theme": "boost",
            "limitconcurrentlogins": 0,
            "policyagreed": 0,
        }

    def courses_by_field(self, params: dict[str, Any]) -> Any:
        field = str(params.get("field") or "")
        value = str(params.get("value") or "")
        if field == "":
            ids = list(self.site.course_ids)
            courses = [self.site.site_course()]
        elif field in ("id", "ids"):
            ids = [int(v) for v in value.split(",") if v.strip()]
            courses = []
        else:
            raise invalid_parameter(f"field => {field}")
        courses += [self.site.course(c) for c in ids if self.site.has_course(c)]
        return {"courses": courses, "warnings": []}

    def contents(self, params: dict[str, Any]) -> Any:
        course_id = _int(params, "courseid")
        self._course(course_id)
        sections: dict[int, list[dict[str, Any]]] = {0: [], 1: [], 2: [], 3: []}
        for m in self.site.modules(course_id):
            sections[m.section].append(
                {
                    "id": m.cmid,
                    "url": f"{SITE_URL}/mod/{m.modname}/view.php?id={m.cmid}",
                    "name": m.name,
                    "instance": m.instance,
                    "contextid": m.cmid + 5000,
                    "visible": 1,
                    "uservisible": True,
                    "visibleoncoursepage": 1,
                    "modname": m.modname,
                    "modplural": m.modname.capitalize() + "s",
                    "availability": None,
                    "indent": 0,
                    "completion": 0 if m.modname == "attendance" else 2,
                    "downloadcontent": 1,
                    "dates": [],
                    "groupmode": 0,
                }
            )
        return [
            {
                "id": course_id * 10 + number,
                "name": "Généralités" if number == 0 else f"Section {number}",
                "visible": 1,
                "summary": "",
                "summaryformat": 1,
                "section": number,
                "hiddenbynumsections": 0,
                "uservisible": True,
                "component": None,
                "itemid": None,
                "modules": modules,
            }
            for number, modules in sections.items()
        ]

    def updates_since(self, params: dict[str, Any]) -> Any:
        course_id = _int(params, "courseid")
        since = _int(params, "since")
        self._course(course_id)
        instances = []
        warnings = []
        for m in self.site.modules(course_id):
            if m.modname == "attendance":
                warnings.append(
                    {
                        "item": "module",
                        "itemid": m.cmid,
                        "warningcode": "missingcallback",
                        "message": "This module does not implement the check_updates_since "
                        "callback: attendance",
                    }
                )
                continue
            changed = self.site.module_changes.get((course_id, m.cmid))
            if changed is not None and changed >= since:
                area = "usergrades" if m.modname in ("quiz", "assign") else "configuration"
                instances.append(
                    {
                        "contextlevel": "module",
                        "id": m.cmid,
                        "updates": [{"name": area, "itemids": [1]}]
                        if area == "usergrades"
                        else [{"name": area, "timeupdated": changed}],
                    }
                )
        return {"instances": instances, "warnings": warnings}

    def enrolled_users(self, params: dict[str, Any]) -> Any:
        course_id = _int(params, "courseid")
        self._course(course_id)
        options = _options(params)
        site = self.site
        editing, non_editing = site.trainers(course_id)
        members = [(editing, "editingteacher", 3), (non_editing, "teacher", 4)]
        members += [(uid, "student", 5) for uid in site.learners(course_id)]
        members.sort()
        if options.get("onlyactive") == "1":
            members = [m for m in members if not site.suspended(course_id, m[0])]
        if options.get("onlysuspended") == "1":
            members = [m for m in members if site.suspended(course_id, m[0])]
        start = int(options.get("limitfrom", "0") or 0)
        limit = int(options.get("limitnumber", "0") or 0)
        members = members[start : start + limit] if limit else members[start:]
        wanted = [f for f in options.get("userfields", "").split(",") if f]
        users = []
        for uid, role, role_id in members:
            user = site.user(uid)
            user["lastcourseaccess"] = 0
            user["roles"] = [{"roleid": role_id, "name": "", "shortname": role, "sortorder": 0}]
            user["enrolledcourses"] = []
            if wanted:
                user = {k: v for k, v in user.items() if k == "id" or k in wanted}
            users.append(user)
        return users

    def users_courses(self, params: dict[str, Any]) -> Any:
        user_id = _int(params, "userid")
        answer = []
        for course_id in self.site.learner_courses(user_id):
            if course_id in self.faults.inaccessible_courses:
                continue
            if self.site.suspended(course_id, user_id):
                continue  # Moodle lists only active enrolments (enrol_get_users_courses)
            course = self.site.course(course_id)
            completed: bool | None = None  # as Moodle answers without completion tracking
            progress: float | None = None  # or without completion_can_view_data()
            can_view = COMPLETION_CAPABILITY not in self.faults.missing_capabilities
            if course["enablecompletion"] and (can_view or user_id == self.token_user):
                completed, progress = self.site.completed(course_id, user_id)
            answer.append(
                {
                    "id": course_id,
                    "shortname": course["shortname"],
                    "fullname": course["fullname"],
                    "displayname": course["displayname"],
                    "enrolledusercount": self.site.spec.learners_per_course + 2,
                    "idnumber": course["idnumber"],
                    "visible": 1,
                    "summary": course["summary"],
                    "summaryformat": 1,
                    "format": "topics",
                    "showgrades": True,
                    "lang": "",
                    "enablecompletion": bool(course["enablecompletion"]),
                    "completionhascriteria": True,
                    "completionusertracked": True,
                    "category": 2,
                    "progress": progress,
                    "completed": completed,
                    "startdate": course["startdate"],
                    "enddate": course["enddate"],
                    "marker": 0,
                    "lastaccess": None,
                    "isfavourite": False,
                    "hidden": False,
                    "overviewfiles": [],
                    "showactivitydates": False,
                    "showcompletionconditions": True,
                    "timemodified": course["timemodified"],
                }
            )
        return answer

    def activities_completion(self, params: dict[str, Any]) -> Any:
        course_id = _int(params, "courseid")
        user_id = _int(params, "userid")
        self._course(course_id)
        if user_id not in self.site.learners(course_id):
            raise MoodleError(
                "core\\exception\\moodle_exception",
                "usernotenroled",
                "User is not enrolled in this course",
            )
        statuses = []
        for m in self.site.modules(course_id):
            if m.modname == "attendance":
                continue
            grade = self.site.grade(course_id, m, user_id) if m.grademax else 1.0
            done = grade is not None
            statuses.append(
                {
                    "cmid": m.cmid,
                    "modname": m.modname,
                    "instance": m.instance,
                    "state": 1 if done else 0,
                    "timecompleted": self.site.graded_at(course_id, m, user_id) if done else 0,
                    "tracking": 2,
                    "overrideby": None,
                    "valueused": False,
                    "hascompletion": True,
                    "isautomatic": True,
                    "istrackeduser": True,
                    "uservisible": True,
                    "details": [],
                    "isoverallcomplete": done,
                }
            )
        return {"statuses": statuses, "warnings": []}

    def users_by_field(self, params: dict[str, Any]) -> Any:
        if params.get("field") != "id":
            raise invalid_parameter("field")
        users = []
        for value in params.get("values") or []:
            uid = int(value)
            if self.site.user_exists(uid):
                user = self.site.user(uid)
                user.update({"auth": "manual", "suspended": False, "confirmed": True})
                for fieldinfo in user.get("customfields", []):
                    fieldinfo["displayvalue"] = html.escape(str(fieldinfo["value"]))
                users.append(user)
        return users

    # -- grades -------------------------------------------------------------

    def grade_items(self, params: dict[str, Any]) -> Any:
        course_id = _int(params, "courseid")
        self._course(course_id)
        only = params.get("userid")
        course = self.site.course(course_id)
        graded = [m for m in self.site.modules(course_id) if m.grademax]
        usergrades = []
        for uid in self.site.learners(course_id):
            if only not in (None, "0") and int(str(only)) != uid:
                continue
            if only in (None, "0") and self.site.suspended(course_id, uid):
                # "Show only active enrolments" (the default): recorded on 4.5, a
                # suspended learner is absent from the whole-course report.
                continue
            user = self.site.profile(uid)
            items = []
            total = 0.0
            for position, m in enumerate(graded):
                raw = self.site.grade(course_id, m, uid)
                if raw is not None and course_id in self.faults.bad_grade_courses and position == 1:
                    raw = m.grademax * 3  # a corrupt value: above the maximum
                when = self.site.graded_at(course_id, m, uid) if raw is not None else None
                # A quiz's datesubmitted is its last finished attempt (quiz_get_user_grades).
                submitted = (
                    self.site.quiz_finished_at(course_id, m, uid) if m.modname == "quiz" else when
                )
                if self.faults.grade_dates_missing:
                    when = submitted = None
                if m.cmid in self.faults.ungraded_in_report:
                    raw = when = submitted = None  # e.g. awaiting a regrade: the quiz has it
                total += raw or 0
                items.append(self._grade_item(m, raw, when, submitted))
            items.append(
                {
                    "id": course_id * 1000,
                    "itemname": None,
                    "itemtype": "course",
                    "itemmodule": None,
                    "iteminstance": course_id,
                    "itemnumber": None,
                    "idnumber": "",
                    "categoryid": None,
                    "graderaw": round(total, 5),
                    "grademin": 0,
                    "grademax": sum(m.grademax for m in graded),
                    "gradeformatted": f"{total:.2f}",
                    "feedback": "",
                    "feedbackformat": 0,
                }
            )
            usergrades.append(
                {
                    "courseid": course_id,
                    "courseidnumber": course["idnumber"],
                    "userid": uid,
                    "userfullname": user["fullname"],
                    "useridnumber": user.get("idnumber", ""),
                    "maxdepth": 2,
                    "gradeitems": items,
                }
            )
        return {"usergrades": usergrades, "warnings": []}

    @staticmethod
    def _grade_item(
        m: Module, raw: float | None, when: int | None, submitted: int | None
    ) -> dict[str, Any]:
        return {
            "id": m.cmid,
            "itemname": m.name,
            "itemtype": "mod",
            "itemmodule": m.modname,
            "iteminstance": m.instance,
            "itemnumber": 0,
            "idnumber": m.idnumber,
            "categoryid": 1,
            "outcomeid": None,
            "scaleid": None,
            "locked": False,
            "cmid": m.cmid,
            "weightraw": 0.1,
            "weightformatted": "10.00 %",
            "graderaw": raw,
            "gradedatesubmitted": submitted,
            "gradedategraded": when,
            "gradehiddenbydate": False,
            "gradeneedsupdate": False,
            "gradeishidden": False,
            "gradeislocked": False,
            "gradeisoverridden": False,
            "gradeformatted": (
                f'<i class="icon fa fa-check text-success fa-fw"></i>{raw:.2f}'
                if raw is not None
                else "-"
            ),
            "grademin": 0,
            "grademax": m.grademax,
            "rangeformatted": f"0&ndash;{m.grademax:g}",
            "percentageformatted": f"{(raw or 0) / m.grademax * 100:.2f} %",
            "feedback": "",
            "feedbackformat": 2,
        }

    # -- quiz -------------------------------------------------------------------

    def quiz_attempts(self, params: dict[str, Any]) -> Any:
        module = self._module(_int(params, "quizid"), "quiz")
        user_id = _int(params, "userid", 0)
        status = str(params.get("status") or "finished")
        course_id = module.cmid // 100
        finished = self.site.quiz_finished_at(course_id, module, user_id)
        attempts = []
        if finished is not None and status in ("all", "finished"):
            grade = self.site.grade(course_id, module, user_id) or 0.0
            attempts.append(
                {
                    "id": module.instance * 10000 + user_id,
                    "quiz": module.instance,
                    "userid": user_id,
                    "attempt": 1,
                    "uniqueid": module.instance * 10000 + user_id,
                    "layout": "1,2,0",
                    "currentpage": 0,
                    "preview": 0,
                    "state": "finished",
                    "timestart": finished - 1200,
                    "timefinish": finished,
                    "timemodified": finished,
                    "timemodifiedoffline": 0,
                    "timecheckstate": None,
                    "sumgrades": round(grade / module.grademax * 2, 5),  # raw marks, out of 2
                    "gradeitemmarks": [],
                    "gradednotificationsenttime": finished,
                }
            )
        return {"attempts": attempts, "warnings": []}

    def quiz_best_grade(self, params: dict[str, Any]) -> Any:
        module = self._module(_int(params, "quizid"), "quiz")
        user_id = _int(params, "userid", 0)
        grade = self.site.grade(module.cmid // 100, module, user_id)
        if grade is None:
            return {"hasgrade": False, "warnings": []}
        return {
            "hasgrade": True,
            "grade": grade,
            "gradetopass": module.grademax / 2,
            "warnings": [],
        }

    # -- badges -----------------------------------------------------------------

    def user_badges(self, params: dict[str, Any]) -> Any:
        if self.faults.badges_disabled:
            raise MoodleError(
                "moodle_exception", "badgesdisabled", "Badges are not enabled on this site."
            )
        user_id = _int(params, "userid", 0)
        if not self.site.user_exists(user_id):
            raise missing_record("user")
        badges = []
        for index, (name, issuer, issued) in enumerate(self.site.badges(user_id)):
            if (user_id, index) in self.site.revoked_badges:
                continue
            unique = f"{user_id:04d}{index:02d}".ljust(40, "0")
            badges.append(
                {
                    "id": index + 1,
                    "name": name,
                    "description": f"<p>{html.escape(name)}</p>",
                    "timecreated": issued - 30 * 86400,
                    "timemodified": issued - 30 * 86400,
                    "issuername": issuer,
                    "issuerurl": SITE_URL,
                    "issuercontact": "",
                    "expiredate": None,
                    "expireperiod": None,
                    "type": 1,
                    "courseid": None,
                    "status": 3,
                    "issuedid": user_id * 100 + index,
                    "uniquehash": unique,
                    "dateissued": issued,
                    "dateexpire": None,
                    "visible": 1,
                    "version": "",
                    "language": "fr",
                    "badgeurl": f"{SITE_URL}/pluginfile.php/1/badges/badgeimage/{index + 1}/f3",
                    "alignment": [],
                    "relatedbadges": [],
                }
            )
        return {"badges": badges, "warnings": []}

    # -- tags -------------------------------------------------------------------

    def _tags_enabled(self) -> None:
        if self.faults.tags_disabled:
            raise MoodleError("moodle_exception", "tagsaredisabled", "Tags are disabled!")

    def tag_areas(self, params: dict[str, Any]) -> Any:
        self._tags_enabled()
        return {
            "areas": [
                {
                    "id": area_id,
                    "component": component,
                    "itemtype": itemtype,
                    "enabled": True,
                    "tagcollid": DEFAULT_TAG_COLLECTION,
                    "callback": callback,
                    "callbackfile": callbackfile,
                    "showstandard": 0,
                    "multiplecontexts": False,
                    "locked": False,
                }
                for area_id, (component, itemtype, callback, callbackfile) in TAG_AREAS.items()
            ],
            "warnings": [],
        }

    def tagindex_per_area(self, params: dict[str, Any]) -> Any:
        """The rendered tag index, like core_tag_get_tagindex_per_area (only the
        course modules area has tagged items here)."""
        self._tags_enabled()
        index = params.get("tagindex")
        if not isinstance(index, dict):
            raise invalid_parameter("tagindex => Only arrays accepted.")
        names = self.site.tag_names()
        name = str(index.get("tag") or "").strip().lower()
        tag_id = _int(index, "id", 0)
        collection = _int(index, "tc", 0)
        area = _int(index, "ta", 0)
        page = _int(index, "page", 0)
        exclusive = str(index.get("excl") or "0") in ("1", "true")
        known = name in names if name else 0 < tag_id <= len(names)
        if not known:
            raise MoodleError("moodle_exception", "notagsfound", "No tags found")
        if collection not in (0, DEFAULT_TAG_COLLECTION):
            raise MoodleError("moodle_exception", "notagsfound", "No tags found")
        name = name or names[tag_id - 1]
        areas = [area] if area else list(TAG_AREAS)
        if area not in (0, *TAG_AREAS):
            raise MoodleError("moodle_exception", "invalidrecord", "Undefined tag area")
        if len(areas) == 1:
            exclusive = True  # forced by Moodle for one area
        result = []
        for area_id in areas:
            if TAG_AREAS[area_id][1] != "course_modules":
                continue
            perpage = 20 if exclusive else 5  # course_get_tagged_course_modules
            tagged = self.site.tagged(name)
            shown = tagged[page * perpage : (page + 1) * perpage]
            if not shown:
                continue
            base = f"{SITE_URL}/tag/index.php?tc={DEFAULT_TAG_COLLECTION}&tag={name}&ta={area_id}"
            entry: dict[str, Any] = {
                "tagid": names.index(name) + 1,
                "ta": area_id,
                "component": "core",
                "itemtype": "course_modules",
                "title": "Activités",
                "content": self._tag_feed(shown),
                "hascontent": 1,
                "anchor": "core_course_modules",
            }
            if len(tagged) > (page + 1) * perpage:
                entry["nextpageurl"] = f"{base}&excl=1&page={page + 1}"
            if page:
                entry["prevpageurl"] = f"{base}&excl=1&page={page - 1}"
            if not exclusive:
                entry["exclusiveurl"] = f"{base}&excl=1"
                entry["exclusivetext"] = "Afficher uniquement les activités"
            result.append(entry)
        return result

    def _tag_feed(self, modules: list[Module]) -> str:
        """The core_tag/tagfeed template as Moodle renders it for course modules."""
        items = []
        for m in modules:
            course_id = m.cmid // 100
            course = self.site.course(course_id)
            url = f"{SITE_URL}/mod/{m.modname}/view.php?id={m.cmid}"
            course_url = f"{SITE_URL}/course/view.php?id={course_id}#section-{m.section}"
            items.append(
                '<li class="media">\n'
                '<div class="itemimage">\n'
                f'<img src="{SITE_URL}/theme/image.php/boost/{m.modname}/1/monologo" />\n'
                "</div>\n"
                '<div class="media-body">\n'
                f'<div class="media-heading">\n<a href="{html.escape(url)}">'
                f"{html.escape(m.name)}</a>\n</div>\n"
                f'<div class="muted">\n<a href="{html.escape(course_url)}">'
                f"{html.escape(course['fullname'])}</a>\n</div>\n"
                "</div>\n"
                "</li>"
            )
        return '<ul class="tag_feed media-list">\n' + "\n".join(items) + "\n</ul>"

    # -- attendance -----------------------------------------------------------

    def attendance_sessions(self, params: dict[str, Any]) -> Any:
        module = self._module(_int(params, "attendanceid"), "attendance")
        course_id = module.cmid // 100
        status_set = STATUS_SETS[course_id % 2]
        statuses = [
            {
                "id": module.instance * 10 + k,
                "attendanceid": module.instance,
                "acronym": acronym,
                "description": description,
                "grade": grade,
                "visible": 1,
                "deleted": 0,
                "setnumber": 0,
            }
            for k, (acronym, description, grade) in enumerate(status_set)
        ]
        learners = self.site.learners(course_id)
        sessions = []
        for k, (start, duration) in enumerate(self.site.session_times(course_id)):
            session_id = module.instance * 100 + k
            taken = start + duration <= self.site.spec.now
            # mod_attendance keeps the statuses of people unenrolled after the session.
            log = [
                {
                    "studentid": uid,
                    "statusid": str(statuses[self.site.attendance_status(session_id, uid)]["id"]),
                    "remarks": None,
                    "id": str(session_id * 10000 + position),
                }
                for position, uid in enumerate(self.site.all_learners(course_id))
                if taken and (self.site.unenrolled_at(course_id, uid) or start) >= start
            ]
            sessions.append(
                {
                    "id": session_id,
                    "attendanceid": module.instance,
                    "groupid": 0,
                    "sessdate": start,
                    "duration": duration,
                    "lasttaken": start + duration if taken else None,
                    "lasttakenby": self.site.trainers(course_id)[0] if taken else 0,
                    "timemodified": start + duration,
                    "description": f"<p>Séance {k + 1}</p>",
                    "descriptionformat": 1,
                    "studentscanmark": 0,
                    "absenteereport": 1,
                    "autoassignstatus": 0,
                    "preventsharedip": 0,
                    "preventsharediptime": 0,
                    "statusset": 0,
                    "includeqrcode": 0,
                    "studentsearlyopentime": 0,
                    "courseid": course_id,
                    "statuses": statuses,
                    "attendance_log": log,
                    "users": [
                        {
                            "id": uid,
                            "firstname": self.site.profile(uid)["firstname"],
                            "lastname": "",
                        }
                        for uid in learners
                    ],
                }
            )
        return sessions

    # -- feedback -------------------------------------------------------------

    def feedbacks(self, params: dict[str, Any]) -> Any:
        found = []
        warnings = []
        for course_id in _ids(params, "courseids"):
            if (
                not self.site.has_course(course_id)
                or course_id in self.faults.inaccessible_courses
                or course_id in self.faults.warning_courses
            ):
                warnings.append(
                    {
                        "item": "course",
                        "itemid": course_id,
                        "warningcode": "1",
                        "message": "No access rights in course context",
                    }
                )
                continue
            start, end = self.site.course_dates(course_id)
            for m in self.site.modules(course_id):
                if m.modname != "feedback":
                    continue
                found.append(
                    {
                        "id": m.instance,
                        "course": course_id,
                        "name": m.name,
                        "intro": "<p>Votre avis compte</p>",
                        "introformat": 1,
                        "lang": None,
                        "anonymous": 1 if self.site.anonymous(course_id) else 2,
                        "email_notification": False,
                        "multiple_submit": False,
                        "autonumbering": False,
                        "site_after_submit": "",
                        "page_after_submit": "Merci",
                        "page_after_submitformat": 1,
                        "publish_stats": False,
                        "timeopen": end - 86400,
                        "timeclose": 0,
                        "timemodified": start,
                        "completionsubmit": True,
                        "coursemodule": m.cmid,
                        "introfiles": [],
                        "pageaftersubmitfiles": [],
                    }
                )
        return {"feedbacks": found, "warnings": warnings}

    def _respondents(self, module: Module) -> tuple[list[int], list[int]]:
        """Who answered (answers outlive an unenrolment), who was asked and did not."""
        course_id = module.cmid // 100
        everyone = self.site.all_learners(course_id)
        yes = [u for u in everyone if self.site.responded(module.instance, u)]
        return yes, [u for u in self.site.learners(course_id) if u not in yes]

    def feedback_responses(self, params: dict[str, Any]) -> Any:
        module = self._module(_int(params, "feedbackid"), "feedback")
        course_id = module.cmid // 100
        page = _int(params, "page", 0)
        perpage = _int(params, "perpage", 0)
        respondents, _ = self._respondents(module)
        _, end = self.site.course_dates(course_id)
        attempts = []
        for number, uid in enumerate(respondents):
            rng = self.site._rng("answer", module.instance, uid)
            rating = rng.randint(1, 4)
            attempts.append(
                {
                    "id": module.instance * 1000 + number,
                    "courseid": 0,
                    "userid": uid,
                    "number": number + 1,
                    "timemodified": end + rng.randint(0, 5) * 86400,
                    "fullname": self.site.profile(uid)["fullname"],
                    "responses": [
                        {
                            "id": 1,
                            "name": "(SAT_GLOBAL) Satisfaction globale",
                            "printval": SATISFACTION[rating - 1],
                            "rawval": str(rating),
                        },
                        {
                            "id": 2,
                            "name": "(RECOMMANDE) Recommanderiez-vous cette formation ?",
                            "printval": "Oui" if rating > 2 else "Non",
                            "rawval": "1" if rating > 2 else "2",
                        },
                        {
                            "id": 3,
                            "name": "(COMMENTAIRE) Commentaire",
                            "printval": html.escape("C'était l'idéal"),
                            "rawval": "C'était l'idéal",
                        },
                    ],
                }
            )
        if perpage:
            attempts = attempts[page * perpage : (page + 1) * perpage]
        anonymous = self.site.anonymous(course_id)
        named = [] if anonymous else attempts
        anon = (
            [
                {"id": a["id"], "courseid": 0, "number": a["number"], "responses": a["responses"]}
                for a in attempts
            ]
            if anonymous
            else []
        )
        for a in named:
            a.pop("number")
        return {
            "attempts": named,
            "totalattempts": 0 if anonymous else len(respondents),
            "anonattempts": anon,
            "totalanonattempts": len(respondents) if anonymous else 0,
            "warnings": [],
        }

    def feedback_non_respondents(self, params: dict[str, Any]) -> Any:
        module = self._module(_int(params, "feedbackid"), "feedback")
        page = _int(params, "page", 0)
        perpage = _int(params, "perpage", 0)
        _, missing = self._respondents(module)
        shown = missing[page * perpage : (page + 1) * perpage] if perpage else missing
        return {
            "users": [
                {
                    "courseid": 0,
                    "userid": uid,
                    "fullname": self.site.profile(uid)["fullname"],
                    "started": False,
                }
                for uid in shown
            ],
            "total": len(missing),
            "warnings": [],
        }

    # -- SCORM ----------------------------------------------------------------

    def scorms(self, params: dict[str, Any]) -> Any:
        found = []
        for course_id in _ids(params, "courseids"):
            if not self.site.has_course(course_id):
                continue
            for m in self.site.modules(course_id):
                if m.modname == "scorm":
                    found.append(
                        {
                            "id": m.instance,
                            "coursemodule": m.cmid,
                            "course": course_id,
                            "name": m.name,
                            "intro": "",
                            "introformat": 1,
                            "version": self.site.scorm_version(course_id),
                            "maxgrade": 100,
                            "grademethod": 1,
                            "maxattempt": 0,
                            "scormtype": "local",
                            "reference": "module.zip",
                            "timeopen": 0,
                            "timeclose": 0,
                            "timemodified": 0,
                        }
                    )
        return {"scorms": found, "options": [], "warnings": []}

    def scorm_scoes(self, params: dict[str, Any]) -> Any:
        module = self._module(_int(params, "scormid"), "scorm")
        base = {"scorm": module.instance, "manifest": "demo.manifest", "sortorder": 1}
        return {
            "scoes": [
                {
                    **base,
                    "id": module.instance * 10 + 1,
                    "organization": "",
                    "parent": "/",
                    "identifier": "org",
                    "launch": "",
                    "scormtype": "",
                    "title": module.name,
                    "extradata": [],
                },
                {
                    **base,
                    "id": module.instance * 10 + 2,
                    "organization": "org",
                    "parent": "org",
                    "identifier": "item_1",
                    "launch": "index.html",
                    "scormtype": "sco",
                    "title": module.name,
                    "extradata": [
                        {"element": "isvisible", "value": "true"},
                        {"element": "parameters", "value": ""},
                    ]
                    + (
                        [
                            {"element": "completionthreshold", "value": str(SCORM_THRESHOLD)},
                            {"element": "scaled_passing_score", "value": str(SCORM_PASSING)},
                        ]
                        if self.site.scorm_version(module.cmid // 100) == "SCORM_1.3"
                        else []
                    ),
                },
            ],
            "warnings": [],
        }

    def scorm_tracks(self, params: dict[str, Any]) -> Any:
        sco_id = _int(params, "scoid")
        user_id = _int(params, "userid")
        module = self._module(sco_id // 10, "scorm")
        course_id = module.cmid // 100
        result = self.site.scorm_result(course_id, sco_id, user_id)
        if result is None:
            return {"data": {"attempt": 0, "tracks": []}, "warnings": []}
        score, minutes, when = result.score, result.minutes, result.when
        hms = f"{minutes // 60:02d}:{minutes % 60:02d}:00"
        if self.faults.scorm_bad_time:
            hms = "environ une heure"
        if self.site.scorm_version(course_id) == "SCORM_1.2":
            status = "passed" if score >= SCORM_MASTERY else "failed"
            cmi: list[tuple[str, Any]] = [
                ("score_raw", score),
                ("status", status),
                ("total_time", hms),
                ("cmi.core.lesson_status", status),
                ("cmi.core.score.raw", str(score)),
                ("cmi.core.total_time", hms),
            ]
        else:
            # What Moodle stores for a 2004 SCO: its own summary plus the raw cmi.*.
            done = result.progress >= SCORM_THRESHOLD
            success = "passed" if score / 100 >= SCORM_PASSING else "failed"
            cmi = [
                ("score_raw", score),
                ("status", "completed" if done else "incomplete"),
                ("total_time", f"PT{minutes}M"),
                ("cmi.completion_status", "completed" if done else "incomplete"),
                ("cmi.success_status", success),
                ("cmi.score.raw", str(score)),
                ("cmi.score.max", "100"),
                ("cmi.score.scaled", str(score / 100)),
                ("cmi.progress_measure", str(result.progress)),
                ("cmi.total_time", f"PT{minutes}M"),
            ]
        tracks = [{"element": e, "value": v} for e, v in cmi]
        tracks += [
            {"element": "timemodified", "value": str(when)},
            {"element": "x.start.time", "value": str(when - minutes * 60)},
            {"element": "userid", "value": user_id},
            {"element": "scoid", "value": str(sco_id)},
        ]
        return {"data": {"attempt": 1, "tracks": tracks}, "warnings": []}
