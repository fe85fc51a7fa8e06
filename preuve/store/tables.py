"""Every table of every subsystem, for Alembic autogenerate and tests.

A subsystem with tables declares them in its own ``tables.py`` module
(``preuve/<subsystem>/tables.py``) on ``preuve.store.schema.metadata``; they are
found here without a central list to edit.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from sqlalchemy import MetaData

import preuve
from preuve.store.schema import metadata


def all_metadata() -> MetaData:
    for module in pkgutil.iter_modules(preuve.__path__):
        if not module.ispkg:
            continue
        name = f"preuve.{module.name}.tables"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    return metadata
