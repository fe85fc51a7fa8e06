"""Every table of every subsystem, for Alembic autogenerate and tests.

A subsystem with tables declares them in a module named ``tables`` anywhere in
the ``preuve`` package (``preuve/webhooks/tables.py``,
``preuve/connectors/xapi/tables.py``...) on ``preuve.store.schema.metadata``;
they are found here without a central list to edit.
"""

from __future__ import annotations

import importlib
import pkgutil

from sqlalchemy import MetaData

import preuve
from preuve.store.schema import metadata


def table_modules() -> list[str]:
    return sorted(
        module.name
        for module in pkgutil.walk_packages(preuve.__path__, prefix="preuve.")
        if module.name.rsplit(".", 1)[-1] == "tables" and module.name != "preuve.store.tables"
    )


def all_metadata() -> MetaData:
    for name in table_modules():
        importlib.import_module(name)
    return metadata
