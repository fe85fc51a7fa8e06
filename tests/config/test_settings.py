"""Configuration: TOML with environment overrides, errors that name the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preuve.config.settings import ConfigError, SecretMissingError, load_settings
from preuve.config.starter import STARTER_TOML
from preuve.mapping.referential import available_referentials, use_referential_dir

VALID = """
[store]
url = "sqlite+aiosqlite:///x.db"

[[tenants]]
id = "of-1"
name = "OF un"
categories = ["training", "apprenticeship"]

  [[tenants.sources]]
  id = "moodle"
  kind = "moodle"
  url = "https://moodle.example.org"
  credentials = { token = "TEST_PREUVE_TOKEN" }
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "preuve.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_starter_file_loads(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, STARTER_TOML))
    assert settings.tenants[0].id == "mon-of"
    assert settings.redis.url is None
    assert settings.schedule.timezone == "Europe/Paris"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREUVE_STORE__URL", "postgresql://preuve@db/preuve")
    monkeypatch.setenv("PREUVE_REDIS__URL", "redis://cache:6379/0")
    settings = load_settings(_write(tmp_path, VALID))
    assert settings.store.url == "postgresql://preuve@db/preuve"
    assert settings.redis.url == "redis://cache:6379/0"
    assert settings.tenants[0].categories[1] == "apprenticeship"


def test_credentials_are_read_from_the_named_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = load_settings(_write(tmp_path, VALID)).tenants[0].sources[0]
    monkeypatch.delenv("TEST_PREUVE_TOKEN", raising=False)
    with pytest.raises(SecretMissingError, match="TEST_PREUVE_TOKEN"):
        source.credential("token")
    monkeypatch.setenv("TEST_PREUVE_TOKEN", "abc123")
    assert source.credential("token") == "abc123"
    assert "abc123" not in repr(source)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('kind = "moodle"', 'kind = "blackboard"'), "tenants[0].sources[0].kind"),
        (('name = "OF un"', 'nom = "OF un"'), "tenants[0].nom: clé inconnue"),
        (('id = "of-1"', 'id = "of 1"'), "tenants[0].id"),
        (('"TEST_PREUVE_TOKEN"', '"s3cr3t-token!"'), "tenants[0].sources[0].credentials"),
        (
            ('categories = ["training", "apprenticeship"]', 'categories = ["cfa"]'),
            "tenants[0].categories[0]",
        ),
    ],
)
def test_errors_name_the_key_at_fault(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, VALID.replace(*change)))
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_invalid_toml_and_missing_file_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TOML"):
        load_settings(_write(tmp_path, "[store\nurl="))
    with pytest.raises(ConfigError, match="introuvable"):
        load_settings(tmp_path / "absent.toml")


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    doubled = VALID + VALID[VALID.index("[[tenants]]") :]
    with pytest.raises(ConfigError, match="used twice"):
        load_settings(_write(tmp_path, doubled))


def test_profile_flags_are_read_and_checked(tmp_path: Path) -> None:
    tenant = load_settings(_write(tmp_path, VALID)).tenants[0]
    assert (tenant.certifying, tenant.work_study, tenant.work_based_periods) == (None, None, None)
    flagged = VALID.replace(
        'categories = ["training", "apprenticeship"]',
        'categories = ["training"]\ncertifying = false\nwork_study = false\n'
        "work_based_periods = true",
    )
    tenant = load_settings(_write(tmp_path, flagged)).tenants[0]
    assert (tenant.certifying, tenant.work_study, tenant.work_based_periods) == (False, False, True)
    contradiction = VALID.replace(
        'categories = ["training", "apprenticeship"]',
        "work_study = true\nwork_based_periods = false",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, contradiction))
    assert any(
        p.startswith("tenants[0]") and "work_based_periods = false contradicts" in p
        for p in caught.value.problems
    ), caught.value.problems
    with pytest.raises(ConfigError, match=r"tenants\[0\]\.certifying"):
        load_settings(
            _write(
                tmp_path,
                VALID.replace('name = "OF un"', 'name = "OF un"\ncertifying = "peut-être"'),
            )
        )


def test_referential_dir_must_be_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    absent = tmp_path / "absent"
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, f'[mapping]\nreferential_dir = "{absent.as_posix()}"\n'))
    assert caught.value.problems == [
        f"mapping.referential_dir: Value error, {absent} is not a folder"
    ]
    # the environment names it too (PREUVE_MAPPING__REFERENTIAL_DIR)
    monkeypatch.setenv("PREUVE_MAPPING__REFERENTIAL_DIR", str(absent))
    with pytest.raises(ConfigError, match="is not a folder"):
        load_settings(_write(tmp_path, VALID))
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PREUVE_MAPPING__REFERENTIAL_DIR", str(empty))
    with pytest.raises(ConfigError, match="no referential file in"):
        load_settings(_write(tmp_path, VALID))
    try:
        folder = tmp_path / "refs"
        folder.mkdir()
        source = available_referentials()["rnq-2026"].model_dump(mode="json")
        source.update(version="rnq-2030", in_force_from="2030-01-01")
        (folder / "rnq-2030.json").write_text(json.dumps(source), encoding="utf-8")
        monkeypatch.setenv("PREUVE_MAPPING__REFERENTIAL_DIR", str(folder))
        settings = load_settings(_write(tmp_path, VALID))
        assert settings.mapping.referential_dir == folder
        assert "rnq-2030" in available_referentials()
    finally:
        use_referential_dir(None)
