"""Load generator for the rater API: simulated raters doing next -> submit cycles over HTTP,
then an invariant check straight on the database.

    python -m tests.benchmarks.bench_api --url http://127.0.0.1:8000 \
        --raters-file var/bench/raters.json --seconds 60

Each rater is one thread with one keep-alive http.client connection (stdlib only, so the
client eats little CPU next to the server). About 1 % of stored submits are replayed with
the same idempotency key; the replay must answer 200, replayed=true, the same judgment.
The last line printed is one JSON object with the headline figures. Exit status 1 when an
invariant (lost, duplicated, over-assigned) is broken. scripts/bench_api.sh sets it all up.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg

NEXT_PATH = "/api/v1/assignments/next/"
REPLAY_RATE = 0.01
NO_WORK_PAUSE_S = 0.05
WARMUP_CALLS = 3


@dataclass
class RaterLog:
    """What one simulated rater saw; merged after the run, so no locking while it runs."""

    next_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    replay_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    # idempotency key -> judgment id, for every submit answered 201
    stored: dict[str, int] = field(default_factory=dict)
    replayed: list[str] = field(default_factory=list)
    cycles: int = 0
    no_work: int = 0


class SimulatedRater(threading.Thread):
    def __init__(
        self, url: str, token: str, seed: int, start: threading.Barrier, deadline: list[float]
    ) -> None:
        super().__init__(daemon=True)
        parsed = urlparse(url)
        self.conn = http.client.HTTPConnection(
            parsed.hostname or "127.0.0.1", parsed.port or 80, timeout=30
        )
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.rng = random.Random(seed)
        self.start_line = start
        self.deadline = deadline
        self.log = RaterLog()

    def post(self, path: str, body: dict[str, Any] | None) -> tuple[int, bytes, float]:
        payload = json.dumps(body).encode() if body is not None else b""
        started = time.perf_counter()
        self.conn.request("POST", path, body=payload, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, data, (time.perf_counter() - started) * 1000

    def warm_up(self) -> None:
        """Open the connection and let every worker load its code before the clock starts."""
        try:
            for _ in range(WARMUP_CALLS):
                self.conn.request("GET", "/api/v1/me/", headers=self.headers)
                self.conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            self.conn.close()

    def run(self) -> None:
        self.warm_up()
        self.start_line.wait()
        while time.perf_counter() < self.deadline[0]:
            try:
                self.cycle()
            except (OSError, http.client.HTTPException, ValueError) as error:
                self.log.errors[f"exception: {type(error).__name__}"] += 1
                self.conn.close()
        self.conn.close()

    def error(self, call: str, status: int, body: bytes) -> None:
        try:
            code = json.loads(body).get("code", "")
        except (ValueError, AttributeError):
            code = ""
        self.log.errors[f"{call}: HTTP {status} {code}".rstrip()] += 1

    def cycle(self) -> None:
        status, body, ms = self.post(NEXT_PATH, None)
        self.log.next_ms.append(ms)
        if status == 204:
            self.log.no_work += 1
            time.sleep(NO_WORK_PAUSE_S)
            return
        if status != 200:
            self.error("next", status, body)
            return
        assignment = json.loads(body)
        labels = [response["label"] for response in assignment["responses"]]
        self.rng.shuffle(labels)
        submission = {
            "ranking": [[label] for label in labels],
            "idempotency_key": f"bench-{uuid.uuid4().hex}",
        }
        self.submit(assignment["id"], submission)

    def submit(self, assignment_id: int, submission: dict[str, Any]) -> None:
        path = f"/api/v1/assignments/{assignment_id}/submit/"
        status, body, ms = self.post(path, submission)
        self.log.submit_ms.append(ms)
        if status != 201:
            self.error("submit", status, body)
            return
        judgment_id = json.loads(body)["judgment_id"]
        self.log.stored[submission["idempotency_key"]] = judgment_id
        self.log.cycles += 1
        if self.rng.random() < REPLAY_RATE:
            self.replay(path, submission, judgment_id)

    def replay(self, path: str, submission: dict[str, Any], judgment_id: int) -> None:
        status, body, ms = self.post(path, submission)
        self.log.replay_ms.append(ms)
        if status != 200:
            self.error("replay", status, body)
            return
        answer = json.loads(body)
        if answer.get("replayed") is not True or answer.get("judgment_id") != judgment_id:
            self.log.errors["replay: not the first result"] += 1
            return
        self.log.replayed.append(submission["idempotency_key"])


@dataclass(frozen=True)
class RunResult:
    seconds: float
    client_cpu_s: float
    log: RaterLog


def merge(logs: list[RaterLog]) -> RaterLog:
    total = RaterLog()
    for log in logs:
        total.next_ms += log.next_ms
        total.submit_ms += log.submit_ms
        total.replay_ms += log.replay_ms
        total.errors.update(log.errors)
        total.stored.update(log.stored)
        total.replayed += log.replayed
        total.cycles += log.cycles
        total.no_work += log.no_work
    return total


def run_load(url: str, tokens: list[str], seconds: float) -> RunResult:
    """Start every rater together and stop them after `seconds` (in-flight cycles finish)."""
    deadline = [math.inf]
    barrier = threading.Barrier(len(tokens) + 1)
    raters = [SimulatedRater(url, token, n, barrier, deadline) for n, token in enumerate(tokens)]
    for rater in raters:
        rater.start()
    barrier.wait()
    cpu_before = time.process_time()
    started = time.perf_counter()
    # The raters loop until this is set, a few microseconds after the barrier opens.
    deadline[0] = started + seconds
    for rater in raters:
        rater.join()
    elapsed = time.perf_counter() - started
    return RunResult(elapsed, time.process_time() - cpu_before, merge([r.log for r in raters]))


# -- invariant check ------------------------------------------------------------------------

DUPLICATE_PAIRS_SQL = """
SELECT count(*) FROM (SELECT 1 FROM annotation_judgment
                      GROUP BY task_id, rater_id HAVING count(*) > 1) AS d"""
DUPLICATE_KEYS_SQL = """
SELECT count(*) FROM (SELECT 1 FROM annotation_judgment
                      GROUP BY idempotency_key HAVING count(*) > 1) AS d"""
OVER_ASSIGNED_SQL = """
WITH submitted AS (SELECT task_id, count(*) AS n FROM annotation_judgment
                   WHERE NOT is_surplus GROUP BY task_id),
     live AS (SELECT task_id, count(*) AS n FROM annotation_assignment
              WHERE status = 'leased' AND expires_at > now() GROUP BY task_id)
SELECT count(*) FILTER (WHERE coalesce(s.n, 0) > t.required_judgments
                           OR coalesce(s.n, 0) + coalesce(l.n, 0) > t.required_judgments),
       count(*) FILTER (WHERE coalesce(s.n, 0) <> t.submitted_count)
FROM annotation_rankingtask AS t
LEFT JOIN submitted AS s ON s.task_id = t.id
LEFT JOIN live AS l ON l.task_id = t.id"""
JUDGMENTS_SQL = """
SELECT j.idempotency_key, j.id, count(p.id), j.is_surplus
FROM annotation_judgment AS j LEFT JOIN annotation_preference AS p ON p.judgment_id = j.id
GROUP BY j.id"""


@dataclass(frozen=True)
class Invariants:
    lost: int
    duplicated: int
    over_assigned: int
    counter_drift: int
    unacknowledged: int
    surplus: int
    bad_preference_sets: int


def check_invariants(database_url: str, log: RaterLog, pairs_per_judgment: int) -> Invariants:
    """Compare what the clients were told with what the database holds."""
    with psycopg.connect(database_url) as conn:
        duplicated = sum(
            conn.execute(sql).fetchone()[0]  # type: ignore[index]
            for sql in (DUPLICATE_PAIRS_SQL, DUPLICATE_KEYS_SQL)
        )
        over, drift = conn.execute(OVER_ASSIGNED_SQL).fetchone()  # type: ignore[misc]
        rows = conn.execute(JUDGMENTS_SQL).fetchall()
    in_db = {key: judgment_id for key, judgment_id, _, _ in rows}
    lost = sum(1 for key, judgment_id in log.stored.items() if in_db.get(key) != judgment_id)
    return Invariants(
        lost=lost,
        duplicated=duplicated,
        over_assigned=over,
        counter_drift=drift,
        unacknowledged=sum(1 for key in in_db if key not in log.stored),
        surplus=sum(1 for *_, is_surplus in rows if is_surplus),
        bad_preference_sets=sum(1 for _, _, pairs, _ in rows if pairs != pairs_per_judgment),
    )


# -- report ---------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; NaN when there is nothing to rank."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def p99_ms(values: list[float]) -> float | None:
    """For the JSON line, which must stay valid JSON (no NaN) when a call never answered."""
    return round(percentile(values, 99), 1) if values else None


def latency_row(name: str, values: list[float]) -> str:
    figures = [percentile(values, pct) for pct in (50, 95, 99)] + [max(values, default=math.nan)]
    return f"  {name:<8}{len(values):>9}" + "".join(f"{value:>10.1f}" for value in figures)


def print_report(result: RunResult, checks: Invariants, raters: int) -> dict[str, Any]:
    log = result.log
    rate = log.cycles / result.seconds
    errors = sum(log.errors.values())
    print(f"\nRater API benchmark: {raters} raters, {result.seconds:.1f} s")
    print(f"  cycles        {log.cycles:>9}   ({rate:.1f} cycles/s)")
    print(
        f"  client CPU    {result.client_cpu_s:>9.1f} s ({result.client_cpu_s / result.seconds:.0%}"
        " of one core)"
    )
    print(f"\n  {'call':<8}{'count':>9}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, values in (
        ("next", log.next_ms),
        ("submit", log.submit_ms),
        ("replay", log.replay_ms),
    ):
        print(latency_row(name, values))
    print(f"\n  errors        {errors:>9}")
    for kind, count in log.errors.most_common():
        print(f"    {kind:<40}{count:>7}")
    print(f"  no work (204) {log.no_work:>9}")
    print(f"  replays ok    {len(log.replayed):>9}")
    print("\n  invariants (must be 0)")
    for name in ("lost", "duplicated", "over_assigned", "counter_drift", "bad_preference_sets"):
        print(f"    {name:<22}{getattr(checks, name):>7}")
    print(
        f"  for information: {checks.unacknowledged} judgments stored without a 201 seen, "
        f"{checks.surplus} surplus\n"
    )
    return {
        "cycles_per_s": round(rate, 1),
        "next_p99_ms": p99_ms(log.next_ms),
        "submit_p99_ms": p99_ms(log.submit_ms),
        "errors": errors,
        "lost": checks.lost,
        "duplicated": checks.duplicated,
        "over_assigned": checks.over_assigned,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="base URL of the running server")
    parser.add_argument("--raters-file", type=Path, required=True)
    parser.add_argument("--raters", type=int, default=40, help="concurrent simulated raters")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--responses-per-task", type=int, default=4)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args()
    tokens = [rater["token"] for rater in json.loads(args.raters_file.read_text())]
    if len(tokens) < args.raters:
        parser.error(f"{args.raters_file} has only {len(tokens)} raters")
    result = run_load(args.url, tokens[: args.raters], args.seconds)
    k = args.responses_per_task
    checks = check_invariants(args.database_url, result.log, k * (k - 1) // 2)
    summary = print_report(result, checks, args.raters)
    print(json.dumps(summary))
    broken = (
        checks.lost
        + checks.duplicated
        + checks.over_assigned
        + checks.counter_drift
        + checks.bad_preference_sets
    )
    raise SystemExit(1 if broken else 0)


if __name__ == "__main__":
    main()
