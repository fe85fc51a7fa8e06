"""xAPI: pull statements from an LRS, receive statements pushed to Preuve, and
turn statements into evidence (docs/xapi.md)."""

from __future__ import annotations

from preuve.connectors.xapi.connector import XapiConnector

__all__ = ["XapiConnector"]
