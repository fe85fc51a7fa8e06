"""Configuration: one TOML file plus environment overrides.

Environment variables win over the file: ``PREUVE_STORE__URL``,
``PREUVE_REDIS__URL``, ``PREUVE_LANGUAGE``... (``__`` separates nesting levels).
Secrets are never written in the file: a source names the *environment
variable* that holds each credential.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from preuve.constants import DEFAULT_STORE_URL, PARIS_TZ
from preuve.evidence.model import ActionCategory
from preuve.i18n import Text

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

MSG_MISSING_SECRET = Text(
    fr="la variable d'environnement {env} (identifiant « {name} » de la source {source}) "
    "n'est pas définie",
    en="environment variable {env} (credential '{name}' of source {source}) is not set",
)
MSG_NO_CREDENTIAL = Text(
    fr="la source {source} ne déclare pas d'identifiant « {name} » dans [credentials]",
    en="source {source} declares no credential '{name}' in [credentials]",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SecretMissingError(Exception):
    pass


class SourceConfig(_Section):
    """One data source of a tenant (a Moodle site, an LRS, a folder of files...)."""

    id: str = Field(pattern=KEY_PATTERN)
    kind: Literal["moodle", "xapi", "scorm", "cv", "jsonl"]
    url: str | None = None
    path: str | None = Field(default=None, description="folder or file for file-based sources")
    credentials: dict[str, str] = Field(
        default_factory=dict,
        description="credential name -> name of the environment variable holding it",
    )
    options: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True

    @field_validator("credentials")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, env in value.items():
            if not env.replace("_", "").isalnum() or not env[0].isalpha():
                raise ValueError(
                    f"credentials.{name} must name an environment variable (e.g. "
                    f"PREUVE_MOODLE_TOKEN), not hold the secret itself"
                )
        return value

    def credential(self, name: str, *, required: bool = True) -> str | None:
        """Read a credential from the environment variable the config names."""
        env = self.credentials.get(name)
        if env is None:
            if required:
                raise SecretMissingError(MSG_NO_CREDENTIAL(source=self.id, name=name))
            return None
        value = os.environ.get(env)
        if not value and required:
            raise SecretMissingError(MSG_MISSING_SECRET(env=env, name=name, source=self.id))
        return value or None


class WebhookEndpointConfig(_Section):
    """A webhook subscription declared in the configuration (applied to the store)."""

    id: str = Field(pattern=KEY_PATTERN)
    url: str = Field(min_length=1)
    events: list[str] = Field(default_factory=list, description="empty: every event type")
    secret_env: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_]*$",
        description="environment variable holding the whsec_ secret(s), space separated",
    )
    description: str = ""


class TenantConfig(_Section):
    """A training organisation served by this Preuve instance."""

    id: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1)
    siret: str | None = Field(default=None, pattern=r"^\d{14}$")
    activity_declaration_number: str | None = Field(default=None, pattern=r"^\d{11}$")
    categories: list[ActionCategory] = Field(default_factory=lambda: [ActionCategory.TRAINING])
    new_entrant: bool = False
    subcontracting: bool = False
    # What the organisation delivers, for applicability when no training action says
    # otherwise (docs/referential.md). None: unknown, the indicator is not hidden.
    certifying: bool | None = Field(
        default=None, description="delivers actions leading to a certification (RNCP, RS)"
    )
    work_study: bool | None = Field(
        default=None, description="delivers work-study (alternance) training actions"
    )
    work_based_periods: bool | None = Field(
        default=None,
        description="delivers actions with periods in a company (work-study, internships, "
        "AFEST); implied by work_study = true",
    )
    pseudonym_secret_env: str | None = Field(
        default=None,
        description="environment variable holding the secret for pseudonymous person keys",
    )
    referential_version: str | None = None
    audit_date: date | None = Field(
        default=None,
        description="date of the next audit: picks the referential version (default: today)",
    )
    rules: dict[str, Any] = Field(
        default_factory=dict, description="per-tenant overrides of rule parameters"
    )
    sources: list[SourceConfig] = Field(default_factory=list)
    webhooks: list[WebhookEndpointConfig] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Imported here: the mapping imports this module.
        from preuve.mapping.rules import validate_overrides

        problems = validate_overrides(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @model_validator(mode="after")
    def _consistent_profile(self) -> TenantConfig:
        if self.work_study and self.work_based_periods is False:
            raise ValueError(
                "work_based_periods = false contradicts work_study = true "
                "(work-study training includes periods in a company)"
            )
        return self

    @model_validator(mode="after")
    def _unique_sources(self) -> TenantConfig:
        seen: set[str] = set()
        for source in self.sources:
            if source.id in seen:
                raise ValueError(f"source id {source.id!r} is used twice")
            seen.add(source.id)
        hooks = [hook.id for hook in self.webhooks]
        if len(hooks) != len(set(hooks)):
            raise ValueError("a webhook id is used twice")
        return self

    def source(self, source_id: str) -> SourceConfig:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)

    def pseudonym_secret(self) -> bytes:
        """The per-tenant secret; a development default derived from the id otherwise."""
        if self.pseudonym_secret_env:
            value = os.environ.get(self.pseudonym_secret_env)
            if not value:
                raise SecretMissingError(
                    f"environment variable {self.pseudonym_secret_env} is not set"
                )
            return value.encode()
        return f"preuve-dev-pseudonym:{self.id}".encode()


class StoreConfig(_Section):
    url: str = DEFAULT_STORE_URL


class RedisConfig(_Section):
    url: str | None = Field(default=None, description="unset: in-process runner, no Redis")


class ScheduleConfig(_Section):
    enabled: bool = True
    nightly_at: time = time(2, 30)
    timezone: str = PARIS_TZ
    spread_minutes: int = Field(default=120, ge=0, le=720)


class SyncConfig(_Section):
    """Sync jobs: timeouts, retries, locks, concurrency (see docs/operations.md)."""

    job_timeout_seconds: float = Field(default=3600.0, gt=0, le=86400)
    max_tries: int = Field(default=5, ge=1, le=50)
    retry_base_seconds: float = Field(default=30.0, ge=0)
    retry_max_seconds: float = Field(default=3600.0, ge=0)
    lock_ttl_seconds: float = Field(default=60.0, gt=0, le=3600)
    worker_concurrency: int = Field(default=4, ge=1, le=256)
    embedded_concurrency: int = Field(default=2, ge=1, le=64)
    shutdown_grace_seconds: int = Field(default=20, ge=0, le=3600)
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="worker: serve /metrics on this port"
    )
    connector_classes: dict[str, str] = Field(
        default_factory=dict,
        description="source kind -> 'module:Class' replacing the built-in connector "
        "(plugins, latency stand-ins in tests and benchmarks)",
    )


class WebConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = Field(default=None, description="base of links in notifications")
    auth: Literal["auto", "required", "off"] = Field(
        default="auto",
        description="API tokens on /api/...: auto (required once a token exists or when "
        "listening beyond the loopback), required, or off (explicit, warned at start)",
    )
    metrics_auth: bool = Field(
        default=False, description="/metrics also needs an operator token when auth is enforced"
    )


class WebhooksConfig(_Section):
    """Webhooks: SSRF allow-list, retries, disabling, inbound secrets (see docs/webhooks.md)."""

    allow_networks: list[str] = Field(
        default_factory=list,
        description="networks (CIDR) or host names exempt from the SSRF guard, e.g. 10.0.0.0/8",
    )
    disable_after_hours: float = Field(default=120.0, gt=0)
    timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    retry_schedule_seconds: list[float] | None = Field(
        default=None, description="delays before each attempt; unset: the standard schedule"
    )
    inbound_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    inbound_secret_env: dict[str, str] = Field(
        default_factory=dict,
        description="tenant id -> environment variable holding its inbound signing secret(s)",
    )

    @field_validator("retry_schedule_seconds")
    @classmethod
    def _schedule(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (not value or any(d < 0 for d in value)):
            raise ValueError("at least one delay, none negative (seconds before each attempt)")
        return value


class MappingConfig(_Section):
    """Coverage mapping: where referential versions are read from (docs/referential.md)."""

    referential_dir: Path | None = Field(
        default=None,
        description="folder of referential files (*.json) loaded in addition to the shipped ones",
    )

    @field_validator("referential_dir")
    @classmethod
    def _readable_referentials(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        if not value.is_dir():
            raise ValueError(f"{value} is not a folder")
        # Imported here: the mapping imports this module.
        from preuve.mapping.referential import ReferentialError, load_referentials

        try:
            load_referentials(extra=value)
        except ReferentialError as exc:
            raise ValueError(str(exc)) from None
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PREUVE_", env_nested_delimiter="__", extra="forbid"
    )

    language: Literal["fr", "en"] = "fr"
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    store: StoreConfig = Field(default_factory=StoreConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    sync: SyncConfig = Field(default_factory=SyncConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    mapping: MappingConfig = Field(default_factory=MappingConfig)
    tenants: list[TenantConfig] = Field(default_factory=list)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file (given as init values by load_settings).
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _unique_tenants(self) -> Settings:
        seen: set[str] = set()
        for tenant in self.tenants:
            if tenant.id in seen:
                raise ValueError(f"tenant id {tenant.id!r} is used twice")
            seen.add(tenant.id)
        return self

    def tenant(self, tenant_id: str) -> TenantConfig:
        for tenant in self.tenants:
            if tenant.id == tenant_id:
                return tenant
        raise KeyError(tenant_id)


class ConfigError(Exception):
    """A configuration that cannot be used, with every fault named."""

    def __init__(self, path: Path | None, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        where = str(path) if path else "configuration"
        super().__init__(f"{where}:\n" + "\n".join(f"  - {p}" for p in problems))


def _location(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(racine)"


def describe_validation_error(error: ValidationError) -> list[str]:
    """One line per fault: the key at fault and what is expected."""
    lines = []
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and "[" in p))
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "clé inconnue / unknown key"
        elif item["type"] == "missing":
            message = "clé obligatoire manquante / required key missing"
        lines.append(f"{_location(loc)}: {message}")
    return lines


def load_settings(path: str | Path | None = None) -> Settings:
    """Load the TOML file (if any) with environment overrides.

    ``path`` None means ``$PREUVE_CONFIG`` or ``./preuve.toml`` when present,
    otherwise defaults and environment only.
    """
    file: Path | None = None
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(file, ["fichier introuvable / file not found"])
    else:
        env_path = os.environ.get("PREUVE_CONFIG")
        candidate = Path(env_path) if env_path else Path("preuve.toml")
        file = candidate if candidate.is_file() else None
    data: dict[str, Any] = {}
    if file is not None:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(file, [f"TOML invalide / invalid TOML: {exc}"]) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(file, ["le fichier n'est pas en UTF-8 / not UTF-8"]) from exc
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(file, describe_validation_error(exc)) from exc
    # Imported here: the mapping imports this module.
    from preuve.mapping.referential import ReferentialError, use_referential_dir

    try:
        use_referential_dir(settings.mapping.referential_dir)
    except ReferentialError as exc:  # the folder changed since it was validated
        raise ConfigError(file, [f"mapping.referential_dir: {exc}"]) from exc
    return settings
