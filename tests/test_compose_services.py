"""The commands docker-compose.yml runs, started on this machine with the environment compose
gives them (its host names `postgres` and `redis` pointed at this machine's servers), and each
service's healthcheck run exactly as written: healthy while the service works, unhealthy when
it does not (a database that is gone, a worker that stopped, a training worker without torch)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.utils import timezone

from tests.compose_file import ROOT, compose, service_environment
from tests.faults.live import free_port, session_database_url, stop, wait_for_port
from training.models import RunStatus, TrainingRun, TrainingWorker

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

BIN = Path(sys.executable).parent
# A Redis database of its own: the workers started here answer pings nobody else sends.
REDIS_DB = 12


def own_redis_url() -> str:
    parts = urlsplit(os.environ["REDIS_URL"])
    return urlunsplit(parts._replace(path=f"/{REDIS_DB}"))


def compose_env(service: str, var_dir: Path, **changes: str) -> dict[str, str]:
    """What compose gives `service` (with .env's two secrets set), on this machine's servers."""
    given = service_environment(
        service, {"POSTGRES_PASSWORD": "unused-here", "DJANGO_SECRET_KEY": settings.SECRET_KEY}
    )
    assert given["DATABASE_URL"].startswith("postgres://studio:unused-here@postgres:5432/")
    assert given["REDIS_URL"] == "redis://redis:6379/0"
    assert given["DJANGO_ALLOWED_HOSTS"] == "localhost,127.0.0.1"
    (var_dir / "artifacts").mkdir(parents=True, exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RLHF_"))}
    return {
        **keep,
        **given,
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": session_database_url(),
        "REDIS_URL": own_redis_url(),
        "RLHF_VAR_DIR": str(var_dir),  # the Dockerfile's /app/var
        "RLHF_ARTIFACTS_DIR": str(var_dir / "artifacts"),
        **changes,
    }


def healthcheck(
    service: str, env: dict[str, str], **replace: str
) -> subprocess.CompletedProcess[str]:
    """The service's healthcheck test, as the engine runs it inside the container."""
    test = compose()["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    command = [str(BIN / "python") if part == "python" else part for part in test[1:]]
    for old, new in replace.items():
        command = [part.replace(old, new) for part in command]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def healthy_within(
    service: str, env: dict[str, str], seconds: float
) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + seconds
    while True:
        result = healthcheck(service, env)
        if result.returncode == 0 or time.monotonic() > deadline:
            return result
        time.sleep(1)


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """A Celery worker and the pool processes it forked: all of them, and only them."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    for folder in ("celery/queue", "celery/processed", "celery/control", "static"):
        (tmp_path / "var" / folder).mkdir(parents=True, exist_ok=True)
    return tmp_path / "var"


def web_command(port: int, control: Path) -> list[str]:
    command = list(compose()["services"]["web"]["command"])
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    return [str(BIN / command[0]), *command[1:], "--control-socket", str(control / "g.ctl")]


@pytest.fixture
def web(transactional_db: None, var_dir: Path) -> Iterator[tuple[int, dict[str, str]]]:
    port = free_port()
    env = compose_env("web", var_dir)
    control = Path(tempfile.mkdtemp(prefix="gunicorn-"))
    log = var_dir / "web.log"
    process = start(web_command(port, control), env, log)
    try:
        wait_for_port(port, process=process, log=log)
        yield port, env
    finally:
        stop(process)


def test_web_is_healthy_while_its_database_answers(web: tuple[int, dict[str, str]]) -> None:
    port, env = web
    result = healthcheck("web", env, **{"8000": str(port)})
    assert result.returncode == 0, result.stderr


def test_web_is_unhealthy_without_its_database(
    transactional_db: None, var_dir: Path, tmp_path: Path
) -> None:
    closed = free_port()  # nothing listens there
    env = compose_env("web", var_dir, DATABASE_URL=f"postgres://studio:x@127.0.0.1:{closed}/studio")
    port, control, log = free_port(), Path(tempfile.mkdtemp(prefix="gunicorn-")), tmp_path / "w.log"
    process = start(web_command(port, control), env, log)
    try:
        wait_for_port(port, process=process, log=log)
        result = healthcheck("web", env, **{"8000": str(port)})
        assert result.returncode != 0
        assert "503" in result.stderr
    finally:
        stop(process)


def worker_command(service: str) -> list[str]:
    command = compose()["services"][service]["command"]
    return [str(BIN / command[0]), *command[1:]]


def test_the_default_worker_is_healthy_while_it_runs_and_not_after(
    transactional_db: None, var_dir: Path
) -> None:
    env = compose_env("worker", var_dir)
    process = start(worker_command("worker"), env, var_dir / "worker.log")
    try:
        result = healthy_within("worker", env, 90)
        assert result.returncode == 0, (result.stderr, (var_dir / "worker.log").read_text()[-3000:])
        assert "answers" in result.stdout
    finally:
        stop_group(process)
    result = healthcheck("worker", env)
    assert result.returncode == 1
    assert "does not answer and runs nothing" in result.stderr


def test_a_worker_too_busy_to_answer_is_healthy_while_its_run_beats(
    transactional_db: None, var_dir: Path
) -> None:
    env = compose_env("worker", var_dir)
    run = TrainingRun.objects.create(
        kind="reward",
        status=RunStatus.RUNNING,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        heartbeat_at=timezone.now(),
    )
    result = healthcheck("worker", env)
    assert result.returncode == 0, result.stderr
    assert f"busy with run {run.pk}" in result.stdout
    TrainingRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.TRAINING_HEARTBEAT_STALE_S + 5)
    )
    assert healthcheck("worker", env).returncode == 1


@pytest.mark.parametrize("service", ["gpu-worker", "cpu-worker"])
def test_a_training_worker_is_healthy_only_when_its_python_can_train(
    transactional_db: None, var_dir: Path, service: str
) -> None:
    node = f"celery@{socket.gethostname()}"
    env = compose_env(service, var_dir)
    process = start(worker_command(service), env, var_dir / "gpu.log")
    try:
        result = healthy_within(service, env, 120)
        assert result.returncode == 0, (result.stderr, (var_dir / "gpu.log").read_text()[-3000:])
    finally:
        stop_group(process)
    assert TrainingWorker.objects.get(hostname=node).missing == []
    # The same worker whose pipeline Python has no torch (like the web image's).
    bare = var_dir.parent / "bare-venv"
    venv.create(bare, with_pip=False)
    no_torch = compose_env(service, var_dir, TRAINING_PIPELINE_PYTHON=str(bare / "bin" / "python"))
    process = start(worker_command(service), no_torch, var_dir / "gpu2.log")
    try:
        deadline = time.monotonic() + 90
        while "torch" not in TrainingWorker.objects.get(hostname=node).missing:
            assert time.monotonic() < deadline, (var_dir / "gpu2.log").read_text()[-3000:]
            time.sleep(1)
        result = healthcheck(service, no_torch)
        assert result.returncode == 1
        assert "cannot train: its Python lacks torch" in result.stderr
    finally:
        stop_group(process)
