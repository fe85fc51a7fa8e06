"""Trainer profile fields -> TrainerCv, TrainerQualification, ContinuingDevelopment.

Trainers are the course contacts (Moodle's "course contacts" setting, editing
teachers by default). Their custom profile fields are read in batches of 50
with ``core_user_get_users_by_field``; which field holds what is the
``trainer_fields`` option. CV files in user private files are readable only
with the trainer's own token, so a CV is expected as a link (``cv_url``).

Badges (``core_badges_get_user_badges``, when the service has it) become
qualifications, or continuing development when the badge name matches the
``badge_cpd`` option; the issue date is the date obtained, the badge's public
page the document. Moodle returns another user's badges only with
``moodle/badges:viewotherbadges``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from preuve.connectors.base import Batch, Stream
from preuve.connectors.errors import SkipItem, SkippedItem
from preuve.connectors.moodle.constants import F_BADGES, F_USERS_BY_FIELD
from preuve.connectors.moodle.stream_base import VALUE_PROBLEMS, validated
from preuve.connectors.moodle.values import epoch, text
from preuve.evidence.model import (
    ContinuingDevelopment,
    DocumentRef,
    EvidenceData,
    PartialDate,
    TrainerCv,
    TrainerQualification,
    Withdrawal,
)
from preuve.i18n import Text

if TYPE_CHECKING:
    from preuve.connectors.moodle.connector import MoodleConnector

MSG_FUNCTION_MISSING = Text(
    fr="flux trainers ignoré : fonction {function} absente du service externe",
    en="trainers stream skipped: function {function} missing from the external service",
)
USERS_PER_CALL = 50
BADGES_DISABLED = "badgesdisabled"  # errorcode when the site has badges off
BADGE_KEY = ":badge:"
MSG_GONE = Text(
    fr="n'est plus dans Moodle (formateur, champ de profil ou badge)",
    en="no longer in Moodle (trainer, profile field or badge)",
)


def previous_keys(cursor: str | None) -> set[tuple[str, str]]:
    """The (kind, source_id) keys the last complete read produced.

    The cursor is ``{"at": epoch, "keys": [[kind, source_id], ...]}`` (a few keys per
    trainer); an older or unreadable cursor means none are known: nothing withdrawn.
    """
    try:
        data = orjson.loads(cursor or "null")
        return {(str(k), str(s)) for k, s in data["keys"]}
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return set()


_YEAR = re.compile(r"\b(19\d{2}|20\d{2})\b")
_SPLIT = re.compile(r"[;\n]+")


def qualifications(value: str | None) -> list[tuple[str, PartialDate | None]]:
    """``"Titre FPA, 2015; SST (2023)"`` -> [("Titre FPA", 2015), ("SST", 2023)]."""
    found: list[tuple[str, PartialDate | None]] = []
    for raw in _SPLIT.split(text(value) or ""):
        part = raw.strip(" .,")
        if not part:
            continue
        year = _YEAR.search(part)
        title = _YEAR.sub("", part).strip(" ,.()-") if year else part
        found.append((title or part, PartialDate(year=int(year.group(1))) if year else None))
    return found


class TrainersStream(Stream):
    name = "trainers"

    def __init__(self, connector: MoodleConnector) -> None:
        self.connector = connector
        self._badges_off = False  # set when Moodle says badges are disabled
        self._badges_seen = False  # one answer received: the site setting is known

    async def _badges(self, batch: Batch, users: list[dict[str, Any]]) -> None:
        site = self.connector.site
        # Same key as the profile's records (the email may take part in it).
        people = {int(u["id"]): site.person_ref(int(u["id"]), u.get("email")) for u in users}
        user_ids = list(people)
        if not self._badges_seen and user_ids:
            # One call first: a site with badges disabled costs one request, one report.
            await self._badges_of(batch, user_ids[:1], people)
            user_ids = user_ids[1:]
        if user_ids and not self._badges_off:
            await self._badges_of(batch, user_ids, people)

    async def _badges_of(self, batch: Batch, user_ids: list[int], people: dict[int, str]) -> None:
        client = self.connector.site.client
        answers = await asyncio.gather(
            *(
                client.call(F_BADGES, {"userid": uid}, item=f"badges du formateur {uid}")
                for uid in user_ids
            ),
            return_exceptions=True,
        )
        self._badges_seen = True
        for uid, answer in zip(user_ids, answers, strict=True):
            if isinstance(answer, SkipItem):
                batch.skipped.append(
                    SkippedItem(
                        self.name, f"badges du formateur {uid}", answer.message, answer.code
                    )
                )
                if answer.code == BADGES_DISABLED:
                    self._badges_off = True  # a site setting: one report is enough
                    return
            elif isinstance(answer, BaseException):
                raise answer
            else:
                for badge in answer.get("badges") or ():
                    if isinstance(badge, dict):
                        self._badge(batch, uid, people[uid], badge)

    def _badge(self, batch: Batch, uid: int, person_ref: str, badge: dict[str, Any]) -> None:
        site = self.connector.site
        name = text(badge.get("name"))
        issued = epoch(badge.get("dateissued"))
        key = badge.get("issuedid") or badge.get("uniquehash") or badge.get("id")
        page = badge.get("uniquehash")
        document = (
            DocumentRef(
                uri=f"{site.client.base_url}/badges/badge.php?hash={page}",
                media_type="text/html",
                title=name,
            )
            if page
            else None
        )
        obtained = PartialDate.model_validate(issued.date()) if issued else None
        issuer = text(badge.get("issuername"))
        data: dict[str, Any] = {
            "person_ref": person_ref,
            "title": name,
            "document": document,
        }
        if self.connector.options.badge_cpd.matches(idnumber=None, name=name):
            data.update(model=ContinuingDevelopment, provider=issuer, completed=obtained)
        else:
            data.update(model=TrainerQualification, issuer=issuer, obtained=obtained)
        self._add(batch, f"formateur {uid}, badge {key}", data, f"trainer:{uid}:badge:{key}")

    async def read(self, cursor: str | None) -> AsyncIterator[Batch]:
        site = self.connector.site
        info = await site.info()
        if not info.has(F_USERS_BY_FIELD):
            yield Batch(
                skipped=[
                    SkippedItem(
                        self.name,
                        F_USERS_BY_FIELD,
                        MSG_FUNCTION_MISSING(function=F_USERS_BY_FIELD),
                        "function_not_in_service",
                    )
                ]
            )
            return
        old = previous_keys(cursor)
        emitted: set[tuple[str, str]] = set()
        complete = True
        trainer_ids = sorted({uid for c in await site.courses() for uid in c.contacts})
        for start in range(0, len(trainer_ids), USERS_PER_CALL):
            chunk = trainer_ids[start : start + USERS_PER_CALL]
            users = await site.client.call(F_USERS_BY_FIELD, {"field": "id", "values": chunk})
            batch = Batch()
            for user in users or ():
                self._user(batch, user)
            if info.has(F_BADGES) and not self._badges_off:
                await self._badges(batch, list(users or ()))
            emitted.update((r.kind, r.provenance.source_id) for r in batch.records)
            complete = complete and all(
                s.code in VALUE_PROBLEMS or s.code == BADGES_DISABLED for s in batch.skipped
            )
            if start + USERS_PER_CALL < len(trainer_ids):
                yield batch
        if not trainer_ids:
            batch = Batch()
            complete = False  # no course contact at all: more likely a setup problem
        if not complete:
            emitted |= old  # something was not read: keep everything, withdraw nothing
        elif self._badges_off:
            emitted |= {k for k in old if BADGE_KEY in k[1]}  # badges unknown this time
        at = self.connector.context.clock()
        batch.withdrawals.extend(
            Withdrawal(kind=kind, source_id=sid, reason=MSG_GONE(), at=at)
            for kind, sid in sorted(old - emitted)
        )
        batch.cursor = orjson.dumps({"at": site.now(), "keys": sorted(emitted)}).decode()
        yield batch

    def _add(self, batch: Batch, item: str, data: dict[str, Any], source_id: str) -> None:
        kind: type[EvidenceData] = data.pop("model")
        payload = validated(self.name, item, kind, data)
        if isinstance(payload, SkippedItem):
            batch.skipped.append(payload)
            return
        batch.records.append(self.connector.record(payload, source_id=source_id))

    def _user(self, batch: Batch, user: dict[str, Any]) -> None:
        site = self.connector.site
        mapping = self.connector.options.trainer_fields
        uid = int(user["id"])
        person_ref = site.person_ref(uid, user.get("email"))
        fields = {
            str(f.get("shortname")): f.get("value")
            for f in user.get("customfields") or ()
            if isinstance(f, dict)
        }
        item = f"formateur {uid}"
        cv = text(fields.get(mapping.cv_url))
        if cv:
            self._add(
                batch,
                item,
                {"model": TrainerCv, "person_ref": person_ref, "document": DocumentRef(uri=cv)},
                f"trainer:{uid}:cv",
            )
        for index, (title, obtained) in enumerate(
            qualifications(fields.get(mapping.qualifications))
        ):
            self._add(
                batch,
                item,
                {
                    "model": TrainerQualification,
                    "person_ref": person_ref,
                    "title": title,
                    "obtained": obtained,
                    "needs_review": True,  # parsed from free text
                },
                f"trainer:{uid}:qualification:{index}",
            )
        cpd_date = epoch(fields.get(mapping.last_cpd_date))
        if cpd_date is not None:
            self._add(
                batch,
                item,
                {
                    "model": ContinuingDevelopment,
                    "person_ref": person_ref,
                    "title": text(fields.get(mapping.last_cpd_title)) or "Formation continue",
                    "completed": PartialDate.model_validate(cpd_date.date()),
                },
                f"trainer:{uid}:cpd",
            )
