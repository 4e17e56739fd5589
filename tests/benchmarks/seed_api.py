"""Seed the API benchmark's database: raters with API tokens in one pool, and one ranking
campaign (K=4, overlap 3) with enough tasks that the run never runs dry.

    python -m tests.benchmarks.seed_api --raters 40 --tasks 20000 --out var/bench/raters.json

Writes [{"id": user id, "token": key}, ...] to --out. Needs DATABASE_URL and
DJANGO_SECRET_KEY; scripts/bench_api.sh sets both to a throwaway database and key."""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import django

RESPONSES_PER_TASK = 4
OVERLAP = 3
BATCH = 2000
WORDS = [
    "the",
    "model",
    "answer",
    "explains",
    "why",
    "a",
    "careful",
    "reply",
    "helps",
    "people",
    "who",
    "ask",
    "about",
    "cooking",
    "travel",
    "code",
    "history",
    "health",
    "money",
    "weather",
    "music",
    "sport",
    "science",
    "and",
    "gives",
    "clear",
    "steps",
    "with",
    "examples",
]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def seed_raters(count: int, campaign: Any) -> list[dict[str, Any]]:
    """Annotators with unusable passwords (no hashing cost) and tokens, in one pool."""
    from annotation.models import RaterPool
    from annotation.services.raters import create_user_with_role
    from annotation.services.tokens import issue_token
    from common.roles import Role

    users = [
        create_user_with_role(username=f"bench-rater-{n:03d}", password=None, role=Role.ANNOTATOR)
        for n in range(count)
    ]
    pool = RaterPool.objects.create(name="bench pool")
    pool.members.add(*users)
    pool.campaigns.add(campaign)
    return [{"id": user.pk, "token": issue_token(user=user)[1]} for user in users]


def seed_tasks(campaign: Any, count: int, rng: random.Random) -> None:
    """`count` prompts with K responses each and one ranking task per prompt."""
    from annotation.models import Prompt, RankingTask, Response

    prompts = Prompt.objects.bulk_create(
        [
            Prompt(campaign=campaign, conversation=[{"role": "user", "content": _text(rng, 25)}])
            for _ in range(count)
        ],
        batch_size=BATCH,
    )
    responses = Response.objects.bulk_create(
        [
            Response(prompt=prompt, text=_text(rng, 120), generator=f"bench-model-{i}")
            for prompt in prompts
            for i in range(RESPONSES_PER_TASK)
        ],
        batch_size=BATCH,
    )
    ids = [response.pk for response in responses]
    RankingTask.objects.bulk_create(
        [
            RankingTask(
                campaign=campaign,
                prompt=prompt,
                response_ids=ids[n * RESPONSES_PER_TASK : (n + 1) * RESPONSES_PER_TASK],
                required_judgments=OVERLAP,
            )
            for n, prompt in enumerate(prompts)
        ],
        batch_size=BATCH,
    )


def seed(raters: int, tasks: int) -> list[dict[str, Any]]:
    from django.db import transaction

    from annotation.models import Campaign
    from annotation.services.importing import refresh_planner_statistics

    rng = random.Random(20261)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name="bench: rank four answers",
            guidelines="Rank the answers from best to worst.",
            responses_per_task=RESPONSES_PER_TASK,
            overlap=OVERLAP,
        )
        seed_tasks(campaign, tasks, rng)
        seeded = seed_raters(raters, campaign)
    refresh_planner_statistics()
    return seeded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", type=int, default=40)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    started = time.perf_counter()
    raters = seed(args.raters, args.tasks)
    args.out.write_text(json.dumps(raters), encoding="utf-8")
    took = time.perf_counter() - started
    print(
        f"Seeded {len(raters)} raters and {args.tasks} tasks (K={RESPONSES_PER_TASK}, "
        f"overlap {OVERLAP}) in {took:.1f} s"
    )


if __name__ == "__main__":
    main()
