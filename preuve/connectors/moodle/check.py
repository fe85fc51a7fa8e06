"""`preuve check` for a Moodle source: what the admin must fix, in French by default."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from preuve.config.settings import SecretMissingError
from preuve.connectors.base import CheckReport, CheckStatus
from preuve.connectors.errors import ConnectorError, PermanentError, SkipItem, TransientError
from preuve.connectors.moodle.constants import (
    CAPABILITIES,
    F_ATTENDANCE_SESSIONS,
    F_BADGES,
    F_ENROLLED,
    F_FEEDBACK_RESPONSES,
    F_GRADE_ITEMS,
    MENU_FUNCTIONS,
    MENU_ROLES,
    OPTIONAL_FUNCTIONS,
    QUIZ_ATTEMPTS_LOST,
    REQUIRED_FUNCTIONS,
)
from preuve.connectors.moodle.encoding import options_list
from preuve.connectors.moodle.site import SiteInfo
from preuve.i18n import Text

OLDEST_SUPPORTED_VERSION = 2022112800  # Moodle 4.1 LTS

if TYPE_CHECKING:
    from preuve.connectors.moodle.connector import MoodleConnector

MSG_CONNECTED = Text(
    fr="Moodle {release} joint ({url}), {count} {count:fonction autorisée|fonctions autorisées} "
    "pour le jeton",
    en="reached Moodle {release} ({url}), {count} {count:function|functions} allowed for the token",
)
MSG_REQUIRED = Text(
    fr="fonction obligatoire absente du service : {function}",
    en="required function missing from the service: {function}",
)
MSG_OPTIONAL = Text(
    fr="fonction facultative absente du service : {function} (perdu : {what})",
    en="optional function missing from the service: {function} (lost: {what})",
)
MSG_ALL_FUNCTIONS = Text(
    fr="toutes les fonctions utiles sont dans le service",
    en="every useful function is in the service",
)
MSG_ADMIN = Text(
    fr="le jeton appartient à un administrateur du site : créez un compte dédié avec "
    "un rôle limité (moindre privilège)",
    en="the token belongs to a site administrator: use a dedicated account with a "
    "limited role (least privilege)",
)
MSG_PROBE_OK = Text(fr="lecture possible : {what}", en="can read: {what}")
MSG_PROBE_CAPABILITY = Text(
    fr="permission manquante pour {what} : {message}",
    en="missing permission for {what}: {message}",
)
MSG_PROBE_COURSE = Text(
    fr="cours {course} inaccessible pour {what} : {message}",
    en="course {course} not accessible for {what}: {message}",
)
MSG_NO_COURSE = Text(
    fr="aucun cours visible par le compte du jeton",
    en="no course visible to the token's account",
)
MSG_OLD_VERSION = Text(
    fr="Moodle {release} est antérieur à 4.1 LTS : version non prise en charge",
    en="Moodle {release} is older than 4.1 LTS: unsupported version",
)
MSG_UNREACHABLE = Text(fr="Moodle injoignable : {message}", en="Moodle unreachable: {message}")


async def _probe(
    report: CheckReport,
    what: str,
    capability: str,
    call: Callable[[], Awaitable[Any]],
    course_id: int,
    *,
    required: bool,
) -> None:
    try:
        await call()
    except PermanentError as exc:
        if exc.code != "missing_capability":
            raise
        report.add(
            CheckStatus.ERROR if required else CheckStatus.WARNING,
            f"capability:{capability}",
            MSG_PROBE_CAPABILITY(what=what, message=f"{capability} ({CAPABILITIES[capability]})"),
            MENU_ROLES,
        )
        report.details.setdefault("missing_capabilities", []).append(capability)
    except SkipItem as exc:
        report.add(
            CheckStatus.WARNING,
            "course_not_accessible",
            MSG_PROBE_COURSE(course=course_id, what=what, message=exc.message),
        )
    else:
        report.add(CheckStatus.OK, f"read:{capability}", MSG_PROBE_OK(what=what))


def _functions(report: CheckReport, info: SiteInfo) -> None:
    missing_required = [f for f in REQUIRED_FUNCTIONS if not info.has(f)]
    missing_optional = [f for f in OPTIONAL_FUNCTIONS if not info.has(f)]
    lost = dict(OPTIONAL_FUNCTIONS)
    if not info.has(info.quiz_attempts_function):
        missing_optional.append(info.quiz_attempts_function)
        lost[info.quiz_attempts_function] = QUIZ_ATTEMPTS_LOST
    for function in missing_required:
        report.add(
            CheckStatus.ERROR, "function_missing", MSG_REQUIRED(function=function), MENU_FUNCTIONS
        )
    for function in missing_optional:
        report.add(
            CheckStatus.WARNING,
            "optional_function_missing",
            MSG_OPTIONAL(function=function, what=lost[function]),
            MENU_FUNCTIONS,
        )
    if not missing_required and not missing_optional:
        report.add(CheckStatus.OK, "functions", MSG_ALL_FUNCTIONS())
    report.details["missing_functions"] = {
        "required": missing_required,
        "optional": missing_optional,
    }


async def _probes(report: CheckReport, connector: MoodleConnector, info: SiteInfo) -> None:
    site = connector.site
    client = site.client
    courses = await site.courses()
    if not courses:
        report.add(CheckStatus.WARNING, "no_course", MSG_NO_COURSE())
        return
    course = courses[0]
    await _probe(
        report,
        "inscriptions",
        "moodle/course:viewparticipants",
        lambda: client.call(
            F_ENROLLED,
            {"courseid": course.id, "options": options_list(userfields="id", limitnumber=1)},
            item=f"cours {course.id}",
        ),
        course.id,
        required=True,
    )
    if info.has(F_GRADE_ITEMS):
        await _probe(
            report,
            "notes",
            "moodle/grade:viewall",
            lambda: client.call(F_GRADE_ITEMS, {"courseid": course.id}, item=f"cours {course.id}"),
            course.id,
            required=False,
        )
    contact = next((uid for c in courses for uid in c.contacts), None)
    if contact is not None and info.has(F_BADGES):
        await _probe(
            report,
            "badges",
            "moodle/badges:viewotherbadges",
            lambda: client.call(F_BADGES, {"userid": contact}, item="badges"),
            course.id,
            required=False,
        )
    for course in courses[:20]:
        modules = await site.contents(course.id)
        attendance = next((m for m in modules if m.modname == "attendance"), None)
        feedback = next((m for m in modules if m.modname == "feedback"), None)
        if attendance and info.has(F_ATTENDANCE_SESSIONS):
            await _probe(
                report,
                "émargement",
                "mod/attendance:takeattendances",
                lambda m=attendance: client.call(  # type: ignore[misc]
                    F_ATTENDANCE_SESSIONS, {"attendanceid": m.instance}, item="émargement"
                ),
                course.id,
                required=False,
            )
        if feedback and info.has(F_FEEDBACK_RESPONSES):
            await _probe(
                report,
                "questionnaires",
                "mod/feedback:viewreports",
                lambda m=feedback: client.call(  # type: ignore[misc]
                    F_FEEDBACK_RESPONSES,
                    {"feedbackid": m.instance, "page": 0, "perpage": 1},
                    item="questionnaire",
                ),
                course.id,
                required=False,
            )
        if attendance or feedback:
            break


async def run_check(connector: MoodleConnector) -> CheckReport:
    source = connector.context.source
    report = CheckReport(source=source.id, kind=connector.kind)
    try:
        site = connector.site
    except (ConnectorError, SecretMissingError) as exc:
        code = exc.code if isinstance(exc, ConnectorError) else "missing_secret"
        message = exc.message if isinstance(exc, ConnectorError) else str(exc)
        report.add(CheckStatus.ERROR, code, message)
        return report
    try:
        info = await site.info()
    except PermanentError as exc:
        fetched = site.fetched_info
        if exc.code != "function_not_in_service" or fetched is None:
            report.add(CheckStatus.ERROR, exc.code, exc.message, exc.hint)
            return report
        info = fetched
    except TransientError as exc:
        report.add(CheckStatus.ERROR, "unreachable", MSG_UNREACHABLE(message=exc.message))
        return report
    report.add(
        CheckStatus.OK,
        "connected",
        MSG_CONNECTED(release=info.release, url=info.site_url, count=len(info.functions)),
    )
    report.details.update(
        {
            "release": info.release,
            "version": info.version,
            "plugins": info.plugin_versions(),
            "quiz_attempts_function": info.quiz_attempts_function,
            "site_admin": info.is_site_admin,
        }
    )
    if info.version.isdigit() and int(info.version) < OLDEST_SUPPORTED_VERSION:
        report.add(CheckStatus.WARNING, "old_version", MSG_OLD_VERSION(release=info.release))
    _functions(report, info)
    if info.is_site_admin:
        report.add(CheckStatus.WARNING, "site_admin_token", MSG_ADMIN())
    if all(info.has(f) for f in REQUIRED_FUNCTIONS):
        try:
            await _probes(report, connector, info)
        except ConnectorError as exc:
            report.add(CheckStatus.ERROR, exc.code, exc.message, exc.hint)
    report.details["requests"] = dict(site.client.requests)
    return report
