"""docker-compose.yml and the Dockerfile read against the Compose specification's rules that
matter here (no engine runs on this machine), and the commands they run checked to exist.
tests/test_compose_services.py starts those commands."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.compose_file import ROOT, MissingVariable, compose, interpolate, variables

APP_SERVICES = ("migrate", "web", "worker", "gpu-worker", "cpu-worker", "beat")
TRAINING_WORKERS = ("gpu-worker", "cpu-worker")
RAY_NODES = ("ray-head", "ray-worker")
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def dockerfile_stages() -> list[str]:
    return re.findall(r"^FROM \S+ AS (\S+)$", DOCKERFILE, flags=re.MULTILINE)


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


def test_app_services_share_settings_and_build_a_stage_of_the_dockerfile() -> None:
    services = compose()["services"]
    stages = dockerfile_stages()
    assert stages[-1] == "web", "a plain `docker build .` must make the web image"
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["REDIS_URL"].startswith("redis://"), name
        assert services[name]["build"]["context"] == "."
        assert services[name]["build"]["target"] in stages, name
    assert services["web"]["build"]["target"] == "web"
    assert services["gpu-worker"]["build"]["target"] == "train-gpu"
    assert services["cpu-worker"]["build"]["target"] == "train-cpu"
    assert services["beat"]["deploy"]["replicas"] == 1
    for name in ("beat", "worker", *TRAINING_WORKERS):
        assert "ports" not in services[name], name
    volumes = compose()["volumes"]
    for service in services.values():
        for mount in service.get("volumes", []):
            assert mount.split(":")[0] in volumes


def test_every_volume_an_app_service_mounts_exists_in_the_image_for_its_user() -> None:
    """A new named volume takes its owner from the image's folder; one the image lacks would be
    root's, and the app (user studio) could not write its models or static files there."""
    made = re.search(r"mkdir -p ([^&\n]+)", DOCKERFILE)
    assert made, "the Dockerfile makes no folders"
    folders = set(made.group(1).replace("\\", " ").split())
    assert "chown -R studio /app/var" in DOCKERFILE
    services = compose()["services"]
    for name in (*APP_SERVICES, *RAY_NODES):
        for mount in services[name].get("volumes", []):
            target = mount.split(":")[1]
            assert target in folders, f"{name} mounts {target}, which the image does not make"


def test_the_gpu_worker_reserves_a_gpu_and_a_profile_chooses_the_training_worker() -> None:
    services = compose()["services"]
    devices = services["gpu-worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert services["gpu-worker"]["profiles"] == ["gpu"]
    assert services["cpu-worker"]["profiles"] == ["cpu"]
    assert "deploy" not in services["cpu-worker"]
    for name in TRAINING_WORKERS:
        assert services[name]["command"] == services["gpu-worker"]["command"]
        assert services[name]["healthcheck"]["test"][-1] == "--training"
    # Every service outside a profile starts with a plain `docker compose up`.
    assert {n for n, s in services.items() if "profiles" in s} == {*TRAINING_WORKERS, *RAY_NODES}


def test_the_ray_services_are_training_images_that_see_the_run_folders_where_workers_do() -> None:
    """The stages run on the Ray nodes: same image family, same paths for runs and models."""
    services = compose()["services"]
    env = {"POSTGRES_PASSWORD": "pw", "DJANGO_SECRET_KEY": "k"}
    for name in RAY_NODES:
        node = services[name]
        assert node["profiles"] == ["ray"]
        assert node["build"]["target"] == services["cpu-worker"]["build"]["target"]
        assert sorted(node["volumes"]) == sorted(services["cpu-worker"]["volumes"])
        assert node["command"][:2] == ["ray", "start"]
        assert "--block" in node["command"]  # in the foreground, as a container's process
    head = [interpolate(part, env) for part in services["ray-head"]["command"]]
    joined = [interpolate(part, env) for part in services["ray-worker"]["command"]]
    gcs_port = next(p for p in head if p.startswith("--port=")).removeprefix("--port=")
    assert f"--address=ray-head:{gcs_port}" in joined
    dashboard = next(p for p in head if p.startswith("--dashboard-port="))
    worker_env = services["cpu-worker"]["environment"]
    assert interpolate(worker_env["RAY_ADDRESS"], env) == (
        f"http://ray-head:{dashboard.removeprefix('--dashboard-port=')}"
    )
    assert interpolate(worker_env["TRAINING_BACKEND"], env) == "local"
    assert services["ray-worker"]["depends_on"]["ray-head"]["condition"] == "service_healthy"


def test_no_secret_is_written_in_the_file_and_each_is_required() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    services = compose()["services"]
    assert "studio:studio@" not in text
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    read = variables(text)
    for secret in ("POSTGRES_PASSWORD", "DJANGO_SECRET_KEY"):
        assert read[secret] == ":?", f"{secret} must be required (${{{secret}:?message}})"
    url = services["web"]["environment"]["DATABASE_URL"]
    with pytest.raises(MissingVariable, match=r"POSTGRES_PASSWORD: set POSTGRES_PASSWORD in \.env"):
        interpolate(url, {})
    with pytest.raises(MissingVariable):  # set but empty counts as missing with `:?`
        interpolate(url, {"POSTGRES_PASSWORD": ""})
    assert interpolate(url, {"POSTGRES_PASSWORD": "pw"}) == (
        "postgres://studio:pw@postgres:5432/studio"
    )


def test_the_env_example_names_every_variable_the_file_reads() -> None:
    example = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    read = set(variables((ROOT / "docker-compose.yml").read_text()))
    assert read <= named, f"not in .env.example: {sorted(read - named)}"
    assert "COMPOSE_PROFILES" in named
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in (ROOT / ".dockerignore").read_text().splitlines()


def test_every_long_running_service_has_a_healthcheck() -> None:
    services = compose()["services"]
    for name in ("postgres", "redis", "web", "worker", *TRAINING_WORKERS, "ray-head"):
        check = services[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
    assert services["web"]["healthcheck"]["test"][-1].count("/healthz/") == 1
    worker_check = services["worker"]["healthcheck"]["test"]
    assert worker_check[1:4] == ["python", "manage.py", "worker_health"]


def test_training_images_pin_torch_and_the_training_stack() -> None:
    gpu_stage = re.search(
        r"FROM runtime AS train-gpu\n(.*\n)*?RUN pip install torch==2\.13\.0 ", DOCKERFILE
    )
    assert gpu_stage, "the GPU image must pin torch (PyPI's CUDA build)"
    cpu_index = "--index-url https://download.pytorch.org/whl/cpu"
    assert f"pip install torch==2.13.0 {cpu_index}" in DOCKERFILE
    assert DOCKERFILE.count('pip install -c /tmp/train-constraints.txt ".[train]"') == 2
    pins = {}
    for line in (ROOT / "docker" / "train-constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[name] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for text in project["project"]["optional-dependencies"]["train"]:
        requirement = Requirement(text)
        if requirement.name == "torch":
            continue
        assert requirement.name in pins, f"{requirement.name} is not pinned for the images"
        assert requirement.specifier.contains(pins[requirement.name]), (
            f"{requirement.name}=={pins[requirement.name]} does not meet {requirement.specifier}"
        )


def test_commands_it_runs_exist_in_the_project() -> None:
    services = compose()["services"]
    programs = {services[name]["command"][0] for name in APP_SERVICES}
    assert programs <= {"gunicorn", "celery", "sh"}
    for program in ("gunicorn", "celery"):
        assert shutil.which(program, path=str(Path(sys.executable).parent)), program
    web = services["web"]["command"]
    assert web[:2] == ["gunicorn", "config.wsgi"]
    for name in ("worker", *TRAINING_WORKERS, "beat"):
        assert services[name]["command"][:3] == ["celery", "-A", "config"]
    gpu = services["gpu-worker"]["command"]
    assert gpu[gpu.index("--queues") + 1] == "gpu"
    assert gpu[gpu.index("--concurrency") + 1] == gpu[gpu.index("--prefetch-multiplier") + 1] == "1"
    assert services["worker"]["command"][services["worker"]["command"].index("--queues") + 1] == (
        "default"
    )
    for name in ("web", "worker", *TRAINING_WORKERS):
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
    for copied in (
        "config",
        "common",
        "annotation",
        "training",
        "frontend",
        "manage.py",
        "pyproject.toml",
        "docker/train-constraints.txt",
    ):
        assert f"COPY {copied}" in DOCKERFILE
