"""What the admin API tests share: uploads, rating through the rater API, the audit log and
exports."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.models import (
    Assignment,
    AuditEvent,
    Judgment,
    Preference,
    Prompt,
    RankingTask,
    Response,
)

API = "/api/v1"
# An APIClient; those from `client_for` also carry the logged-in `.user`.
Client = Any
ClientFor = Callable[..., Client]
RANKING = [["B"], ["A", "C"], ["D"]]


def jsonl(*rows: object) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def upload(client: Client, campaign_id: int, name: str, content: bytes, **fields: str) -> Any:
    return client.post(
        f"{API}/campaigns/{campaign_id}/import/",
        {"file": SimpleUploadedFile(name, content), **fields},
        format="multipart",
    )


def row_counts() -> dict[str, int]:
    models = (Prompt, Response, RankingTask, Assignment, Judgment, Preference, AuditEvent)
    return {model.__name__: model.objects.count() for model in models}


def rate(client: Client, key: str, ranking: list[list[str]] | None = None) -> dict[str, str]:
    """Claim the next task as this rater and submit a ranking; returns label -> text."""
    claimed = client.post(f"{API}/assignments/next/")
    assert claimed.status_code == 200, claimed.content
    payload = claimed.json()
    submitted = client.post(
        f"{API}/assignments/{payload['id']}/submit/",
        {"ranking": ranking or RANKING, "idempotency_key": key},
    )
    assert submitted.status_code == 201, submitted.content
    return {response["label"]: response["text"] for response in payload["responses"]}


def audit_log(client: Client) -> list[dict[str, Any]]:
    """The audit log, newest first, without ids and times."""
    response = client.get(f"{API}/audit-events/", {"limit": 500})
    assert response.status_code == 200
    keys = ("actor_username", "action", "target_type", "target_id", "details")
    return [{key: event[key] for key in keys} for event in response.json()["results"]]


def export(client: Client, **params: Any) -> tuple[Any, str]:
    response = client.get(f"{API}/export/", params)
    assert response.status_code == 200, response.content
    return response, b"".join(response.streaming_content).decode()


def export_rows(client: Client, **params: Any) -> list[dict[str, Any]]:
    _, body = export(client, **params)
    return [json.loads(line) for line in body.split("\n") if line]
