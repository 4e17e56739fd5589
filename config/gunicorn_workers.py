"""gunicorn workers whose own error answers are the API's JSON, not gunicorn's HTML page.

gunicorn answers some requests before Django sees them: a request line over
--limit-request-line (414), a malformed request line or header (400), too many or too large
headers (431). Its page for these is HTML; a client of the API gets {"code", "detail"} like
every other error. Use with `--worker-class config.gunicorn_workers.ThreadWorkerJsonErrors`
(with --threads) or `config.gunicorn_workers.SyncWorkerJsonErrors`. (Neither name ends in
"SyncWorker": gunicorn swaps a class so named for its plain gthread worker under --threads.)

gunicorn decides which status an error gets; these workers only change how it is written:
they let gunicorn write its page into a stand-in socket, read the status line back and send
the JSON instead. Nothing here imports Django: the master process loads this module.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

# Fixed texts: gunicorn's own message quotes the offending request bytes back.
ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request line or its headers are malformed."),
    403: ("forbidden", "The request was refused."),
    414: ("request_line_too_long", "The request line (method, path and query) is too long."),
    417: ("expectation_failed", "The Expect header cannot be met."),
    431: ("headers_too_large", "The request has too many headers, or one is too large."),
    501: ("not_implemented", "The request's transfer coding is not supported."),
}
SERVER_ERROR = ("server_error", "Something went wrong on our side; it was logged.")


class _CapturedSocket:
    """Stands in for the client socket while gunicorn writes its error page, keeping the bytes;
    everything else (address, family, options) is the real socket's."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.written = bytearray()

    def sendall(self, data: bytes) -> None:
        self.written += data

    def send(self, data: bytes) -> int:
        self.written += data
        return len(data)

    def gettimeout(self) -> float:
        return 0.0  # already "non-blocking": gunicorn's writer leaves the real socket alone

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def json_error_response(written: bytes) -> bytes:
    """The HTTP response to send instead of gunicorn's page, whose bytes are `written`."""
    status_line = bytes(written).split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 500
    reason = parts[2] if len(parts) > 2 else "Internal Server Error"
    code, detail = ERRORS.get(status, SERVER_ERROR)
    body = json.dumps({"code": code, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonErrorsMixin:
    """handle_error as gunicorn's, answering JSON."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        captured = _CapturedSocket(client)
        super().handle_error(req, captured, addr, exc)  # type: ignore[misc]
        if not captured.written:
            return
        # A client already gone cannot be answered; gunicorn ignores that case too.
        with contextlib.suppress(Exception):
            util.write_nonblock(client, json_error_response(captured.written))


class SyncWorkerJsonErrors(JsonErrorsMixin, SyncWorker):
    pass


class ThreadWorkerJsonErrors(JsonErrorsMixin, ThreadWorker):
    pass
