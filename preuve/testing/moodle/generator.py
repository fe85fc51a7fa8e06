"""A deterministic fictitious Moodle site, generated lazily course by course.

Nothing is held in memory per learner: each answer is computed from the seed,
so a site of 200 courses and 10,000 enrolments costs no more memory than a
small one. Tests change it through the few mutation methods (which also stamp
the change times that ``core_course_get_updates_since`` reports).
"""

from __future__ import annotations

import copy
import random
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DAY = 86400
TZ = ZoneInfo("Europe/Paris")
TRAINER_BASE = 100
LEARNER_BASE = 1000
SITE_URL = "https://moodle.example.org"

TOPICS = (
    ("SST", "Sauveteur Secouriste du Travail"),
    ("EXCEL", "Excel perfectionnement"),
    ("MGT", "Management d'équipe"),
    ("CACES", "Conduite de chariots élévateurs"),
    ("FLE", "Français langue étrangère"),
    ("COMPTA", "Comptabilité générale"),
    ("HACCP", "Hygiène alimentaire HACCP"),
    ("WEB", "Développement web"),
)
FIRST = ("Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Gaëlle", "Hugo", "Inès", "Julien")
LAST = (
    "Bernard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Michel",
    "Roux",
    "Morel",
    "Faure",
)
STATUS_SETS = (
    (("P", "Present", 2), ("L", "Late", 1), ("E", "Excused", 1), ("A", "Absent", 0)),
    (("P", "Présent", 2), ("R", "Retard", 1), ("E", "Excusé", 1), ("A", "Absent", 0)),
)
SATISFACTION = ("Pas satisfait", "Peu satisfait", "Satisfait", "Très satisfait")


def _yesterday() -> int:
    return (int(time.time()) // DAY - 1) * DAY


@dataclass(frozen=True)
class SiteSpec:
    courses: int = 6
    learners_per_course: int = 12
    courses_per_learner: int = 3
    sessions_per_course: int = 4
    graded_per_course: int = 4  # positioning test, quizzes/assignments, final assessment
    spread_days: int = 120  # course start dates spread over this many past days
    anonymous_every: int = 3
    scorm_every: int = 4
    cold_survey_every: int = 4
    suspended_every: int = 17
    seed: int = 42
    now: int = field(default_factory=_yesterday)
    release: str = "4.5.6 (Build: 20250811)"
    version: str = "2024100706"
    token: str = "0123456789abcdef0123456789abcdef"  # noqa: S105 - fictitious stand-in token


@dataclass(frozen=True)
class ScormResult:
    score: int  # out of 100
    minutes: int
    progress: float  # SCORM 2004 progress_measure
    when: int


@dataclass(frozen=True)
class Module:
    cmid: int
    modname: str
    name: str
    section: int
    idnumber: str = ""
    grademax: float = 0.0

    @property
    def instance(self) -> int:
        return self.cmid


class GeneratedSite:
    """Answers Moodle functions for a generated site (see ``server.py`` for the protocol)."""

    def __init__(self, spec: SiteSpec | None = None) -> None:
        self.spec = spec or SiteSpec()
        s = self.spec
        self.pool = max(
            s.learners_per_course, s.courses * s.learners_per_course // s.courses_per_learner
        )
        self.trainer_count = max(2, s.courses // 5)
        # Mutations made by tests: (course, cmid) -> change time; overridden grades.
        self.module_changes: dict[tuple[int, int], int] = {}
        self.course_changes: dict[int, int] = {}
        self.grade_overrides: dict[tuple[int, int, int], float] = {}
        # Deletions made by tests: unenrolled (course, user) -> when, deleted modules and
        # courses; enrolments suspended by tests (besides the generated ones).
        self.unenrolled: dict[tuple[int, int], int] = {}
        self.suspensions: set[tuple[int, int]] = set()
        self.completion_off: set[int] = set()  # courses whose completion tracking is off
        self.completions: dict[tuple[int, int], bool] = {}  # (course, user) set by tests
        # Activity tags added by tests (cmid -> tag names); positioning tests carry one.
        self.added_tags: dict[int, set[str]] = {}
        self.deleted_modules: set[int] = set()
        self.deleted_courses: set[int] = set()
        self.revoked_badges: set[tuple[int, int]] = set()  # (user, badge index)
        # Derived structures computed once: answering must stay cheap, like a real server.
        self._learners: dict[int, list[int]] = {}
        self._learner_courses: dict[int, list[int]] | None = None
        self._courses: dict[int, dict[str, Any]] = {}
        self._modules: dict[int, list[Module]] = {}
        self._users: dict[int, dict[str, Any]] = {}

    # -- identities ---------------------------------------------------------

    @property
    def course_ids(self) -> list[int]:
        return [c for c in range(2, self.spec.courses + 2) if c not in self.deleted_courses]

    def _index(self, course_id: int) -> int:
        return course_id - 2

    def has_course(self, course_id: int) -> bool:
        return 2 <= course_id < self.spec.courses + 2 and course_id not in self.deleted_courses

    def unit(self, *parts: object) -> float:
        """A deterministic number in [0, 1) for ``parts``: cheap enough for every grade."""
        key = ":".join(str(p) for p in (self.spec.seed, *parts)).encode()
        return zlib.crc32(key) / 4294967296

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.spec.seed, *parts)))

    def learners(self, course_id: int) -> list[int]:
        """The learners enrolled now (active or suspended)."""
        found = self.all_learners(course_id)
        if self.unenrolled:
            return [u for u in found if (course_id, u) not in self.unenrolled]
        return found

    def all_learners(self, course_id: int) -> list[int]:
        """Everyone ever enrolled as a learner, the unenrolled included (Moodle keeps
        some of their data: attendance statuses, survey answers)."""
        found = self._learners.get(course_id)
        if found is None:
            s = self.spec
            start = self._index(course_id) * s.learners_per_course // s.courses_per_learner
            found = [LEARNER_BASE + (start + k) % self.pool for k in range(s.learners_per_course)]
            self._learners[course_id] = found
        return found

    def active_learners(self, course_id: int) -> list[int]:
        """The learners whose enrolment is active: those the grade report and
        ``core_enrol_get_users_courses`` list."""
        return [u for u in self.learners(course_id) if not self.suspended(course_id, u)]

    def unenrolled_at(self, course_id: int, user_id: int) -> int | None:
        return self.unenrolled.get((course_id, user_id))

    def learner_courses(self, user_id: int) -> list[int]:
        if self._learner_courses is None:
            inverse: dict[int, list[int]] = {}
            for course_id in self.course_ids:
                for uid in self.learners(course_id):
                    inverse.setdefault(uid, []).append(course_id)
            self._learner_courses = inverse
        return self._learner_courses.get(user_id, [])

    def trainers(self, course_id: int) -> tuple[int, int]:
        index = self._index(course_id)
        return (
            TRAINER_BASE + index % self.trainer_count,
            TRAINER_BASE + (index + 1) % self.trainer_count,
        )

    def suspended(self, course_id: int, user_id: int) -> bool:
        """Suspended or ended enrolment (Moodle's "not active")."""
        if user_id < LEARNER_BASE:
            return False  # trainers stay active
        if (course_id, user_id) in self.suspensions:
            return True
        return (user_id + course_id) % self.spec.suspended_every == 0

    def user_exists(self, user_id: int) -> bool:
        if user_id < LEARNER_BASE:
            return 0 <= user_id - TRAINER_BASE < self.trainer_count
        return user_id - LEARNER_BASE < self.pool

    def profile(self, user_id: int) -> dict[str, Any]:
        """The user's record, shared: read it, never change it."""
        cached = self._users.get(user_id)
        if cached is None:
            cached = self._users[user_id] = self._make_user(user_id)
        return cached

    def user(self, user_id: int) -> dict[str, Any]:
        """A fresh copy: callers add per-answer keys."""
        return copy.deepcopy(self.profile(user_id))

    def _make_user(self, user_id: int) -> dict[str, Any]:
        rng = self._rng("user", user_id)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        trainer = user_id < LEARNER_BASE
        login = f"trainer{user_id:03d}" if trainer else f"learner{user_id - LEARNER_BASE:05d}"
        data: dict[str, Any] = {
            "id": user_id,
            "username": login,
            "firstname": first,
            "lastname": last,
            "fullname": f"{first} {last}",
            "email": f"{login}@example.com",
            "department": "",
            "firstaccess": 0,
            "lastaccess": 0,
            "city": "Lyon" if trainer else "Paris",
            "country": "FR",
            "profileimageurlsmall": f"{SITE_URL}/theme/image.php/boost/core/1/u/f2",
            "profileimageurl": f"{SITE_URL}/theme/image.php/boost/core/1/u/f1",
        }
        if not trainer:
            data["idnumber"] = f"STAG-{user_id - LEARNER_BASE:05d}"
            data["customfields"] = [
                {
                    "type": "menu",
                    "value": "No",
                    "name": "Trainer status",
                    "shortname": "trainer_status",
                }
            ]
            return data
        cpd = self.spec.now - rng.randint(30, 900) * DAY
        data["customfields"] = [
            {
                "type": "textarea",
                "value": f"Titre professionnel Formateur Professionnel d'Adultes (FPA), "
                f"{rng.randint(2005, 2020)}; Certificat {rng.choice(TOPICS)[0]} "
                f"({rng.randint(2018, 2025)})",
                "name": "Qualifications",
                "shortname": "qualifications",
            },
            {
                "type": "text",
                "value": f"https://example.com/cv/{login}.pdf",
                "name": "CV URL",
                "shortname": "cv_url",
            },
            {
                "type": "datetime",
                "value": str(cpd),
                "name": "Last CPD date",
                "shortname": "last_cpd_date",
            },
            {
                "type": "menu",
                "value": "salarié",
                "name": "Trainer status",
                "shortname": "trainer_status",
            },
        ]
        return data

    # -- courses ------------------------------------------------------------

    def course_dates(self, course_id: int) -> tuple[int, int]:
        s = self.spec
        index = self._index(course_id)
        start_day = (index + 1) * s.spread_days // max(s.courses, 1)
        rng = self._rng("dates", course_id)
        start = (s.now // DAY - start_day) * DAY + 7 * 3600  # 08:00 Paris in winter
        return start, start + rng.randint(2, 5) * 7 * DAY

    def course_modified(self, course_id: int) -> int:
        start, _ = self.course_dates(course_id)
        return self.course_changes.get(course_id, start - 30 * DAY)

    def course(self, course_id: int) -> dict[str, Any]:
        cached = self._courses.get(course_id)
        if cached is None:
            cached = self._courses[course_id] = self._make_course(course_id)
        return {
            **cached,
            "timemodified": self.course_modified(course_id),
            "enablecompletion": int(course_id not in self.completion_off),
        }

    def _make_course(self, course_id: int) -> dict[str, Any]:
        index = self._index(course_id)
        code, title = TOPICS[index % len(TOPICS)]
        rng = self._rng("course", course_id)
        start, end = self.course_dates(course_id)
        modality = ("présentiel", "distanciel", "mixte")[index % 3]
        fields = [
            ("duree", "Durée (heures)", "text", f"{rng.choice((7, 14, 21, 35))}"),
            ("tarif", "Tarif", "text", f"{rng.choice((490, 890, 1290))} € HT"),
            ("modalite", "Modalité", "select", modality),
            ("code_rncp", "Code RNCP/RS", "text", f"RNCP{35000 + index}" if index % 2 else ""),
            ("prerequis", "Prérequis", "textarea", "<p>Aucun prérequis</p>"),
            ("objectifs", "Objectifs", "textarea", "Objectif 1; Objectif 2"),
        ]
        trainers = self.trainers(course_id)
        shortname = f"{code}-{course_id}"
        return {
            "id": course_id,
            "fullname": f"{title} ({course_id})",
            "displayname": f"{title} ({course_id})",
            "shortname": shortname,
            "categoryid": 2,
            "categoryname": "Formations certifiées Qualiopi",
            "sortorder": 20000 + course_id,
            "summary": f"<p>Formation <strong>{title}</strong> - programme &amp; objectifs.</p>",
            "summaryformat": 1,
            "summaryfiles": [],
            "overviewfiles": [],
            "contacts": [{"id": trainers[0], "fullname": self.profile(trainers[0])["fullname"]}],
            "enrollmentmethods": ["manual"],
            "idnumber": f"FORM-{shortname}",
            "format": "topics",
            "showgrades": 1,
            "newsitems": 0,
            "startdate": start,
            "enddate": end,
            "visible": 1,
            "enablecompletion": 1,
            "timecreated": start - 60 * DAY,
            "timemodified": self.course_modified(course_id),
            "customfields": [
                {"name": name, "shortname": short, "type": kind, "valueraw": value, "value": value}
                for short, name, kind, value in fields
            ],
        }

    def site_course(self) -> dict[str, Any]:
        return {
            "id": 1,
            "fullname": "Organisme Démo",
            "displayname": "Organisme Démo",
            "shortname": "demo",
            "categoryid": 0,
            "summary": "",
            "format": "site",
            "startdate": 0,
            "enddate": 0,
            "visible": 1,
            "enablecompletion": 0,
            "timemodified": 0,
            "contacts": [],
        }

    def modules(self, course_id: int) -> list[Module]:
        found = self._modules.get(course_id)
        if found is None:
            found = self._modules[course_id] = self._make_modules(course_id)
        if self.deleted_modules:
            return [m for m in found if m.cmid not in self.deleted_modules]
        return found

    def _make_modules(self, course_id: int) -> list[Module]:
        s = self.spec
        index = self._index(course_id)
        code = TOPICS[index % len(TOPICS)][0]
        base = course_id * 100
        found = [
            Module(base + 1, "attendance", f"Émargement - {code}", 0),
            Module(base + 2, "page", "Programme de la formation", 1),
            Module(base + 3, "url", "Ressources complémentaires", 1),
        ]
        if index % s.scorm_every == 0:
            found.append(Module(base + 4, "scorm", f"Module e-learning {code}", 1))
        graded = max(s.graded_per_course, 2)
        for k in range(graded):
            cmid = base + 10 + k
            if k == 0:
                found.append(
                    Module(
                        cmid, "quiz", f"Test de positionnement - {code}", 2, "POSITIONNEMENT", 20
                    )
                )
            elif k == graded - 1:
                found.append(
                    Module(cmid, "quiz", f"Évaluation finale - {code}", 2, "EVAL-FINALE", 20)
                )
            elif k % 2:
                found.append(Module(cmid, "assign", f"Cas pratique {k} - {code}", 2, "", 100))
            else:
                found.append(Module(cmid, "quiz", f"Quiz {k} - {code}", 2, "", 10))
        found.append(
            Module(base + 50, "feedback", f"Questionnaire de satisfaction à chaud - {code}", 3)
        )
        if index % s.cold_survey_every == 0:
            found.append(
                Module(base + 51, "feedback", f"Questionnaire à froid - employeur - {code}", 3)
            )
        return found

    def module_tags(self, module: Module) -> set[str]:
        """Tag names of an activity (lowercase, as Moodle stores a tag's ``name``)."""
        tags = {"positionnement"} if module.idnumber == "POSITIONNEMENT" else set()
        return tags | self.added_tags.get(module.cmid, set())

    def tag_module(self, cmid: int, tag: str) -> None:
        """Tag an activity from its settings form (Tags field): saving the form is a
        configuration update ``core_course_get_updates_since`` reports."""
        self.added_tags.setdefault(cmid, set()).add(tag.strip().lower())
        self.module_changes[(cmid // 100, cmid)] = int(time.time())

    def tagged(self, tag: str) -> list[Module]:
        """The activities carrying ``tag``, in course then cmid order (the tag index's)."""
        wanted = tag.strip().lower()
        return [
            m for c in self.course_ids for m in self.modules(c) if wanted in self.module_tags(m)
        ]

    def tag_names(self) -> list[str]:
        """Every tag in use on the site (ids are positions in this list, from 1)."""
        names = {t for c in self.course_ids for m in self.modules(c) for t in self.module_tags(m)}
        return sorted(names)

    def module(self, cmid: int) -> Module | None:
        course_id = cmid // 100
        if not self.has_course(course_id):
            return None
        return next((m for m in self.modules(course_id) if m.cmid == cmid), None)

    # -- mutations (tests) --------------------------------------------------

    def set_grade(self, course_id: int, cmid: int, user_id: int, value: float) -> None:
        self.grade_overrides[(course_id, cmid, user_id)] = value
        self.module_changes[(course_id, cmid)] = int(time.time())

    def touch_course(self, course_id: int) -> None:
        self.course_changes[course_id] = int(time.time())

    def unenrol(self, course_id: int, user_id: int) -> None:
        """Like Moodle's unenrol: the user leaves the course's member list, grade report
        and completion; mod_attendance and mod_feedback keep what they recorded."""
        self.unenrolled[(course_id, user_id)] = int(time.time())
        self._learner_courses = None

    def enrol(self, course_id: int, user_id: int) -> None:
        """Enrol again a learner unenrolled earlier (e.g. removed by mistake)."""
        self.unenrolled.pop((course_id, user_id), None)
        self._learner_courses = None

    def disable_completion(self, course_id: int) -> None:
        """Switch completion tracking off in the course settings (Moodle keeps the data)."""
        self.completion_off.add(course_id)
        self.touch_course(course_id)

    def suspend(self, course_id: int, user_id: int) -> None:
        """Suspend the enrolment (or let it end): still enrolled, no longer active."""
        self.suspensions.add((course_id, user_id))

    def delete_module(self, cmid: int) -> None:
        """Like Moodle's course_delete_module: gone from contents, grades and reports."""
        self.deleted_modules.add(cmid)

    def delete_course(self, course_id: int) -> None:
        self.deleted_courses.add(course_id)
        self._learner_courses = None

    # -- per-learner data -----------------------------------------------------

    def grade(self, course_id: int, module: Module, user_id: int) -> float | None:
        override = self.grade_overrides.get((course_id, module.cmid, user_id))
        if override is not None:
            return override
        roll = self.unit("grade", module.cmid, user_id)
        if roll < 0.08:
            return None
        return round((0.3 + 0.7 * (roll - 0.08) / 0.92) * module.grademax, 2)

    def graded_at(self, course_id: int, module: Module, user_id: int) -> int:
        start, end = self.course_dates(course_id)
        changed = self.module_changes.get((course_id, module.cmid))
        if changed and (course_id, module.cmid, user_id) in self.grade_overrides:
            return changed
        span = max(min(end, self.spec.now) - start, DAY)
        return start + int(self.unit("gradedat", module.cmid, user_id) * span)

    def session_times(self, course_id: int) -> list[tuple[int, int]]:
        """(start, duration) of each attendance session: half-days in Paris time."""
        start, _ = self.course_dates(course_id)
        first_day = datetime.fromtimestamp(start, UTC).astimezone(TZ).date()
        sessions = []
        for k in range(self.spec.sessions_per_course):
            day = first_day + timedelta(days=k // 2)
            hour = 9 if k % 2 == 0 else 14
            local = datetime(day.year, day.month, day.day, hour, tzinfo=TZ)
            sessions.append((int(local.timestamp()), 3 * 3600 + 1800))
        return sessions

    def attendance_status(self, session_id: int, user_id: int) -> int:
        """Index in the status set: 0 present, 1 late, 2 excused, 3 absent."""
        roll = self.unit("att", session_id, user_id)
        return 0 if roll < 0.85 else 1 if roll < 0.9 else 2 if roll < 0.94 else 3

    def scorm_version(self, course_id: int) -> str:
        """Every other SCORM course runs a SCORM 2004 package (Moodle says SCORM_1.3)."""
        return "SCORM_1.3" if (self._index(course_id) // self.spec.scorm_every) % 2 else "SCORM_1.2"

    def scorm_result(self, course_id: int, sco_id: int, user_id: int) -> ScormResult | None:
        """The learner's last attempt at a SCO, or None when never launched."""
        rng = self._rng("scorm", sco_id, user_id)
        if user_id not in self.learners(course_id) or rng.random() < 0.2:
            return None
        start, _ = self.course_dates(course_id)
        score = rng.randint(30, 100)
        minutes = rng.randint(5, 90)
        progress = rng.choice((0.5, 1.0))
        return ScormResult(score, minutes, progress, start + rng.randint(1, 10) * DAY)

    def quiz_finished_at(self, course_id: int, module: Module, user_id: int) -> int | None:
        """When the learner's only finished attempt ended (None: no attempt, no grade).

        A positioning test is taken before the course starts.
        """
        if self.grade(course_id, module, user_id) is None:
            return None
        start, _ = self.course_dates(course_id)
        if module.idnumber == "POSITIONNEMENT":
            return start - DAY - int(self.unit("quizat", module.cmid, user_id) * 4 * DAY)
        return self.graded_at(course_id, module, user_id)

    def badges(self, user_id: int) -> list[tuple[str, str, int]]:
        """(name, issuer, issued) of a trainer's badges: one qualification, one CPD."""
        if user_id >= LEARNER_BASE:
            return []
        rng = self._rng("badges", user_id)
        return [
            (
                "Formateur certifié - pédagogie pour adultes",
                "Organisme Démo",
                rng.randint(self.spec.now - 2000 * DAY, self.spec.now - 800 * DAY),
            ),
            (
                "Formation continue : classe inversée",
                "Campus Formateurs",
                rng.randint(self.spec.now - 700 * DAY, self.spec.now - 10 * DAY),
            ),
        ]

    def responded(self, feedback_id: int, user_id: int) -> bool:
        return self.unit("fb", feedback_id, user_id) < 0.7

    def anonymous(self, course_id: int) -> bool:
        return self._index(course_id) % self.spec.anonymous_every == 0

    def set_completed(self, course_id: int, user_id: int, done: bool = True) -> None:
        """The course completion cron marks the learner complete (no module update)."""
        self.completions[(course_id, user_id)] = done

    def completed(self, course_id: int, user_id: int) -> tuple[bool, float]:
        forced = self.completions.get((course_id, user_id))
        if forced is not None:
            return forced, 100.0 if forced else 50.0
        _, end = self.course_dates(course_id)
        rng = self._rng("completion", course_id, user_id)
        if end > self.spec.now:
            return False, round(rng.uniform(0, 80), 1)
        done = rng.random() < 0.85
        return done, 100.0 if done else round(rng.uniform(10, 90), 1)
