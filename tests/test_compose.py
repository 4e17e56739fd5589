"""docker-compose.yml read against the Compose spec's rules that matter here (no engine runs
on this machine), and the commands it runs checked to exist."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("migrate", "web", "worker", "gpu-worker", "beat")


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_dependency_names_a_service_with_a_valid_condition() -> None:
    services = compose()["services"]
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert dependency != name, f"{name} depends on itself"
            assert rule["condition"] in conditions
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"


def test_app_services_share_the_image_and_settings_and_beat_runs_once() -> None:
    services = compose()["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["REDIS_URL"].startswith("redis://"), name
        assert services[name]["build"] == "."
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "ports" not in services["beat"]
    assert "ports" not in services["worker"]
    assert "ports" not in services["gpu-worker"]
    volumes = compose()["volumes"]
    for service in services.values():
        for mount in service.get("volumes", []):
            assert mount.split(":")[0] in volumes


def test_commands_it_runs_exist_in_the_project() -> None:
    services = compose()["services"]
    programs = {services[name]["command"][0] for name in APP_SERVICES}
    assert programs <= {"gunicorn", "celery", "sh"}
    for program in ("gunicorn", "celery"):
        assert shutil.which(program, path=str(Path(sys.executable).parent)), program
    web = services["web"]["command"]
    assert web[:2] == ["gunicorn", "config.wsgi"]
    for name in ("worker", "gpu-worker", "beat"):
        assert services[name]["command"][:3] == ["celery", "-A", "config"]
    gpu = services["gpu-worker"]["command"]
    assert gpu[gpu.index("--queues") + 1] == "gpu"
    assert gpu[gpu.index("--concurrency") + 1] == gpu[gpu.index("--prefetch-multiplier") + 1] == "1"
    assert services["worker"]["command"][services["worker"]["command"].index("--queues") + 1] == (
        "default"
    )
    for name in ("web", "worker", "gpu-worker"):
        assert "artifacts:/app/var/artifacts" in services[name]["volumes"]
    help_text = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"DJANGO_SETTINGS_MODULE": "config.settings_test", "PATH": "/usr/bin:/bin"},
    )
    assert help_text.returncode == 0, help_text.stderr
    for flag in ("--queues", "--concurrency", "--prefetch-multiplier", "--pool", "--loglevel"):
        assert flag in help_text.stdout
    dockerfile = (ROOT / "Dockerfile").read_text()
    for copied in (
        "config",
        "common",
        "annotation",
        "training",
        "frontend",
        "manage.py",
        "pyproject.toml",
    ):
        assert f"COPY {copied}" in dockerfile
