"""`make run` on embedded defaults: it serves the printed URL, a demo annotator can fetch and
submit a task through the API, the admin sees it, beat and worker run a task over the
filesystem broker, and Ctrl-C stops every process the script started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(url: str, token: str | None = None, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, headers=headers, method="POST" if body is not None else "GET"
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        raw = reply.read()
        return reply.status, json.loads(raw) if raw else None


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_run_serves_the_demo_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "DJANGO_SETTINGS_MODULE")
    }
    env.update(RLHF_VAR_DIR=str(tmp_path / "var"), PORT=str(port), LEASE_SWEEP_INTERVAL_S="1")
    script = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output = _until_running(script)
        base = f"http://127.0.0.1:{port}"
        passwords = json.loads((tmp_path / "var" / "demo-logins.json").read_text())
        # The logins and the URL come last, after the services are up, and no worker's banner
        # pushes them off screen.
        assert output.index("Demo logins") < output.index(f"running at {base}/")
        assert f"annotator1   {passwords['annotator1']}" in output.split("Demo logins")[1]
        assert "celery@" not in output
        assert "[tasks]" not in output

        _, rater = call(
            f"{base}/api/v1/auth/token/",
            body={"username": "annotator1", "password": passwords["annotator1"]},
        )
        status, task = call(f"{base}/api/v1/assignments/next/", rater["token"], body={})
        ranking = [[r["label"]] for r in task["responses"]]
        submitted, result = call(
            f"{base}/api/v1/assignments/{task['id']}/submit/",
            rater["token"],
            body={"ranking": ranking, "idempotency_key": "run-script-1"},
        )
        _, admin = call(
            f"{base}/api/v1/auth/token/", body={"username": "admin", "password": passwords["admin"]}
        )
        _, judgments = call(f"{base}/api/v1/judgments/", admin["token"])

        assert (status, submitted) == (200, 201)
        assert judgments["results"][0]["id"] == result["judgment_id"]
        assert judgments["results"][0]["rater_username"] == "annotator1"
        worker_log = tmp_path / "var" / "log" / "worker.log"
        deadline = time.monotonic() + 60
        while "expire_stale_leases" not in _read(worker_log) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "succeeded" in _read(worker_log)
    finally:
        os.killpg(script.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's group
        # Stops in seconds: a warm shutdown gets 5 s, then what is left is killed.
        script.wait(timeout=20)
    deadline = time.monotonic() + 10
    while group_alive(script.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not group_alive(script.pid), "a process started by run.sh outlived Ctrl-C"


def _until_running(script: subprocess.Popen[str]) -> str:
    """What the script printed up to its last line before it waits for Ctrl-C."""
    assert script.stdout is not None
    lines: list[str] = []
    for line in script.stdout:
        lines.append(line)
        if "Press Ctrl-C to stop." in line:
            break
    return "".join(lines)


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""
