"""The API fuzzed from its own OpenAPI schema (schemathesis), anonymously and as each role:
every operation, with data that fits the schema and data that does not, a fixed seed and a
bounded number of examples. No answer is a 5xx, every answer is a status the schema documents,
and every body matches the schema of its status.

Requests go to the WSGI app in this process, on the test database. Each example runs in a
savepoint rolled back afterwards, so every example meets the same seeded rows (the path ids
below are drawn from them) and nothing is ever committed: no Celery message is sent (runs are
queued after commit), so nothing tries to train.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.db.models import Max, Model
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err, Ok
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks

from annotation.models import (
    ApiToken,
    Assignment,
    AuditEvent,
    Campaign,
    Judgment,
    RankingTask,
    RaterPool,
)
from annotation.services.tokens import issue_token
from common.roles import Role
from tests.factories import make_user, setup_campaign
from training.models import ModelVersion, TrainingRun, TrainingSchedule

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

# Examples per operation and role: enough to reach every field's edge values within the
# suite's time budget: about 1,650 requests and 45 s per role on Postgres, 2 cores.
POSITIVE_EXAMPLES = 18
NEGATIVE_EXAMPLES = 12
ROLES = [None, Role.ANNOTATOR, Role.ADMIN, Role.ML_ENGINEER]
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]
# The model behind each `{id}` in a path, by the path segment before it.
ID_SOURCES: dict[str, type[Model]] = {
    "assignments": Assignment,
    "audit-events": AuditEvent,
    "campaigns": Campaign,
    "judgments": Judgment,
    "pools": RaterPool,
    "raters": User,
    "runs": TrainingRun,
    "schedules": TrainingSchedule,
    "tasks": RankingTask,
    "tokens": ApiToken,
    "versions": ModelVersion,
}


@dataclass
class Tally:
    examples: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    # (operation, what failed) -> how often, and the first example's reproduction
    failures: Counter[str] = field(default_factory=Counter)
    first_seen: dict[str, str] = field(default_factory=dict)

    def fail(self, key: str, example: str) -> None:
        self.failures[key] += 1
        self.first_seen.setdefault(key, example)

    def report(self) -> str:
        return "\n".join(
            f"{count}x {key}\n    e.g. {self.first_seen[key]}"
            for key, count in self.failures.most_common()
        )


def seed_rows(caller: User | None) -> None:
    """A campaign with tasks in a pool (the caller in it), a claimed and a judged task, a
    model version, a run and a schedule: rows for the generated path ids to find."""
    raters = [make_user(), make_user()]
    members = raters + ([caller] if caller is not None else [])
    campaign, _ = setup_campaign(members, tasks=4, overlap=2, responses_per_task=2)
    judge = APIClient()
    judge.force_authenticate(user=raters[0])
    claimed = judge.post("/api/v1/assignments/next/").json()
    submitted = judge.post(
        f"/api/v1/assignments/{claimed['id']}/submit/",
        {"ranking": [["A"], ["B"]], "idempotency_key": "seed-judgment-1"},
        format="json",
    )
    assert submitted.status_code == 201, submitted.content
    if caller is not None:
        own = APIClient()
        own.force_authenticate(user=caller)
        own.post("/api/v1/assignments/next/")
    reward = ModelVersion.objects.create(
        name="reward-seed", kind="reward", base="smollm2", artifact_path="/nowhere/reward-seed"
    )
    TrainingRun.objects.create(kind="reward", campaign=campaign, base="smollm2")
    TrainingRun.objects.create(kind="ppo", reward_version=reward, base="smollm2")
    TrainingSchedule.objects.create(campaign=campaign, every_n_judgments=100)


def openapi_document() -> dict[str, Any]:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


def pin_path_ids(document: dict[str, Any]) -> None:
    """Each `{id}` takes the ids of seeded rows or one that does not exist (data that fits);
    anything else is left to the negative examples."""
    for path, operations in document["paths"].items():
        segments = path.strip("/").split("/")
        if "{id}" not in segments:
            continue
        model = ID_SOURCES.get(segments[segments.index("{id}") - 1])
        if model is None:
            continue
        rows = model._default_manager
        ids = sorted(rows.values_list("pk", flat=True))
        missing = (rows.aggregate(top=Max("pk"))["top"] or 0) + 1000
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "id":
                    parameter["schema"] = {"type": "integer", "enum": [*ids, missing]}


def loaded(result: Ok[Any] | Err[Any]) -> Any:
    assert isinstance(result, Ok), f"an operation of the schema does not load: {result.err()}"
    return result.ok()


def exercise(operation: Any, mode: GenerationMode, headers: dict[str, str], tally: Tally) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    examples = POSITIVE_EXAMPLES if mode is GenerationMode.POSITIVE else NEGATIVE_EXAMPLES

    @hypothesis.settings(
        max_examples=examples,
        derandomize=True,  # the fixed seed: the same examples on every run
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        savepoint = transaction.savepoint()
        try:
            try:
                response = case.call(headers=headers)
            except Exception as error:  # raised through WSGI: a client would see a 500
                tally.examples[label] += 1
                tally.statuses[500] += 1
                tally.fail(f"{label}: raised {type(error).__name__}", case.as_curl_command())
                return
            tally.examples[label] += 1
            tally.statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as group:
                for failure in group.exceptions:
                    first_line = (failure.message.strip().splitlines() or [""])[0][:200]
                    tally.fail(
                        f"{label}: {failure.title}: {first_line}",
                        f"{response.status_code} {response.text[:300]!r} for "
                        + case.as_curl_command(),
                    )
        finally:
            transaction.savepoint_rollback(savepoint)

    # No data of a kind may exist for an operation (e.g. negative data for an operation that
    # takes nothing): then there is nothing to send.
    with contextlib.suppress(Unsatisfiable):
        run()


class AppInTestTransaction(WSGIHandler):
    """Django's WSGI app, minus the connection clean-up at each request's start and end: it
    would close the connection that holds the test's transaction. (Django's test client does
    the same per request, and connects the clean-up again after it, so it is undone here on
    every request.)"""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        for signal in (request_started, request_finished):
            signal.disconnect(close_old_connections)
        return super().__call__(environ, start_response)


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    try:
        yield AppInTestTransaction()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonymous")
def test_every_operation_answers_as_documented_and_never_5xx(
    role: str | None, wsgi_app: WSGIHandler
) -> None:
    caller = make_user(role=role) if role else None
    seed_rows(caller)
    headers = {"Authorization": f"Token {issue_token(user=caller)[1]}"} if caller else {}
    document = openapi_document()
    pin_path_ids(document)
    schema = schemathesis.openapi.from_dict(document)
    schema.app = wsgi_app
    tally = Tally()

    operations = [loaded(result) for result in schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            exercise(operation, mode, headers, tally)

    print(
        f"\nschemathesis as {role or 'anonymous'}: {len(operations)} operations, "
        f"{sum(tally.examples.values())} requests, statuses {dict(sorted(tally.statuses.items()))}"
    )
    assert not tally.failures, tally.report()
