"""A real local Ray head (CPU only) for the Ray backend's tests and benchmark: `ray start
--head --block` in its own process group, with its own ports and temp folder, stopped by
that group's id (never `ray stop`, which would stop any Ray on the machine)."""

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

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RayHead:
    def __init__(self, cpus: int = 2) -> None:
        # Short: Ray's unix sockets live under it, and their paths are limited to 107 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
        self.address = f"http://127.0.0.1:{free_port()}"
        ray = Path(sys.executable).with_name("ray")
        command = [
            *(str(ray), "start", "--head", "--block", f"--num-cpus={cpus}", "--num-gpus=0"),
            *(f"--port={free_port()}", f"--dashboard-port={self.address.rsplit(':', 1)[1]}"),
            *("--dashboard-host=127.0.0.1", "--include-dashboard=true"),
            *(f"--ray-client-server-port={free_port()}", f"--temp-dir={self.folder}"),
            "--disable-usage-stats",
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}
        self.log = self.folder / "head.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def _get(self, path: str) -> object:
        with urllib.request.urlopen(self.address + path, timeout=5) as reply:
            return json.loads(reply.read())

    def wait_ready(self, timeout_s: float = 180.0) -> None:
        """Until the dashboard answers and its job API lists jobs."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ray start exited: {self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError, ValueError):
                self._get("/api/version")
                self._get("/api/jobs/")
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
