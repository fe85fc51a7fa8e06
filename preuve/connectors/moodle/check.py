"""`preuve check` for a Moodle source: what the admin must fix, in French by default."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from preuve.config.settings import SecretMissingError
from preuve.connectors.base import CheckReport, CheckStatus
from preuve.connectors.errors import ConnectorError, PermanentError, SkipItem, TransientError
from preuve.connectors.moodle.constants import (
    CAPABILITIES,
    CAPABILITY_LABELS,
    F_ATTENDANCE_SESSIONS,
    F_BADGES,
    F_ENROLLED,
    F_FEEDBACK_RESPONSES,
    F_GRADE_ITEMS,
    F_USER_COURSES,
    MENU_FUNCTIONS,
    MENU_ROLES,
    OPTIONAL_FUNCTIONS,
    QUIZ_ATTEMPTS_LOST,
    REQUIRED_FUNCTIONS,
    TAG_FUNCTIONS,
)
from preuve.connectors.moodle.encoding import options_list
from preuve.connectors.moodle.options import MoodleOptions
from preuve.connectors.moodle.site import CourseInfo, ModuleInfo, SiteInfo
from preuve.connectors.moodle.values import to_int
from preuve.evidence.model import PersonRole
from preuve.i18n import Text

OLDEST_SUPPORTED_VERSION = 2022112800  # Moodle 4.1 LTS
PROBED_COURSES = 20  # courses searched for an activity to probe

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
MSG_FOR_OPTION = Text(
    fr="fonction absente du service, requise par l'option {option} : {function}",
    en="function missing from the service, required by option {option}: {function}",
)
MSG_TAGGED = Text(
    fr="{n} {n:activité porte|activités portent} le tag « {tag} »",
    en="{n} {n:activity carries|activities carry} tag '{tag}'",
)
MSG_TAG_UNUSED = Text(
    fr="aucune activité visible par le compte du jeton ne porte le tag « {tag} »",
    en="no activity visible to the token's account carries tag '{tag}'",
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
    fr="permission manquante pour lire {what} : {capability} ({label}), refusée {where}",
    en="missing permission to read {what}: {capability} ({label}), refused {where}",
)
MSG_FIX_CAPABILITY = Text(
    fr="{menu} > le rôle attribué {account} au niveau Système > Modifier : réglez "
    "{capability} sur « Autoriser ». Si c'est déjà le cas, une dérogation l'interdit "
    "{where} : ouvrez-y « Permissions » > « Vérifier les permissions ».",
    en="{menu} > the role assigned to {account} at system level > Edit: set "
    "{capability} to 'Allow'. If it already is, an override prohibits it {where}: "
    "open 'Permissions' > 'Check permissions' there.",
)
MSG_MENU_ROLES = Text(fr=MENU_ROLES, en="Site administration > Users > Permissions > Define roles")
MSG_ACCOUNT = Text(fr="au compte « {name} »", en="account '{name}'")
MSG_TOKEN_ACCOUNT = Text(fr="au compte du jeton", en="the token's account")
MSG_IN_COURSE = Text(fr="dans le cours {course}", en="in course {course}")
MSG_IN_ACTIVITY = Text(
    fr="dans l'activité « {name} » (cm {cmid}) du cours {course}",
    en="in activity '{name}' (cm {cmid}) of course {course}",
)
MSG_IN_USER = Text(
    fr="dans le contexte de l'utilisateur {user}", en="in the user context of user {user}"
)
# What each probe reads, for the messages.
WHAT_ENROLMENTS = Text(fr="les inscriptions", en="the enrolments")
WHAT_GRADES = Text(fr="les notes", en="the grades")
WHAT_BADGES = Text(fr="les badges", en="the badges")
WHAT_ATTENDANCE = Text(fr="l'émargement", en="the attendance")
WHAT_SURVEYS = Text(fr="les questionnaires", en="the surveys")
WHAT_COMPLETION = Text(fr="l'achèvement des parcours", en="the course completion")
MSG_NO_COMPLETION = Text(
    fr="achèvement vide dans la réponse de Moodle", en="empty completion in Moodle's answer"
)
COMPLETION_CAPABILITY = "report/completion:view"
WHAT_QUIZ = Text(
    fr="les tentatives des tests de positionnement ({function})",
    en="the positioning quiz attempts ({function})",
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
    info: SiteInfo,
    what: str,
    capability: str,
    call: Callable[[], Awaitable[Any]],
    course_id: int,
    where: str,
    *,
    required: bool,
) -> None:
    """Make one real call that needs ``capability``; report what is missing and the fix.

    ``what`` (what the call reads) and ``where`` (the context Moodle checked, e.g. the
    quiz) are already in the user's language.
    """
    try:
        await call()
    except PermanentError as exc:
        if exc.code != "missing_capability":
            raise
        label = CAPABILITY_LABELS.get(capability)
        account = MSG_ACCOUNT(name=info.username) if info.username else MSG_TOKEN_ACCOUNT()
        report.add(
            CheckStatus.ERROR if required else CheckStatus.WARNING,
            f"capability:{capability}",
            MSG_PROBE_CAPABILITY(
                what=what,
                capability=capability,
                label=label() if label else CAPABILITIES.get(capability, ""),
                where=where,
            ),
            MSG_FIX_CAPABILITY(
                menu=MSG_MENU_ROLES(), account=account, capability=capability, where=where
            ),
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


def _functions(report: CheckReport, info: SiteInfo, options: MoodleOptions) -> None:
    missing_required = [f for f in REQUIRED_FUNCTIONS if not info.has(f)]
    missing_optional = [f for f in OPTIONAL_FUNCTIONS if not info.has(f)]
    missing_for_options = [f for f in TAG_FUNCTIONS if options.activity_tags and not info.has(f)]
    for function in missing_for_options:
        report.add(
            CheckStatus.ERROR,
            "function_missing_for_option",
            MSG_FOR_OPTION(function=function, option=options.tag_option_names),
            MENU_FUNCTIONS,
        )
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
    if not missing_required and not missing_optional and not missing_for_options:
        report.add(CheckStatus.OK, "functions", MSG_ALL_FUNCTIONS())
    report.details["missing_functions"] = {
        "required": missing_required,
        "optional": missing_optional,
        "options": missing_for_options,
    }


async def _probes(report: CheckReport, connector: MoodleConnector, info: SiteInfo) -> None:
    site = connector.site
    client = site.client
    courses = await site.courses()
    if not courses:
        report.add(CheckStatus.WARNING, "no_course", MSG_NO_COURSE())
        return
    course = courses[0]
    in_course = MSG_IN_COURSE(course=course.id)
    await _probe(
        report,
        info,
        WHAT_ENROLMENTS(),
        "moodle/course:viewparticipants",
        lambda: client.call(
            F_ENROLLED,
            {"courseid": course.id, "options": options_list(userfields="id", limitnumber=1)},
            item=f"cours {course.id}",
        ),
        course.id,
        in_course,
        required=True,
    )
    if info.has(F_GRADE_ITEMS):
        await _probe(
            report,
            info,
            WHAT_GRADES(),
            "moodle/grade:viewall",
            lambda: client.call(F_GRADE_ITEMS, {"courseid": course.id}, item=f"cours {course.id}"),
            course.id,
            in_course,
            required=False,
        )
    contact = next((uid for c in courses for uid in c.contacts), None)
    if contact is not None and info.has(F_BADGES):
        await _probe(
            report,
            info,
            WHAT_BADGES(),
            "moodle/badges:viewotherbadges",
            lambda: client.call(F_BADGES, {"userid": contact}, item="badges"),
            course.id,
            MSG_IN_USER(user=contact),
            required=False,
        )
    for course in courses[:PROBED_COURSES]:
        modules = await site.contents(course.id)
        attendance = next((m for m in modules if m.modname == "attendance"), None)
        feedback = next((m for m in modules if m.modname == "feedback"), None)
        if attendance and info.has(F_ATTENDANCE_SESSIONS):
            await _probe(
                report,
                info,
                WHAT_ATTENDANCE(),
                "mod/attendance:takeattendances",
                lambda m=attendance: client.call(  # type: ignore[misc]
                    F_ATTENDANCE_SESSIONS, {"attendanceid": m.instance}, item="émargement"
                ),
                course.id,
                MSG_IN_ACTIVITY(name=attendance.name, cmid=attendance.cmid, course=course.id),
                required=False,
            )
        if feedback and info.has(F_FEEDBACK_RESPONSES):
            await _probe(
                report,
                info,
                WHAT_SURVEYS(),
                "mod/feedback:viewreports",
                lambda m=feedback: client.call(  # type: ignore[misc]
                    F_FEEDBACK_RESPONSES,
                    {"feedbackid": m.instance, "page": 0, "perpage": 1},
                    item="questionnaire",
                ),
                course.id,
                MSG_IN_ACTIVITY(name=feedback.name, cmid=feedback.cmid, course=course.id),
                required=False,
            )
        if attendance or feedback:
            break
    await _probe_quiz(report, connector, info, courses)
    await _probe_completion(report, connector, info, courses)
    if connector.options.activity_tags and all(info.has(f) for f in TAG_FUNCTIONS):
        for tag, cmids in (await site.tag_index()).items():
            report.details.setdefault("tagged_activities", {})[tag] = len(cmids)
            if cmids:
                report.add(CheckStatus.OK, "tag", MSG_TAGGED(tag=tag, n=len(cmids)))
            else:
                report.add(CheckStatus.WARNING, "tag_unused", MSG_TAG_UNUSED(tag=tag))


async def _probe_quiz(
    report: CheckReport, connector: MoodleConnector, info: SiteInfo, courses: list[CourseInfo]
) -> None:
    """Ask a quiz for another user's finished attempts, as the assessments stream does
    for a positioning test the grade report does not date: Moodle checks
    ``mod/quiz:viewreports`` in the quiz's context (only for someone else's attempts)."""
    function = info.quiz_attempts_function
    if not info.has(function):
        return  # reported as a missing function; the stream does not ask the quizzes then
    site = connector.site
    options = connector.options
    found: tuple[CourseInfo, ModuleInfo] | None = None
    fallback: tuple[CourseInfo, ModuleInfo] | None = None
    for course in courses[:PROBED_COURSES]:
        for module in await site.contents(course.id):
            if module.modname != "quiz":
                continue
            if options.positioning.matches(idnumber=None, name=module.name):
                found = (course, module)  # a positioning test: what the stream asks
                break
            fallback = fallback or (course, module)
        if found is not None:
            break
    found = found or fallback
    if found is None:
        return
    course, quiz = found
    # Someone else than the token's account (Moodle checks nothing for one's own
    # attempts): a learner, as the stream asks, else a course contact.
    try:
        members = sorted(await site.members(course.id), key=lambda m: m.role != PersonRole.LEARNER)
    except SkipItem:
        members = []
    others = [m.user_id for m in members] + list(course.contacts)
    others = [uid for uid in others if uid != info.user_id]
    if not others:
        return
    await _probe(
        report,
        info,
        WHAT_QUIZ(function=function),
        "mod/quiz:viewreports",
        lambda: site.client.call(
            function,
            {"quizid": quiz.instance, "userid": others[0], "status": "finished"},
            item=f"cours {course.id}, test {quiz.cmid}",
        ),
        course.id,
        MSG_IN_ACTIVITY(name=quiz.name, cmid=quiz.cmid, course=course.id),
        required=False,
    )


async def _probe_completion(
    report: CheckReport, connector: MoodleConnector, info: SiteInfo, courses: list[CourseInfo]
) -> None:
    """``core_enrol_get_users_courses`` raises no error without ``report/completion:view``:
    it leaves ``completed`` and ``progress`` empty. Ask it for one learner of a course
    with completion tracking and look."""
    if not info.has(F_USER_COURSES):
        return
    site = connector.site
    for course in courses[:PROBED_COURSES]:
        if not course.enablecompletion:
            continue
        try:
            learner = next(
                (
                    m.user_id
                    for m in await site.members(course.id)
                    if m.role is PersonRole.LEARNER and not m.suspended
                ),
                None,
            )
        except SkipItem:
            continue
        if learner is None or learner == info.user_id:
            continue

        async def call(course: CourseInfo = course, learner: int = learner) -> None:
            raw = await site.client.call(F_USER_COURSES, {"userid": learner}, item="achèvement")
            entry = next(
                (e for e in raw or () if isinstance(e, dict) and to_int(e.get("id")) == course.id),
                None,
            )
            if entry is not None and entry.get("completed") is None:
                raise PermanentError(MSG_NO_COMPLETION(), code="missing_capability")

        await _probe(
            report,
            info,
            WHAT_COMPLETION(),
            COMPLETION_CAPABILITY,
            call,
            course.id,
            MSG_IN_COURSE(course=course.id),
            required=False,
        )
        return


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
    _functions(report, info, connector.options)
    if info.is_site_admin:
        report.add(CheckStatus.WARNING, "site_admin_token", MSG_ADMIN())
    if all(info.has(f) for f in REQUIRED_FUNCTIONS):
        try:
            await _probes(report, connector, info)
        except ConnectorError as exc:
            report.add(CheckStatus.ERROR, exc.code, exc.message, exc.hint)
    report.details["requests"] = dict(site.client.requests)
    return report
