"""The deployment files, checked without a Docker engine: the compose file parses,
has every service, and its environment is valid configuration; the Dockerfile is
multi-stage, non-root, with a health check; the systemd unit runs the embedded mode."""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from preuve.config.settings import Settings

DOCKER = Path(__file__).resolve().parents[2] / "docker"
_VAR = re.compile(r"\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}")


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((DOCKER / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _env_example() -> dict[str, str]:
    values = {}
    for line in (DOCKER / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def _interpolate(value: str, env: dict[str, str]) -> str:
    return _VAR.sub(lambda m: env.get(m.group(1)) or m.group(3) or "", value)


def test_compose_has_the_services_and_persistence() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) >= {"web", "worker", "redis", "postgres", "migrate"}
    redis_command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_command
    assert any(v.startswith("redis-data:") for v in services["redis"]["volumes"])
    assert any(v.startswith("postgres-data:") for v in services["postgres"]["volumes"])
    assert {"redis-data", "postgres-data"} <= set(compose["volumes"])
    assert services["web"]["command"][0] == "serve"
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["healthcheck"]["test"] == ["CMD", "preuve", "worker", "--check"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["migrate"]["command"] == ["db", "upgrade"]
    web_deps = services["web"]["depends_on"]
    assert web_deps["migrate"]["condition"] == "service_completed_successfully"
    assert "migrate" not in services["migrate"]["depends_on"]


def test_every_variable_is_documented_and_valid_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compose_text = (DOCKER / "docker-compose.yml").read_text(encoding="utf-8")
    documented = _env_example()
    used = {m.group(1) for m in _VAR.finditer(compose_text)}
    assert used <= set(documented), used - set(documented)
    deployment_doc = (DOCKER.parent / "docs" / "deployment.md").read_text(encoding="utf-8")
    for name in documented:
        assert name in deployment_doc, f"{name} is not described in docs/deployment.md"

    for service in ("web", "worker"):
        environment = _compose()["services"][service]["environment"]
        for key in list(environment):
            monkeypatch.delenv(key, raising=False)
        for key, value in environment.items():
            if key.startswith("PREUVE_") and key != "PREUVE_CONFIG":
                text = _interpolate(str(value), documented)
                if text:
                    monkeypatch.setenv(key, text)
        settings = Settings()  # raises on any unknown or invalid variable
        assert settings.store.url.startswith("postgresql+asyncpg://preuve:change-me@postgres")
        assert settings.redis.url == "redis://:change-me-too@redis:6379/0"
        assert settings.log_format == "json"
        if service == "worker":
            assert settings.sync.metrics_port == 9101


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\w+)", text, flags=re.MULTILINE)
    assert len(stages) >= 2
    assert "COPY --from=build" in text
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*CMD", text, flags=re.MULTILINE | re.DOTALL)
    assert "/healthz" in text
    assert 'ENTRYPOINT ["preuve"]' in text


def test_systemd_unit_runs_the_embedded_mode() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DOCKER / "systemd" / "preuve.service", encoding="utf-8")
    service = unit["Service"]
    assert service["ExecStart"].endswith("preuve serve")
    assert service["User"] == "preuve"
    assert "PREUVE_REDIS__URL" not in (DOCKER / "systemd" / "preuve.service").read_text()
    assert unit["Install"]["WantedBy"] == "multi-user.target"
