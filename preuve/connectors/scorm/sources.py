"""A ``scorm`` source that reads exactly the files given (CLI import, web upload)."""

from __future__ import annotations

from typing import Any

from preuve.config.settings import SourceConfig, TenantConfig
from preuve.i18n import Text

MSG_NOT_SCORM = Text(
    fr="la source « {source} » est de type {kind}, pas scorm",
    en="source '{source}' is of kind {kind}, not scorm",
)


def scorm_source(
    tenant: TenantConfig,
    source_id: str,
    files: list[str],
    *,
    action_ref: str | None = None,
    timezone: str | None = None,
    strict: bool | None = None,
) -> SourceConfig:
    """A source reading exactly ``files``: the configured source's options, if any, apply.

    Raises ``ValueError`` when ``source_id`` names a configured source of another kind.
    """
    options: dict[str, Any] = {}
    try:
        configured = tenant.source(source_id)
    except KeyError:
        configured = None
    if configured is not None:
        if configured.kind != "scorm":
            raise ValueError(MSG_NOT_SCORM(source=source_id, kind=configured.kind))
        options.update(configured.options)
    options["files"] = files
    options["remember_files"] = False  # an explicit import reads every file it is given
    if action_ref:
        options["action_ref"] = action_ref
        options.pop("actions", None)
    if timezone:
        options["timezone"] = timezone
    if strict is not None:
        options["strict"] = strict
    return SourceConfig(id=source_id, kind="scorm", options=options)
