"""The ``options`` table of an ``xapi`` source, validated.

```toml
[[tenants.sources]]
id = "lrs"
kind = "xapi"
url = "https://lrs.example.org/xapi/"
credentials = { username = "PREUVE_LRS_KEY", password = "PREUVE_LRS_SECRET" }
options = { verb = "http://adlnet.gov/expapi/verbs/attended", page_size = 500 }
```

An intake source (statements pushed to Preuve) sets ``intake = true`` and no
``url``; its ``username``/``password`` credentials are the ones the LMS sends.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from preuve.config.settings import SourceConfig, describe_validation_error
from preuve.connectors.errors import PermanentError
from preuve.connectors.xapi.constants import (
    DEFAULT_OVERLAP_SECONDS,
    DEFAULT_PAGE_SIZE,
    DEFAULT_VERSION,
)
from preuve.evidence.model import AssessmentKind, SurveyTiming
from preuve.i18n import Text

MSG_BAD_OPTIONS = Text(
    fr="options invalides pour la source xAPI {source} : {problems}",
    en="invalid options for xAPI source {source}: {problems}",
)


class ActionRule(BaseModel):
    """An activity IRI matching ``pattern`` names the training action ``template``.

    ``template`` is formatted with the pattern's named groups, e.g. pattern
    ``^https://lms\\.example/course/view\\.php\\?id=(?P<id>\\d+)$`` and template
    ``moodle:{id}`` give the action_ref the Moodle connector uses.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str
    template: str = Field(min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value


class XapiOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    intake: bool = Field(default=False, description="statements are pushed to Preuve")
    # "auto": ask the LRS's /about once per sync; else the header sent as it is.
    version: Literal["auto", "1.0.3", "2.0.0"] = DEFAULT_VERSION
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=10_000)
    overlap_seconds: float = Field(default=DEFAULT_OVERLAP_SECONDS, ge=0, le=86_400)
    verb: str | None = Field(default=None, description="only statements with this verb IRI")
    activity: str | None = Field(default=None, description="only statements about this activity")
    related_activities: bool = False
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    retry_attempts: int = Field(default=5, ge=1, le=20)
    retry_initial_wait: float = Field(default=0.5, ge=0, le=60)
    action_rules: tuple[ActionRule, ...] = ()
    known_emails_file: str | None = Field(
        default=None,
        description="file of known e-mail addresses (one a line) to resolve mbox_sha1sum",
    )
    account_sources: dict[str, str] = Field(
        default_factory=dict,
        description="account homePage -> configured source id whose user ids the names are",
    )
    account_names_are_emails: bool = False
    survey_timing: SurveyTiming = SurveyTiming.HOT
    assessment_kind: AssessmentKind = AssessmentKind.FORMATIVE

    def compiled_rules(self) -> list[tuple[re.Pattern[str], str]]:
        return [(re.compile(rule.pattern), rule.template) for rule in self.action_rules]

    def emails_path(self) -> Path | None:
        return Path(self.known_emails_file) if self.known_emails_file else None


def parse_options(source: SourceConfig) -> XapiOptions:
    """Validate ``source.options``; a fault names the key and stops the sync."""
    try:
        return XapiOptions.model_validate(source.options)
    except ValidationError as exc:
        problems = "; ".join(describe_validation_error(exc))
        raise PermanentError(
            MSG_BAD_OPTIONS(source=source.id, problems=problems), code="bad_options"
        ) from exc
