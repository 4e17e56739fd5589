"""Exactly one beat: a second `celery beat` finds the lock taken and exits with a message,
on Redis (a key with a TTL) and on the filesystem broker (a file lock); a beat that stopped
cleanly lets the next one start at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from config.beat_guard import LOCK_KEY

ROOT = Path(__file__).resolve().parents[2]
REFUSAL = "Another celery beat holds the beat lock"
pytestmark = pytest.mark.slow

Start = Callable[[dict[str, str], str], subprocess.Popen[str]]


@pytest.fixture
def start_beat(tmp_path: Path) -> Iterator[Start]:
    started: list[subprocess.Popen[str]] = []

    def start(env: dict[str, str], name: str) -> subprocess.Popen[str]:
        beat = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"),
                *("--schedule", str(tmp_path / f"{name}-schedule")),
                *("--pidfile", str(tmp_path / f"{name}.pid")),  # not celery's own guard
            ],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "config.settings_test"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(beat)
        return beat

    yield start
    for beat in started:
        if beat.poll() is None:
            beat.terminate()
            beat.communicate(timeout=30)


def wait_until(check: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def assert_refused(beat: subprocess.Popen[str]) -> None:
    output, _ = beat.communicate(timeout=60)
    assert beat.returncode != 0, output
    assert REFUSAL in output


def filesystem_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    for folder in ("queue", "processed"):
        (var / "celery" / folder).mkdir(parents=True, exist_ok=True)
    return {**env, "RLHF_VAR_DIR": str(var)}


def test_a_second_beat_on_the_filesystem_broker_refuses_to_start(
    start_beat: Start, tmp_path: Path
) -> None:
    env = filesystem_env(tmp_path / "var")
    first = start_beat(env, "first")
    lock = tmp_path / "var" / "celery" / "beat.lock"
    assert wait_until(lambda: lock.is_file() and lock.read_text() != "")

    second = start_beat(env, "second")

    assert_refused(second)
    assert first.poll() is None
    assert lock.read_text().endswith(f":{first.pid}")


@pytest.mark.redis
def test_a_second_beat_on_redis_refuses_and_a_clean_stop_frees_the_lock(
    start_beat: Start,
) -> None:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete(LOCK_KEY)
    env = dict(os.environ)
    first = start_beat(env, "first")
    assert wait_until(lambda: client.get(LOCK_KEY) is not None)
    assert client.get(LOCK_KEY).decode().endswith(f":{first.pid}")  # type: ignore[union-attr]
    assert 0 < client.ttl(LOCK_KEY) <= 60

    second = start_beat(env, "second")
    assert_refused(second)
    assert first.poll() is None

    first.terminate()
    first.communicate(timeout=30)
    assert client.get(LOCK_KEY) is None
    third = start_beat(env, "third")
    assert wait_until(lambda: client.get(LOCK_KEY) is not None)
    assert client.get(LOCK_KEY).decode().endswith(f":{third.pid}")  # type: ignore[union-attr]
