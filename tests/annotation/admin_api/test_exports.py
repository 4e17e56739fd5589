"""Exports of preference pairs: TRL, TRL messages, CSV, filters, refused parameters."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.utils import timezone

from annotation.models import (
    Judgment,
    Prompt,
    RankingTask,
)
from common.roles import Role
from tests.annotation.admin_api.helpers import (
    API,
    Client,
    ClientFor,
    export,
    export_rows,
    rate,
    upload,
)
from tests.factories import make_campaign, make_pool, make_task, setup_campaign


@pytest.fixture
def two_raters_one_task(client_for: ClientFor) -> list[dict[str, str]]:
    """Two raters rank the same four responses [[B], [A, C], [D]] through the rater API;
    returns each rater's label -> text, in submission order."""
    raters = [client_for(), client_for()]
    setup_campaign([r.user for r in raters], tasks=1, responses_per_task=4, overlap=2)
    return [rate(rater, f"export-key-{n}") for n, rater in enumerate(raters)]


def expected_pairs(shown: dict[str, str], with_ties: bool = False) -> list[tuple[str, str, float]]:
    """The pairs [[B], [A, C], [D]] implies, in the order they are stored."""
    pairs = [("B", "A", 1.0), ("B", "C", 1.0), ("B", "D", 2.0)]
    pairs += [("A", "C", 0.0)] if with_ties else []
    pairs += [("A", "D", 1.0), ("C", "D", 1.0)]
    return [(shown[better], shown[worse], margin) for better, worse, margin in pairs]


def test_export_trl(client_for: ClientFor, two_raters_one_task: list[dict[str, str]]) -> None:
    # given
    engineer = client_for(Role.ML_ENGINEER)
    prompt = Prompt.objects.get().conversation[0]["content"]

    # when
    response, body = export(engineer, format="trl")

    # then
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"] == 'attachment; filename="preferences-trl.jsonl"'
    rows = [json.loads(line) for line in body.split("\n") if line]
    columns = ["prompt", "chosen", "rejected", "margin", "flags", "chosen_flags"]
    columns += ["rejected_flags", "rationale"]
    assert all(list(row) == columns for row in rows)
    assert [(r["chosen"], r["rejected"], r["margin"]) for r in rows] == [
        pair for shown in two_raters_one_task for pair in expected_pairs(shown)
    ]
    assert {r["prompt"] for r in rows} == {prompt}


def test_a_judgments_flags_and_rationale_are_exported_with_its_pairs(client_for: ClientFor) -> None:
    # given one rater who flags the set and their second answer, and explains; one who does
    # none of it
    raters = [client_for(), client_for()]
    setup_campaign([r.user for r in raters], tasks=1, responses_per_task=2, overlap=2)
    marks: tuple[tuple[list[str], dict[str, list[str]], str], ...] = (
        (["other"], {"B": ["factually_wrong"]}, "B cites 1969"),
        ([], {}, ""),
    )
    for n, (rater, (flags, response_flags, rationale)) in enumerate(
        zip(raters, marks, strict=True)
    ):
        task = rater.post(f"{API}/assignments/next/").json()
        submission = {
            "ranking": [["A"], ["B"]],
            "flags": flags,
            "response_flags": response_flags,
            "rationale": rationale,
        }
        answer = rater.post(
            f"{API}/assignments/{task['id']}/submit/",
            {**submission, "idempotency_key": f"flagged-{n}"},
            format="json",
        )
        assert answer.status_code == 201
    engineer = client_for(Role.ML_ENGINEER)

    # when
    rows = export_rows(engineer, format="trl_messages")
    _, body = export(engineer, format="csv")

    # then
    marked = [(r["flags"], r["chosen_flags"], r["rejected_flags"], r["rationale"]) for r in rows]
    assert marked == [(["other"], [], ["factually_wrong"], "B cites 1969"), ([], [], [], "")]
    header, *lines = list(csv.reader(io.StringIO(body)))
    assert [line[-4:] for line in lines] == [
        ["other", "B cites 1969", "", "factually_wrong"],
        ["", "", "", ""],
    ]
    assert header[-4:] == ["flags", "rationale", "chosen_flags", "rejected_flags"]


def test_export_includes_ties_only_when_asked(
    admin: Client, two_raters_one_task: list[dict[str, str]]
) -> None:
    # when
    default = export_rows(admin)
    with_ties = export_rows(admin, include_ties="true")

    # then
    assert len(default) == 10
    assert [(r["chosen"], r["rejected"], r["margin"]) for r in with_ties] == [
        pair for shown in two_raters_one_task for pair in expected_pairs(shown, with_ties=True)
    ]


def test_export_trl_messages(admin: Client, two_raters_one_task: list[dict[str, str]]) -> None:
    # when
    response, body = export(admin, format="trl_messages")

    # then
    assert response["Content-Disposition"] == (
        'attachment; filename="preferences-trl_messages.jsonl"'
    )
    rows = [json.loads(line) for line in body.split("\n") if line]
    conversation = Prompt.objects.get().conversation
    assert rows == [
        {
            "prompt": conversation,
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
            "margin": margin,
            "flags": [],
            "chosen_flags": [],
            "rejected_flags": [],
            "rationale": "",
        }
        for shown in two_raters_one_task
        for chosen, rejected, margin in expected_pairs(shown)
    ]


def test_export_csv(admin: Client, two_raters_one_task: list[dict[str, str]]) -> None:
    # when
    response, body = export(admin, format="csv")

    # then
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="preferences-csv.csv"'
    header, *rows = list(csv.reader(io.StringIO(body)))
    assert header == [
        "preference_id",
        "judgment_id",
        "task_id",
        "campaign_id",
        "rater_id",
        "prompt",
        "chosen",
        "rejected",
        "margin",
        "is_tie",
        "source",
        "submitted_at",
        "flags",
        "rationale",
        "chosen_flags",
        "rejected_flags",
    ]
    judgments = list(Judgment.objects.order_by("id"))
    task = RankingTask.objects.get()
    assert [
        (r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8], r[9], r[10]) for r in rows
    ] == [
        (
            str(j.pk),
            str(task.pk),
            str(task.campaign_id),
            str(j.rater_id),
            task.prompt.conversation,
            chosen,
            rejected,
            str(margin),
            "False",
            "human",
        )
        for j, shown in zip(judgments, two_raters_one_task, strict=True)
        for chosen, rejected, margin in expected_pairs(shown)
    ]


def test_exported_trl_file_imports_back(admin: Client, client_for: ClientFor) -> None:
    # given: a judged pair whose text holds U+2028, which the export writes raw (not escaped)
    rater = client_for()
    source = make_campaign(responses_per_task=2, overlap=1)
    make_task(source, texts=["Line one\u2028line two.", "Other."])
    make_pool(members=[rater.user], campaigns=[source])
    shown = rate(rater, "roundtrip-1", [["A"], ["B"]])
    _, body = export(admin, format="trl", campaign=source.pk)
    assert "\u2028" in body
    target = make_campaign()

    # when
    response = upload(admin, target.pk, "export.jsonl", body.encode())

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["judgments"] == 1
    assert export_rows(admin, campaign=target.pk) == export_rows(admin, campaign=source.pk)
    assert export_rows(admin, campaign=target.pk)[0]["chosen"] == shown["A"]


@pytest.fixture
def filter_world(client_for: ClientFor) -> dict[str, Any]:
    """Two raters in two pools, each judging one pair in campaigns X and Y; r1 judges before
    `mark`, r2 after."""
    r1, r2 = client_for(), client_for()
    x, y = (
        make_campaign(responses_per_task=2, overlap=2),
        make_campaign(responses_per_task=2, overlap=2),
    )
    make_task(x)
    make_task(y)
    p1 = make_pool(members=[r1.user], campaigns=[x, y])
    p2 = make_pool(members=[r2.user], campaigns=[x, y])
    rate(r1, "filter-1", [["A"], ["B"]])
    rate(r1, "filter-2", [["A"], ["B"]])
    mark = timezone.now()
    rate(r2, "filter-3", [["A"], ["B"]])
    rate(r2, "filter-4", [["A"], ["B"]])
    return {
        "x": x.pk,
        "y": y.pk,
        "r1": r1.user.pk,
        "r2": r2.user.pk,
        "p1": p1.pk,
        "p2": p2.pk,
        "mark": mark.isoformat(),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {("x", "r1"), ("y", "r1"), ("x", "r2"), ("y", "r2")}),
        ({"campaign": ["x"]}, {("x", "r1"), ("x", "r2")}),
        ({"campaign": ["x", "y"]}, {("x", "r1"), ("y", "r1"), ("x", "r2"), ("y", "r2")}),
        ({"rater": ["r2"]}, {("x", "r2"), ("y", "r2")}),
        ({"pool": ["p1"]}, {("x", "r1"), ("y", "r1")}),
        ({"since": "mark"}, {("x", "r2"), ("y", "r2")}),
        ({"until": "mark"}, {("x", "r1"), ("y", "r1")}),
        ({"campaign": ["y"], "rater": ["r1", "r2"], "pool": ["p2"]}, {("y", "r2")}),
        ({"campaign": ["x"], "since": "mark", "until": "mark"}, set()),
    ],
    ids=[
        "none",
        "campaign",
        "two campaigns",
        "rater",
        "pool",
        "since",
        "until",
        "combined",
        "empty window",
    ],
)
def test_export_filters(
    admin: Client,
    filter_world: dict[str, Any],
    params: dict[str, Any],
    expected: set[tuple[str, str]],
) -> None:
    # given: names in the table stand for the world's ids
    query = {
        key: [filter_world[v] for v in value] if isinstance(value, list) else filter_world[value]
        for key, value in params.items()
    }
    campaigns = {str(filter_world[name]): name for name in ("x", "y")}
    raters = {str(filter_world[name]): name for name in ("r1", "r2")}

    # when
    _, body = export(admin, format="csv", **query)

    # then
    rows = list(csv.DictReader(io.StringIO(body)))
    found = [(campaigns[r["campaign_id"]], raters[r["rater_id"]]) for r in rows]
    assert len(found) == len(set(found))
    assert set(found) == expected


@pytest.mark.parametrize(
    ("params", "code", "errors"),
    [
        ({"format": "xml"}, "invalid_choice", {"format": ['"xml" is not a valid choice.']}),
        ({"campaign": "abc"}, "invalid", {"campaign": {"0": ["A valid integer is required."]}}),
        (
            {"since": "yesterday"},
            "invalid",
            {
                "since": [
                    "Datetime has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
        ({"include_ties": "maybe"}, "invalid", {"include_ties": ["Must be a valid boolean."]}),
    ],
)
def test_export_refuses_bad_parameters(
    admin: Client, params: dict[str, str], code: str, errors: dict[str, Any]
) -> None:
    # when
    response = admin.get(f"{API}/export/", params)

    # then
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": code,
        "detail": "The request has invalid fields.",
        "errors": errors,
    }
