"""What the fault tests start and talk to: a real gunicorn (and redis-server) in subprocesses on
free ports, on the test database pytest-django created, and a plain HTTP client that reports a
dropped connection instead of raising it."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
DROPPED = 0  # the status recorded when the connection broke before a response came


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def session_database_url() -> str:
    """The database pytest-django created for this session (test_<name>), as a URL."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    port = db["PORT"] or 5432
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{port}/{db['NAME']}"


def app_environment(var_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The production settings module on the test database, signing with the test's key (so
    tokens issued here are valid there); nothing of this shell's Django or Redis settings."""
    own = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "RLHF_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": session_database_url(),
        "RLHF_VAR_DIR": str(var_dir),
        **(extra or {}),
    }


@dataclass(frozen=True)
class Reply:
    status: int  # DROPPED when no response arrived
    body: Any


def call(
    url: str,
    *,
    token: str,
    method: str = "GET",
    body: Any = None,
    on_connect: Callable[[int], None] | None = None,
    body_pause: float = 0.0,
) -> Reply:
    """One request on a fresh connection; a broken connection is a Reply, not an exception.
    on_connect learns the client's port once connected, before the request is sent; with
    body_pause, half the body is sent, then the rest that many seconds later (the server's
    worker is surely mid-request meanwhile)."""
    parts = urlsplit(url)
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        connection.connect()
        if on_connect is not None and connection.sock is not None:
            on_connect(connection.sock.getsockname()[1])
        if body_pause and data:
            connection.putrequest(method, parts.path)
            for name, value in {**headers, "Content-Length": str(len(data))}.items():
                connection.putheader(name, value)
            connection.endheaders(data[: len(data) // 2])
            time.sleep(body_pause)
            connection.send(data[len(data) // 2 :])
        else:
            connection.request(method, parts.path, body=data, headers=headers)
        response = connection.getresponse()
        status, raw = response.status, response.read()
    except (OSError, http.client.HTTPException):
        return Reply(DROPPED, None)
    finally:
        connection.close()
    try:
        return Reply(status, json.loads(raw) if raw else None)
    except ValueError:
        return Reply(status, raw.decode(errors="replace"))


def wait_for_port(port: int, *, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), 1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listened on {port}:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """The process this test started, by its pid: TERM, then KILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


@dataclass
class Gunicorn:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    control_dir: Path

    def stop(self) -> None:
        stop(self.process)
        shutil.rmtree(self.control_dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_until_serving(self, workers: int) -> None:
        """Every worker booted and the app answers (an anonymous call: 401)."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            booted = len(self.worker_pids()) >= workers
            if booted and call(f"{self.url}/api/v1/me/", token="-").status == 401:
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not serve:\n{self.log.read_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        """The master's children, from /proc (each line of stat: pid (comm) state ppid ...)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def busy_workers(self, clients: Collection[int] | None = None) -> list[int]:
        """Workers holding an accepted client connection (a sync worker is then mid-request);
        with `clients`, only connections from those client ports."""
        established = {
            inode
            for inode, client in _established(self.port).items()
            if clients is None or client in clients
        }
        busy = []
        for pid in self.worker_pids():
            try:
                links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
            except OSError:
                continue
            if any(link.removeprefix("socket:[").rstrip("]") in established for link in links):
                busy.append(pid)
        return busy


def _established(port: int) -> dict[str, int]:
    """ESTABLISHED (state 01) TCP sockets whose local port is `port`: inode -> remote port."""
    sockets = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                sockets[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    return sockets


def start_gunicorn(
    tmp_path: Path,
    *,
    workers: int = 2,
    env: dict[str, str] | None = None,
    worker_args: tuple[str, ...] = ("--worker-class", "sync"),
) -> Gunicorn:
    """gunicorn with its own control socket (the default path is one per machine), in a short
    folder of its own: a unix socket path must fit in 108 bytes, and tmp_path may not."""
    port = free_port()
    log = tmp_path / f"gunicorn-{port}.log"
    var_dir = tmp_path / "var"
    for folder in ("celery/queue", "celery/processed", "celery/control", "static"):
        (var_dir / folder).mkdir(parents=True, exist_ok=True)
    control_dir = Path(tempfile.mkdtemp(prefix="gunicorn-"))
    with log.open("ab") as output:  # the app's own log lines (tracebacks) land here too
        process = subprocess.Popen(
            [
                *(str(GUNICORN), "config.wsgi", "--bind", f"127.0.0.1:{port}"),
                *("--workers", str(workers), *worker_args, "--timeout", "60"),
                *("--control-socket", str(control_dir / "gunicorn.ctl")),
                *("--log-level", "warning"),
            ],
            cwd=ROOT,
            env=app_environment(var_dir, env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Gunicorn(process=process, port=port, log=log, control_dir=control_dir)
    try:
        wait_for_port(port, process=process, log=log)
        server.wait_until_serving(workers)
    except BaseException:
        server.stop()
        raise
    return server


REDIS_SERVER = Path(os.environ.get("REDIS_SERVER_PATH", "/usr/bin/redis-server"))


def start_redis(port: int, log: Path) -> subprocess.Popen[bytes]:
    """A throwaway redis-server that keeps nothing on disk: once killed, its data is gone."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                *(str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process=process, log=log)
    except BaseException:
        stop(process)
        raise
    return process
