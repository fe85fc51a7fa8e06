"""Constants shared across Preuve, kept in one place."""

from __future__ import annotations

from typing import Final

DEFAULT_CONFIG_FILE: Final = "preuve.toml"
DEFAULT_STORE_URL: Final = "sqlite+aiosqlite:///preuve.db"
ENV_PREFIX: Final = "PREUVE_"
DEFAULT_LANGUAGE: Final = "fr"
SUPPORTED_LANGUAGES: Final = ("fr", "en")

# Records are written in batches: one transaction per batch, together with the
# stream cursor that the batch covers.
DEFAULT_BATCH_SIZE: Final = 1000

PARIS_TZ: Final = "Europe/Paris"

# Exit codes of the CLI (documented in docs/cli.md).
EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2
EXIT_CONFIG: Final = 3
EXIT_CHECK_FAILED: Final = 4
EXIT_PARTIAL: Final = 5
EXIT_GAPS: Final = 6
