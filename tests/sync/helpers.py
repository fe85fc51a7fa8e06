"""Settings builders for the sync tests (real settings objects, real files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from preuve.config.settings import Settings
from tests.sync.standin import TARGET, write_records


def tenant_dicts(
    root: Path,
    count: int,
    records: int,
    *,
    options: dict[str, Any] | None = None,
    prefix: str = "of",
) -> list[dict[str, Any]]:
    """``count`` tenants, each with one stand-in source over its own file."""
    tenants = []
    for n in range(count):
        tenant_id = f"{prefix}-{n:03d}"
        path = write_records(root / f"{tenant_id}.jsonl", records, prefix=tenant_id)
        tenants.append(
            {
                "id": tenant_id,
                "name": f"Organisme {n}",
                "sources": [
                    {
                        "id": "lms",
                        "kind": "jsonl",
                        "path": str(path),
                        "options": dict(options or {}),
                    }
                ],
            }
        )
    return tenants


def make_settings(
    store_url: str,
    tenants: list[dict[str, Any]],
    *,
    redis_url: str | None = None,
    sync: dict[str, Any] | None = None,
    schedule: dict[str, Any] | None = None,
    **sections: Any,
) -> Settings:
    return Settings(
        store={"url": store_url},
        redis={"url": redis_url},
        tenants=tenants,
        sync={"connector_classes": {"jsonl": TARGET}, **(sync or {})},
        schedule={"spread_minutes": 0, **(schedule or {})},
        **sections,
    )
