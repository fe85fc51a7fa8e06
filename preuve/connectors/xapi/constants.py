"""xAPI vocabulary and protocol constants, kept in one place."""

from __future__ import annotations

from typing import Final

# --- protocol -------------------------------------------------------------

VERSION_HEADER: Final = "X-Experience-API-Version"
CONSISTENT_THROUGH_HEADER: Final = "X-Experience-API-Consistent-Through"
# ``options.version``: "auto" reads the LRS's /about once per sync and picks the
# highest version both sides speak; an explicit version is sent as it is.
AUTO_VERSION: Final = "auto"
DEFAULT_VERSION: Final = AUTO_VERSION
# Sent when the LRS has no /about (404), and on the /about request itself (an
# LRS must not refuse /about for its version header).
FALLBACK_VERSION: Final = "1.0.3"
SUPPORTED_PULL_VERSIONS: Final = ("1.0.3", "2.0.0")
# Version this intake answers with (statements are validated per 1.0.3; a 2.0
# request may also carry the 2.0 context agents and groups).
INTAKE_VERSION: Final = "1.0.3"
INTAKE_VERSION_2: Final = "2.0.0"

DEFAULT_PAGE_SIZE: Final = 500
DEFAULT_OVERLAP_SECONDS: Final = 300.0
# Statements accepted in one intake request (a Moodle batch is usually 10-100).
MAX_INTAKE_BATCH: Final = 1000

# --- verbs ----------------------------------------------------------------

ADL: Final = "http://adlnet.gov/expapi/verbs/"
ADL_W3ID: Final = "https://w3id.org/xapi/adl/verbs/"
TLA: Final = "https://w3id.org/xapi/tla/verbs/"
ASTREAMS: Final = "http://activitystrea.ms/schema/1.0/"
EDLM_VERBS: Final = "https://xapi.edlm/profiles/edlm-lms/concepts/verbs/"

VOIDED: Final = ADL + "voided"
ATTENDED: Final = ADL + "attended"
LAUNCHED: Final = ADL + "launched"
INITIALIZED: Final = ADL + "initialized"
TERMINATED: Final = ADL + "terminated"
SUSPENDED: Final = ADL + "suspended"
RESUMED: Final = ADL + "resumed"
PROGRESSED: Final = ADL + "progressed"
COMPLETED: Final = ADL + "completed"
PASSED: Final = ADL + "passed"
FAILED: Final = ADL + "failed"
SCORED: Final = ADL + "scored"
TLA_SCORED: Final = TLA + "scored"
TLA_ACHIEVED: Final = TLA + "achieved"
ANSWERED: Final = ADL + "answered"
ABANDONED: Final = ADL_W3ID + "abandoned"
WAIVED: Final = ADL_W3ID + "waived"
SATISFIED: Final = ADL_W3ID + "satisfied"
SUBMIT: Final = ASTREAMS + "submit"
SUBMIT_SHORT: Final = "http://activitystrea.ms/submit"  # sic: questionnaire/survey
UNCOMPLETED: Final = EDLM_VERBS + "uncompleted"

# --- activity types ---------------------------------------------------------

ACT: Final = "http://adlnet.gov/expapi/activities/"
CMI5_COURSE_TYPE: Final = "https://w3id.org/xapi/cmi5/activitytype/course"
COURSE_TYPES: Final = frozenset({CMI5_COURSE_TYPE, ACT + "course"})
EDLM_TYPES: Final = "https://xapi.edlm/profiles/edlm-lms/concepts/activity-types/"
SURVEY_TYPES: Final = frozenset(
    {
        EDLM_TYPES + "feedback",
        "http://id.tincanapi.com/activitytype/survey",
        ACT + "survey",
    }
)

# --- extensions and categories ----------------------------------------------

CMI5_CATEGORY: Final = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
CMI5_SESSION_EXT: Final = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
CMI5_PROGRESS_EXT: Final = "https://w3id.org/xapi/cmi5/result/extensions/progress"
CMI5_MASTERY_EXT: Final = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
SCORM_PROGRESS_EXT: Final = "https://w3id.org/xapi/scorm/result/extensions/progress_measure"
MOODLE_INFO_EXT: Final = "http://lrs.learninglocker.net/define/extensions/info"

# Evidence kinds a statement can become: a voiding statement withdraws the
# target under each of them (the store ignores the kinds it does not hold).
STATEMENT_KINDS: Final = (
    "attendance",
    "activity",
    "assessment",
    "completion",
    "satisfaction_response",
)
