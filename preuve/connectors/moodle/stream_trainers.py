"""Trainer profile fields -> TrainerCv, TrainerQualification, ContinuingDevelopment.

Trainers are the course contacts (Moodle's "course contacts" setting, editing
teachers by default). Their custom profile fields are read in batches of 50
with ``core_user_get_users_by_field``; which field holds what is the
``trainer_fields`` option. CV files in user private files are readable only
with the trainer's own token, so a CV is expected as a link (``cv_url``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from preuve.connectors.base import Batch, Stream
from preuve.connectors.errors import SkippedItem
from preuve.connectors.moodle.constants import F_USERS_BY_FIELD
from preuve.connectors.moodle.values import epoch, text
from preuve.evidence.model import (
    ContinuingDevelopment,
    DocumentRef,
    EvidenceData,
    PartialDate,
    TrainerCv,
    TrainerQualification,
)
from preuve.i18n import Text

if TYPE_CHECKING:
    from preuve.connectors.moodle.connector import MoodleConnector

MSG_INVALID = Text(fr="champ de profil invalide : {error}", en="invalid profile field: {error}")
MSG_FUNCTION_MISSING = Text(
    fr="flux trainers ignoré : fonction {function} absente du service externe",
    en="trainers stream skipped: function {function} missing from the external service",
)
USERS_PER_CALL = 50
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
        trainer_ids = sorted({uid for c in await site.courses() for uid in c.contacts})
        for start in range(0, len(trainer_ids), USERS_PER_CALL):
            chunk = trainer_ids[start : start + USERS_PER_CALL]
            users = await site.client.call(F_USERS_BY_FIELD, {"field": "id", "values": chunk})
            batch = Batch()
            for user in users or ():
                self._user(batch, user)
            if start + USERS_PER_CALL >= len(trainer_ids):
                batch.cursor = str(site.now())
            yield batch
        if not trainer_ids:
            yield Batch(cursor=str(site.now()))

    def _add(self, batch: Batch, item: str, data: dict[str, Any], source_id: str) -> None:
        kind: type[EvidenceData] = data.pop("model")
        try:
            payload = kind.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            batch.skipped.append(
                SkippedItem(
                    self.name, item, MSG_INVALID(error=f"{where}: {first['msg']}"), "invalid_record"
                )
            )
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
