"""Moodle web service constants: function names, roles, menu paths, error codes."""

from __future__ import annotations

from typing import Final

from preuve.i18n import Text

REST_PATH: Final = "/webservice/rest/server.php"

# Required: without them the connector has nothing to work on.
F_SITE_INFO: Final = "core_webservice_get_site_info"
F_COURSES: Final = "core_course_get_courses_by_field"
F_CONTENTS: Final = "core_course_get_contents"
F_ENROLLED: Final = "core_enrol_get_enrolled_users"
# Optional: each one feeds one stream (or makes re-syncs cheap).
F_UPDATES_SINCE: Final = "core_course_get_updates_since"
F_USER_COURSES: Final = "core_enrol_get_users_courses"
F_ACTIVITIES_COMPLETION: Final = "core_completion_get_activities_completion_status"
F_GRADE_ITEMS: Final = "gradereport_user_get_grade_items"
F_USERS_BY_FIELD: Final = "core_user_get_users_by_field"
F_ATTENDANCE_SESSIONS: Final = "mod_attendance_get_sessions"
F_FEEDBACKS: Final = "mod_feedback_get_feedbacks_by_courses"
F_FEEDBACK_RESPONSES: Final = "mod_feedback_get_responses_analysis"
F_FEEDBACK_NON_RESPONDENTS: Final = "mod_feedback_get_non_respondents"
F_SCORMS: Final = "mod_scorm_get_scorms_by_courses"
F_SCORM_SCOES: Final = "mod_scorm_get_scorm_scoes"
F_SCORM_TRACKS: Final = "mod_scorm_get_scorm_sco_tracks"
F_QUIZ_BEST_GRADE: Final = "mod_quiz_get_user_best_grade"
F_BADGES: Final = "core_badges_get_user_badges"
# Only with a `tag` in the positioning / final_assessment options (Moodle 3.7+).
F_TAG_AREAS: Final = "core_tag_get_tag_areas"
F_TAG_INDEX: Final = "core_tag_get_tagindex_per_area"
TAG_FUNCTIONS: Final = (F_TAG_AREAS, F_TAG_INDEX)
# Version-dependent: Moodle 5.0 replaced the quiz attempts function.
F_QUIZ_ATTEMPTS_OLD: Final = "mod_quiz_get_user_attempts"
F_QUIZ_ATTEMPTS_NEW: Final = "mod_quiz_get_user_quiz_attempts"
QUIZ_ATTEMPTS_RENAMED_IN: Final = 5  # Moodle major release that added the new name

REQUIRED_FUNCTIONS: Final = (F_SITE_INFO, F_COURSES, F_CONTENTS, F_ENROLLED)

# Optional function -> what is lost without it (French, shown by `preuve check`).
OPTIONAL_FUNCTIONS: Final[dict[str, str]] = {
    F_UPDATES_SINCE: "re-synchronisations incrémentales (sinon tout est relu)",
    F_USER_COURSES: "achèvement des parcours",
    F_ACTIVITIES_COMPLETION: "achèvement des activités (option activity_completion)",
    F_GRADE_ITEMS: "évaluations et notes",
    F_USERS_BY_FIELD: "CV et qualifications des formateurs",
    F_ATTENDANCE_SESSIONS: "émargement (plugin mod_attendance)",
    F_FEEDBACKS: "questionnaires de satisfaction",
    F_FEEDBACK_RESPONSES: "réponses aux questionnaires de satisfaction",
    F_FEEDBACK_NON_RESPONDENTS: "nombre de personnes sollicitées (non-répondants)",
    F_SCORMS: "traces SCORM",
    F_SCORM_SCOES: "traces SCORM",
    F_SCORM_TRACKS: "traces SCORM",
    F_QUIZ_BEST_GRADE: "note des tests de positionnement sans note au carnet",
    F_BADGES: "badges des formateurs (qualifications, formation continue)",
}
# What is lost when the version's quiz attempts function is missing (name chosen per version).
QUIZ_ATTEMPTS_LOST: Final = "date des tests de positionnement (tentatives terminées)"

# Capabilities the token user needs (Moodle checks them in the code, per context).
CAPABILITIES: Final[dict[str, str]] = {
    "webservice/rest:use": "appeler le protocole REST",
    "moodle/course:view": "voir les cours sans y être inscrit",
    "moodle/course:viewparticipants": "lister les inscrits",
    "moodle/user:viewdetails": "lire les profils (champs personnalisés des formateurs)",
    "moodle/grade:viewall": "lire les notes de tous les apprenants",
    "mod/attendance:takeattendances": "lire l'émargement",
    "mod/feedback:viewreports": "lire les réponses aux questionnaires",
    "mod/scorm:viewreport": "lire les traces SCORM",
    "report/completion:view": "lire l'achèvement",
    "mod/quiz:viewreports": "lire les tentatives de test des apprenants",
    "moodle/badges:viewotherbadges": "lire les badges des formateurs",
}

# The same, in French and English, for `preuve check` (what the capability lets us read).
CAPABILITY_LABELS: Final[dict[str, Text]] = {
    "moodle/course:viewparticipants": Text(fr="lister les inscrits", en="list the enrolled users"),
    "moodle/grade:viewall": Text(
        fr="lire les notes de tous les apprenants", en="read every learner's grades"
    ),
    "mod/attendance:takeattendances": Text(fr="lire l'émargement", en="read the attendance"),
    "mod/feedback:viewreports": Text(
        fr="lire les réponses aux questionnaires", en="read the survey answers"
    ),
    "report/completion:view": Text(
        fr="lire l'achèvement des apprenants", en="read the learners' completion"
    ),
    "mod/quiz:viewreports": Text(
        fr="lire les tentatives et les notes de test des apprenants",
        en="read the learners' quiz attempts and grades",
    ),
    "moodle/badges:viewotherbadges": Text(
        fr="lire les badges des formateurs", en="read the trainers' badges"
    ),
}

# The capability each function checks for another user's data (Moodle 4.5 code).
FUNCTION_CAPABILITIES: Final[dict[str, str]] = {
    F_ENROLLED: "moodle/course:viewparticipants",
    F_USER_COURSES: "moodle/course:viewparticipants",
    F_USERS_BY_FIELD: "moodle/user:viewdetails",
    F_GRADE_ITEMS: "moodle/grade:viewall",
    F_ATTENDANCE_SESSIONS: "mod/attendance:takeattendances",
    F_FEEDBACK_RESPONSES: "mod/feedback:viewreports",
    F_FEEDBACK_NON_RESPONDENTS: "mod/feedback:viewreports",
    F_SCORM_TRACKS: "mod/scorm:viewreport",
    F_ACTIVITIES_COMPLETION: "report/completion:view",
    F_QUIZ_ATTEMPTS_OLD: "mod/quiz:viewreports",
    F_QUIZ_ATTEMPTS_NEW: "mod/quiz:viewreports",
    F_QUIZ_BEST_GRADE: "mod/quiz:viewreports",
    F_BADGES: "moodle/badges:viewotherbadges",
}

MENU_FUNCTIONS: Final = (
    "Administration du site > Serveur > Services web > Services externes "
    "> (votre service) > Fonctions > Ajouter des fonctions"
)
MENU_ROLES: Final = "Administration du site > Utilisateurs > Permissions > Définition des rôles"
MENU_ENABLE: Final = "Administration du site > Fonctions avancées > Activer les services web"
MENU_PROTOCOLS: Final = "Administration du site > Serveur > Services web > Gérer les protocoles"
MENU_TOKENS: Final = "Administration du site > Serveur > Services web > Gérer les jetons"
MENU_TAGS: Final = (
    "Administration du site > Fonctions avancées > Activer les tags (usetags), puis "
    "Administration du site > Présentation > Gérer les tags > Zones de tags : "
    "activer « Activités » (course_modules)"
)

# Role shortnames -> evidence roles (overridable with the `role_map` option).
DEFAULT_ROLE_MAP: Final[dict[str, str]] = {
    "student": "learner",
    "editingteacher": "trainer",
    "teacher": "non_editing_trainer",
}

# Error codes, compared on `errorcode` (exception class names changed in 4.3).
TOKEN_ERRORS: Final = frozenset({"invalidtoken", "invalidtimedtoken", "usernotactive", "suspended"})
SERVICE_ERRORS: Final = frozenset(
    {"accessexception", "servicerequireslogin", "servicenotavailable"}
)
DISABLED_ERRORS: Final = frozenset({"webservicesnotenabled", "enablewsdescription"})
CAPABILITY_ERRORS: Final = frozenset({"nopermissions", "required_capability_exception"})
COURSE_SKIP_ERRORS: Final = frozenset(
    {
        "requireloginerror",
        "errorcoursecontextnotvalid",
        "invalidrecord",
        "usernotenroled",
        "nofile",
        "badgesdisabled",  # site setting: skipped and reported, the rest goes on
    }
)
