"""Connector classes replaced by configuration (``[sync] connector_classes``).

A plugin, or a latency stand-in used by tests and benchmarks, takes the place of
the built-in class behind a source kind in the process that runs the syncs.
"""

from __future__ import annotations

from preuve.config.settings import Settings
from preuve.connectors import registry


def apply_connector_classes(settings: Settings) -> None:
    for kind, target in settings.sync.connector_classes.items():
        module, sep, name = target.partition(":")
        if not (module and sep and name):
            raise ValueError(
                f"sync.connector_classes.{kind}: expected 'module:Class', not {target!r}"
            )
        registry.CONNECTORS[kind] = target
