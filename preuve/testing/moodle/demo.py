"""The demo organisation's Moodle: a small generated site served by the stand-in."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from preuve.config.settings import SourceConfig
from preuve.testing.moodle.generator import SiteSpec
from preuve.testing.moodle.server import start_stand_in

DEMO_SOURCE_ID = "moodle"
DEMO_TOKEN_ENV = "PREUVE_DEMO_MOODLE_TOKEN"  # noqa: S105 - a variable name, not a secret
DEMO_SITE = SiteSpec(courses=4, learners_per_course=10, sessions_per_course=4, graded_per_course=3)


def demo_source(url: str) -> SourceConfig:
    return SourceConfig(
        id=DEMO_SOURCE_ID,
        kind="moodle",
        url=url,
        credentials={"token": DEMO_TOKEN_ENV},
    )


@asynccontextmanager
async def demo_moodle() -> AsyncIterator[SourceConfig]:
    """Start the stand-in on 127.0.0.1 and yield the source that reads it."""
    stand_in = await start_stand_in(DEMO_SITE)
    os.environ[DEMO_TOKEN_ENV] = stand_in.token  # a fictitious token, for the demo only
    try:
        yield demo_source(stand_in.url)
    finally:
        await stand_in.close()
