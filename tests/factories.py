"""Small factories for test data: plain functions with defaults, each writing real rows."""

from __future__ import annotations

import itertools
from typing import Any

from annotation.models import Campaign, Prompt, RankingTask, RaterPool, Response
from annotation.services.raters import create_user_with_role
from common.roles import Role

_counter = itertools.count(1)


def make_user(
    role: str = Role.ANNOTATOR, username: str | None = None, password: str = "pw-12345678"
) -> Any:
    return create_user_with_role(
        username=username or f"user{next(_counter)}", password=password, role=role
    )


def make_campaign(**fields: Any) -> Campaign:
    defaults: dict[str, Any] = {
        "name": f"campaign {next(_counter)}",
        "responses_per_task": 4,
        "overlap": 3,
    }
    return Campaign.objects.create(**{**defaults, **fields})


def make_task(
    campaign: Campaign, k: int | None = None, texts: list[str] | None = None
) -> RankingTask:
    count = k or campaign.responses_per_task
    n = next(_counter)
    prompt = Prompt.objects.create(
        campaign=campaign, conversation=[{"role": "user", "content": f"question {n}"}]
    )
    responses = [
        Response.objects.create(prompt=prompt, text=text, generator=f"secret-model-{i}")
        for i, text in enumerate(texts or [f"answer {n}.{i}" for i in range(count)])
    ]
    return RankingTask.objects.create(
        campaign=campaign,
        prompt=prompt,
        response_ids=[r.pk for r in responses],
        required_judgments=campaign.overlap,
    )


def make_pool(
    *, members: list[Any], campaigns: list[Campaign], name: str | None = None
) -> RaterPool:
    pool = RaterPool.objects.create(name=name or f"pool {next(_counter)}")
    pool.members.add(*members)
    pool.campaigns.add(*campaigns)
    return pool


def setup_campaign(
    raters: list[Any], tasks: int = 3, **fields: Any
) -> tuple[Campaign, list[RankingTask]]:
    """A campaign with `tasks` tasks, open to `raters` through one pool."""
    campaign = make_campaign(**fields)
    created = [make_task(campaign) for _ in range(tasks)]
    make_pool(members=raters, campaigns=[campaign])
    return campaign, created
