"""Source kinds and the connector class behind each, imported on first use."""

from __future__ import annotations

import importlib

from preuve.config.settings import SourceConfig, TenantConfig
from preuve.connectors.base import Connector, ConnectorContext
from preuve.evidence.identity import Pseudonymiser

# kind -> "module:Class". Each connector lives in its own subpackage.
CONNECTORS: dict[str, str] = {
    "jsonl": "preuve.connectors.jsonl:JsonlConnector",
    "moodle": "preuve.connectors.moodle:MoodleConnector",
    "xapi": "preuve.connectors.xapi:XapiConnector",
    "scorm": "preuve.connectors.scorm:ScormConnector",
    "cv": "preuve.connectors.cv:CvConnector",
}


class UnknownConnectorError(LookupError):
    pass


def connector_class(kind: str) -> type[Connector]:
    target = CONNECTORS.get(kind)
    if target is None:
        raise UnknownConnectorError(f"no connector for source kind {kind!r}")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UnknownConnectorError(f"the {kind!r} connector is not installed") from exc
    cls = getattr(module, class_name)
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise UnknownConnectorError(f"{target} is not a Connector")
    return cls


def build_connector(tenant: TenantConfig, source: SourceConfig) -> Connector:
    context = ConnectorContext(
        tenant=tenant.id,
        source=source,
        pseudonymiser=Pseudonymiser(tenant.pseudonym_secret()),
    )
    return connector_class(source.kind)(context)
