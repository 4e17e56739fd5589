"""A real local Ray head (CPU only) for the Ray backend's tests and benchmark, started with
docker-compose.yml's own `ray-head` command (its ports given free ones through the variables
the file reads) and judged ready by that service's healthcheck, run as written. It runs in
its own process group with its own temp folder and is stopped by that group's id (never `ray
stop`, which would stop any Ray on the machine)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.compose_file import ROOT, compose, interpolate

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RayHead:
    def __init__(self, cpus: int = 2) -> None:
        # Short: Ray's unix sockets live under it, and their paths are limited to 107 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
        dashboard = free_port()
        self.address = f"http://127.0.0.1:{dashboard}"
        given = {
            "RAY_GCS_PORT": str(free_port()),
            "RAY_DASHBOARD_PORT": str(dashboard),
            "RAY_HEAD_CPUS": str(cpus),
        }
        service = compose()["services"]["ray-head"]
        self.command = [interpolate(part, given) for part in service["command"]]
        self.healthcheck = [interpolate(part, given) for part in service["healthcheck"]["test"]]
        env = {
            **os.environ,
            "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",  # the image's ray, python
            "PYTHONPATH": str(ROOT),
            "RAY_TMPDIR": str(self.folder),
        }
        self.log = self.folder / "head.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.env = env

    def _get(self, path: str) -> object:
        with urllib.request.urlopen(self.address + path, timeout=5) as reply:
            return json.loads(reply.read())

    def healthy(self) -> bool:
        """compose's healthcheck for the service, exactly as written (CMD form)."""
        assert self.healthcheck[0] == "CMD"
        check = subprocess.run(self.healthcheck[1:], env=self.env, capture_output=True, check=False)
        return check.returncode == 0

    def wait_ready(self, timeout_s: float = 180.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ray start exited: {self.log.read_text()[-3000:]}")
            if self.healthy():
                return
            time.sleep(0.5)
        raise RuntimeError(f"the Ray head did not come up: {self.log.read_text()[-3000:]}")

    def jobs(self) -> list[dict[str, object]]:
        rows = self._get("/api/jobs/")
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    def stop(self) -> None:
        for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):  # Ray's own processes in the group
            os.killpg(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.folder, ignore_errors=True)


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(entry.name))
    return found
