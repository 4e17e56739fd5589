"""`make run` on embedded defaults: it serves the printed URL, a demo annotator can fetch and
submit a task through the API, the admin sees it, beat and worker run a task over the
filesystem broker, and Ctrl-C stops every process the script started. And the main job out of
the box: after three demo annotators rank a few tasks, a reward run started as the dashboard
starts it (the embedded SmolLM2 base, the form's defaults) succeeds on `make run`'s own worker."""

from __future__ import annotations

import importlib.util
import json
import os
import re
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


def start_run_script(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    """scripts/run.sh (what `make run` runs) with none of this shell's database, broker or key."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "DJANGO_SETTINGS_MODULE")
    }
    env.update(RLHF_VAR_DIR=str(tmp_path / "var"), PORT=str(port), LEASE_SWEEP_INTERVAL_S="1")
    return subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_run_script(script: subprocess.Popen[str]) -> None:
    os.killpg(script.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's group
    # Stops in seconds: a warm shutdown gets 5 s, then what is left is killed.
    script.wait(timeout=20)
    deadline = time.monotonic() + 10
    while group_alive(script.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not group_alive(script.pid), "a process started by run.sh outlived Ctrl-C"


def test_run_serves_the_demo_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    script = start_run_script(tmp_path, port)
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
        # The worker logs "received" first and "succeeded" when the task is done; on a busy
        # machine the second line comes a while after the first, so wait for it.
        finished = re.compile(r"annotation\.tasks\.expire_stale_leases\[[^\]]+\] succeeded")
        deadline = time.monotonic() + 60
        while not finished.search(_read(worker_log)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert finished.search(_read(worker_log)), _read(worker_log)[-2000:]
    finally:
        stop_run_script(script)


@pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None,
    reason="needs the training extra (make install-train; make run and make test install it)",
)
@pytest.mark.timeout(1200)  # the run's own deadline (900 s) speaks first, not pytest's 300 s
def test_a_reward_run_from_the_dashboard_succeeds_on_make_run(tmp_path: Path) -> None:
    port = free_port()
    started = time.monotonic()
    script = start_run_script(tmp_path, port)
    try:
        _until_running(script)
        up = time.monotonic() - started
        base = f"http://127.0.0.1:{port}"
        passwords = json.loads((tmp_path / "var" / "demo-logins.json").read_text())

        def token(username: str) -> str:
            body = {"username": username, "password": passwords[username]}
            return str(call(f"{base}/api/v1/auth/token/", body=body)[1]["token"])

        # three demo annotators rank the same five tasks alike (the shortest answer first)
        for rater in ("annotator1", "annotator2", "annotator3"):
            key = token(rater)
            for n in range(5):
                _, task = call(f"{base}/api/v1/assignments/next/", key, body={})
                order = sorted(task["responses"], key=lambda r: (len(r["text"]), r["label"]))
                body = {"ranking": [[r["label"]] for r in order], "idempotency_key": f"{rater}{n}"}
                assert call(f"{base}/api/v1/assignments/{task['id']}/submit/", key, body)[0] == 201

        # the dashboard's form: reward model, first offered base, defaults, consensus data
        engineer = token("mlengineer")
        _, options = call(f"{base}/api/v1/training/options/", engineer)
        assert options["workers"], "make run's GPU-queue worker reported no capability"
        form: dict[str, Any] = {
            "kind": "reward",
            "base": options["bases"][0],
            "dataset": {"mode": "consensus"},
            "hyperparameters": options["defaults"]["reward"],
        }
        status, run = call(f"{base}/api/v1/training/runs/", engineer, form)
        assert status == 201, run
        asked = time.monotonic()
        deadline = asked + 900
        while run["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(2)
            run = call(f"{base}/api/v1/training/runs/{run['id']}/", engineer)[1]
        print(
            f"\nmake run: serving after {up:.0f} s; a reward run on the embedded SmolLM2 "
            f"({run['snapshot']['size']} preferences) {run['status']} after "
            f"{time.monotonic() - asked:.0f} s, {run['step']} steps; result {run['result']}"
        )
        assert run["status"] == "succeeded", (run["error"], run["log_tail"][-2000:])
        assert run["produced_versions"], "the run registered no model version"
    finally:
        stop_run_script(script)


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
