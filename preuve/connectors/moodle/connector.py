"""The Moodle connector: configuration, the per-sync session and the streams."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from preuve import __version__
from preuve.config.settings import SecretMissingError
from preuve.connectors.base import CheckReport, Connector, ConnectorContext, Stream
from preuve.connectors.errors import PermanentError
from preuve.connectors.moodle.check import run_check
from preuve.connectors.moodle.client import MoodleClient
from preuve.connectors.moodle.options import MoodleOptions, parse_options
from preuve.connectors.moodle.site import MoodleSite
from preuve.connectors.moodle.stream_assessments import AssessmentsStream
from preuve.connectors.moodle.stream_attendance import AttendanceStream
from preuve.connectors.moodle.stream_completion import CompletionStream
from preuve.connectors.moodle.stream_courses import CoursesStream
from preuve.connectors.moodle.stream_enrolments import EnrolmentsStream
from preuve.connectors.moodle.stream_scorm import ScormStream
from preuve.connectors.moodle.stream_surveys import SurveysStream
from preuve.connectors.moodle.stream_trainers import TrainersStream
from preuve.evidence.model import EvidenceData, EvidenceRecord, Provenance
from preuve.i18n import Text

MSG_NO_URL = Text(
    fr="la source {source} n'a pas d'adresse Moodle (clé url)",
    en="source {source} has no Moodle address (key url)",
)
MSG_NOT_OPEN = Text(
    fr="connecteur Moodle utilisé sans session ouverte",
    en="Moodle connector used without an open session",
)


class MoodleConnector(Connector):
    kind: ClassVar[str] = "moodle"
    version: ClassVar[str] = __version__

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self._options: MoodleOptions | None = None
        self._setup_error: Exception | None = None
        self._client: MoodleClient | None = None
        self._site: MoodleSite | None = None
        self._provenance: Provenance | None = None
        try:
            self._options = parse_options(context.source.id, context.source.options)
        except PermanentError as exc:
            self._setup_error = exc

    @property
    def options(self) -> MoodleOptions:
        if self._options is None:
            raise self._setup_error or PermanentError(MSG_NOT_OPEN(), code="not_open")
        return self._options

    @property
    def site(self) -> MoodleSite:
        """The per-sync session; configuration errors surface here, inside a stream."""
        if self._site is None:
            raise self._setup_error or PermanentError(MSG_NOT_OPEN(), code="not_open")
        return self._site

    @property
    def client(self) -> MoodleClient:
        return self.site.client

    async def open(self) -> None:
        if self._setup_error is not None or self._site is not None:
            return
        source = self.context.source
        options = self.options
        try:
            if not source.url:
                raise PermanentError(MSG_NO_URL(source=source.id), code="no_url")
            token = source.credential("token") or ""
        except (PermanentError, SecretMissingError) as exc:
            self._setup_error = exc
            return
        client = MoodleClient(
            source.url,
            token,
            concurrency=options.concurrency,
            timeout=options.request_timeout,
            attempts=options.retry_attempts,
            initial_wait=options.retry_initial_wait,
            max_wait=options.retry_max_wait,
        )
        await client.open()
        self._client = client
        self._site = MoodleSite(
            client=client,
            options=options,
            source_id=source.id,
            pseudonymiser=self.context.pseudonymiser,
            clock=self.context.clock,
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        self._client = None
        self._site = None

    def streams(self) -> Sequence[Stream]:
        disabled = set(self._options.disabled_streams) if self._options else set()
        streams: list[Stream] = [
            CoursesStream(self),
            EnrolmentsStream(self),
            TrainersStream(self),
            AttendanceStream(self),
            AssessmentsStream(self),
            CompletionStream(self),
            SurveysStream(self),
            ScormStream(self),
        ]
        return [s for s in streams if s.name not in disabled]

    async def check(self) -> CheckReport:
        return await run_check(self)

    def record(
        self,
        data: EvidenceData,
        *,
        source_id: str,
        effective_at: datetime | None = None,
        source_url: str | None = None,
        fetched_at: datetime | None = None,
    ) -> EvidenceRecord:
        """Like the base class, with ``fetched_at`` given by the stream (when the
        answer was fetched: one clock read per course rather than per record)."""
        template = self._provenance
        if template is None:
            template = self._provenance = super().record(data, source_id=source_id).provenance
        provenance = Provenance(
            tenant=template.tenant,
            source=template.source,
            source_id=source_id,
            effective_at=effective_at,
            fetched_at=fetched_at or self.context.clock(),
            connector=template.connector,
            connector_version=template.connector_version,
            source_url=source_url,
        )
        return EvidenceRecord(provenance=provenance, data=data)
