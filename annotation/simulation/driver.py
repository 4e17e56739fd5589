"""Simulated raters taking turns through the rater API: one next + submit each per round, in
process through Django's test Client (the whole URL, middleware and DRF stack, no socket) or
over HTTP to a running server that uses the same database."""

from __future__ import annotations

import http.client
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlparse

from django.conf import settings
from django.test import Client

from annotation.models import JudgmentMode
from annotation.simulation.prompts import QualityKey, concise_quality, quality_key
from annotation.simulation.traits import RaterTraits, ShownResponse, decide, seeded

API = "/api/v1"
NEXT_PATH = f"{API}/assignments/next/"
SUBMIT_PATH = API + "/assignments/{id}/submit/"
PROGRESS_EVERY = 1000
MAX_ERRORS_IN_A_ROW = 5  # then the rater stops: a broken server must not make us spin
HTTP_TIMEOUT_S = 30


# -- transports -----------------------------------------------------------------------------


class Transport(Protocol):
    def post(self, path: str, body: dict[str, Any] | None) -> tuple[int, Any]: ...

    def close(self) -> None: ...


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def in_process_host() -> str:
    """A Host header this server accepts (the test Client's "testserver" may not be)."""
    for host in settings.ALLOWED_HOSTS:
        if host == "*":
            return "localhost"
        return f"sim{host}" if host.startswith(".") else host
    return "localhost"


class InProcessTransport:
    """Through the whole Django stack (URLs, middleware, DRF auth), without a socket."""

    def __init__(self, token: str, host: str) -> None:
        self.client = Client(
            raise_request_exception=False,
            headers={"Authorization": f"Token {token}", "Host": host},
        )

    def post(self, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        response = self.client.post(path, body or {}, content_type="application/json")
        return response.status_code, _json_or_none(response.content)

    def close(self) -> None:
        return None


class HttpTransport:
    """One keep-alive connection to a running server."""

    def __init__(self, base_url: str, token: str) -> None:
        parsed = urlparse(base_url)
        connection = (
            http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
        )
        self.conn = connection(parsed.hostname or "", parsed.port, timeout=HTTP_TIMEOUT_S)
        self.prefix = parsed.path.rstrip("/")
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        payload = json.dumps(body).encode() if body is not None else b""
        try:
            self.conn.request("POST", self.prefix + path, body=payload, headers=self.headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # the next request reconnects
            raise
        return response.status, _json_or_none(data)

    def close(self) -> None:
        self.conn.close()


# -- the simulation loop --------------------------------------------------------------------


@dataclass
class SimulatedRater:
    username: str
    user_id: int
    traits: RaterTraits
    transport: Transport
    rng: random.Random
    submitted: int = 0
    errors_in_a_row: int = 0
    stopped: str = ""  # why it stopped: limit, no_work, paused, errors, other_campaign

    def summary(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "user_id": self.user_id,
            "traits": self.traits.as_dict(),
            "submitted": self.submitted,
            "stopped": self.stopped,
        }


class Simulation:
    """Raters take turns, one next + submit each per round, until each has submitted `limit`
    judgments (None: no limit), got 204 (no work left) or failed MAX_ERRORS_IN_A_ROW times."""

    def __init__(
        self,
        *,
        raters: list[SimulatedRater],
        qualities: dict[QualityKey, float],
        campaign_id: int,
        limit: int | None,
        say: Callable[[str], None],
    ) -> None:
        self.raters = raters
        self.qualities = qualities
        self.campaign_id = campaign_id
        self.limit = limit
        self.say = say
        self.errors: Counter[str] = Counter()
        self.judgments = 0
        self.started = 0.0

    def run(self) -> float:
        """Run to the end; returns the wall time in seconds."""
        self.started = time.perf_counter()
        working = [rater for rater in self.raters if not self._is_done(rater)]
        while working:
            for rater in working:
                self._turn(rater)
            working = [rater for rater in working if not rater.stopped]
        return time.perf_counter() - self.started

    def _is_done(self, rater: SimulatedRater) -> bool:
        if self.limit is not None and rater.submitted >= self.limit:
            rater.stopped = "limit"
        return bool(rater.stopped)

    def _turn(self, rater: SimulatedRater) -> None:
        try:
            self._cycle(rater)
        except (OSError, http.client.HTTPException) as error:
            self._fail(rater, f"connection: {type(error).__name__}", str(error))
        self._is_done(rater)

    def _cycle(self, rater: SimulatedRater) -> None:
        status, assignment = rater.transport.post(NEXT_PATH, None)
        if status == 204:
            rater.stopped = "no_work"
            return
        if status != 200 or not isinstance(assignment, dict):
            self._fail(rater, f"next: HTTP {status}", assignment)
            return
        if assignment["campaign"]["id"] != self.campaign_id:
            # Never judge another campaign's task; the lease simply expires.
            self._fail(rater, "next: a task of another campaign", assignment["campaign"])
            rater.stopped = "other_campaign"
            return
        status, answer = self._submit(rater, assignment)
        if status in (200, 201):  # 200: a retry found the first try stored
            rater.submitted += 1
            rater.errors_in_a_row = 0
            self._count_judgment()
        else:
            self._fail(rater, f"submit: HTTP {status}", answer)

    def _submit(self, rater: SimulatedRater, assignment: dict[str, Any]) -> tuple[int, Any]:
        decision = decide(
            rater.traits,
            self._shown(assignment),
            pairwise=assignment["campaign"]["judgment_mode"] == JudgmentMode.PAIRWISE,
            prompt_words=sum(len(m["content"].split()) for m in assignment["conversation"]),
            rng=rater.rng,
        )
        body: dict[str, Any] = {
            "ranking": decision.ranking,
            "idempotency_key": f"sim-{uuid.uuid4().hex}",
            "client_time_ms": decision.client_time_ms,
        }
        if decision.strength:
            body["strength"] = decision.strength
        path = SUBMIT_PATH.format(id=assignment["id"])
        try:
            return rater.transport.post(path, body)
        except (OSError, http.client.HTTPException):
            # The first try may have been stored: the same key makes the retry safe.
            return rater.transport.post(path, body)

    def _shown(self, assignment: dict[str, Any]) -> list[ShownResponse]:
        conversation = assignment["conversation"]
        return [
            ShownResponse(
                response["label"],
                response["text"],
                self.qualities.get(
                    quality_key(conversation, response["text"]), concise_quality(response["text"])
                ),
            )
            for response in assignment["responses"]
        ]

    def _count_judgment(self) -> None:
        self.judgments += 1
        if self.judgments % PROGRESS_EVERY == 0:
            elapsed = time.perf_counter() - self.started
            self.say(f"{self.judgments} judgments, {self.judgments / elapsed:.0f}/s")

    def _fail(self, rater: SimulatedRater, kind: str, answer: Any) -> None:
        code = answer.get("code", "") if isinstance(answer, dict) else ""
        kind = f"{kind} {code}".rstrip()
        if kind not in self.errors:
            detail = answer.get("detail", answer) if isinstance(answer, dict) else answer
            self.say(f"{rater.username}: {kind}: {detail}")
        self.errors[kind] += 1
        rater.errors_in_a_row += 1
        if code == "rater_paused":  # e.g. by a campaign's gold pause rule: a result, not noise
            rater.stopped = "paused"
        elif rater.errors_in_a_row >= MAX_ERRORS_IN_A_ROW:
            rater.stopped = rater.stopped or "errors"
            self.say(f"{rater.username}: stopped after {MAX_ERRORS_IN_A_ROW} errors in a row")


def simulated_raters(
    *, raters: list[tuple[Any, str]], traits: list[RaterTraits], base_url: str | None, seed: int
) -> list[SimulatedRater]:
    """One SimulatedRater per (user, token key) pair, over HTTP when `base_url` is given."""
    host = in_process_host()
    return [
        SimulatedRater(
            username=user.username,
            user_id=user.pk,
            traits=rater_traits,
            transport=(
                HttpTransport(base_url, token) if base_url else InProcessTransport(token, host)
            ),
            rng=seeded(seed, user.username),
        )
        for (user, token), rater_traits in zip(raters, traits, strict=True)
    ]


def run_summary(
    *, campaign_id: int, campaign_name: str, simulation: Simulation, wall_s: float
) -> dict[str, Any]:
    """The run's summary JSON, with every rater's traits, so a check can compare the raters
    the bias report flags with the ones injected."""
    return {
        "campaign_id": campaign_id,
        "campaign": campaign_name,
        "raters": [rater.summary() for rater in simulation.raters],
        "judgments": simulation.judgments,
        "wall_s": round(wall_s, 3),
        "judgments_per_s": round(simulation.judgments / wall_s, 1) if wall_s else None,
        "errors": dict(simulation.errors.most_common()),
    }
