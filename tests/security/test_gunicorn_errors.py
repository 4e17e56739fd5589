"""gunicorn's own error answers (a request line over its limit, a malformed request) are the
API's JSON, from the worker classes every way of starting the app uses."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.live import GUNICORN, ROOT, free_port, stop, wait_for_port

WORKERS = "config.gunicorn_workers"
pytestmark = pytest.mark.slow


def raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client library would send these) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split(" ")[1]), headers, body


@pytest.fixture(params=["ThreadWorkerJsonErrors", "SyncWorkerJsonErrors"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[int]:
    """gunicorn with a JSON-error worker class, its own control socket, on a free port."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    (tmp_path / "var" / "static").mkdir(parents=True)
    control = Path(tempfile.mkdtemp(prefix="gunicorn-"))  # a unix socket path fits 108 bytes
    environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "gunicorn-error-test-key-0123456789-0123456789",
        "RLHF_VAR_DIR": str(tmp_path / "var"),
    }
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                *(str(GUNICORN), "config.wsgi", "--bind", f"127.0.0.1:{port}"),
                *("--workers", "1", "--threads", "2"),
                *("--worker-class", f"{WORKERS}.{request.param}"),
                *("--control-socket", str(control / "gunicorn.ctl"), "--log-level", "warning"),
            ],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process=process, log=log)
        yield port
    finally:
        stop(process)
        for leftover in control.iterdir():
            leftover.unlink()
        control.rmdir()


def test_a_request_line_over_the_limit_is_a_json_414(server: int) -> None:
    status, headers, body = raw_exchange(
        server, b"GET /api/v1/campaigns/?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    )

    assert status == 414
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["code"] == "request_line_too_long"


def test_too_many_headers_is_a_json_431(server: int) -> None:
    headers = b"".join(b"X-Filler-%d: 1\r\n" % n for n in range(150))  # gunicorn takes 100

    status, response_headers, body = raw_exchange(
        server, b"GET /api/v1/me/ HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    )

    assert status == 431
    assert response_headers["Content-Type"] == "application/json"
    assert json.loads(body)["code"] == "headers_too_large"


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NOT A REQUEST LINE\r\n\r\n",
        b"GET /api/v1/me/ HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
    ],
)
def test_a_malformed_request_is_a_json_400(server: int, request_bytes: bytes) -> None:
    status, headers, body = raw_exchange(server, request_bytes)

    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "code": "bad_request",
        "detail": "The request line or its headers are malformed.",
    }


@pytest.mark.parametrize(
    "path", ["scripts/run.sh", "scripts/bench_api.sh", "Dockerfile", "docker-compose.yml"]
)
def test_every_way_of_starting_the_web_server_uses_a_json_error_worker(path: str) -> None:
    text = (ROOT / path).read_text()

    classes = re.findall(r"--worker-class\W+([\w.]+)", text)

    assert classes, f"{path} starts gunicorn without naming a worker class"
    assert {name.rsplit(".", 1)[0] for name in classes} == {WORKERS}
