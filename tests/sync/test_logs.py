"""Logs: JSON on request, tenant/source/run context, no secrets or e-mail addresses."""

from __future__ import annotations

import logging

import orjson
import pytest

from preuve.logs import log_scope, redact, setup_logging


@pytest.fixture
def restore_logging() -> object:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield None
    root.handlers[:], level = saved
    root.setLevel(level)


def test_json_lines_carry_the_context_and_hide_secrets(
    restore_logging: object, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(level=logging.INFO, json_format=True)
    log = logging.getLogger("preuve.test")
    with log_scope(tenant="of-1", source="lms"), log_scope(run="r-42"):
        log.info(
            "calling https://lms.example/ws?wstoken=abcdef123&f=x for %s",
            "jeanne.martin@example.org",
        )
    log.info("outside")
    lines = [orjson.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["tenant"] == "of-1"
    assert lines[0]["source"] == "lms"
    assert lines[0]["run"] == "r-42"
    assert "abcdef123" not in lines[0]["message"]
    assert "jeanne.martin" not in lines[0]["message"]
    assert "wstoken=***" in lines[0]["message"]
    assert "tenant" not in lines[1]


def test_text_lines_show_the_context(
    restore_logging: object, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(level=logging.INFO)
    with log_scope(tenant="of-2", source="moodle", run="r-1"):
        logging.getLogger("preuve.test").warning("sync failed: %s", "Authorization: Bearer xyz")
    err = capsys.readouterr().err
    assert "[tenant=of-2 source=moodle run=r-1]" in err
    assert "xyz" not in err


def test_redact_masks_passwords_in_urls() -> None:
    text = redact("store postgresql+asyncpg://preuve:s3cret@db:5432/preuve unreachable")
    assert "s3cret" not in text
    assert "preuve:***@db" in text
    assert redact("redis://:hunter2@redis:6379/0") == "redis://:***@redis:6379/0"
