"""What a simulation runs on: its campaign (created with synthetic prompts whose hidden
qualities go into Response.metadata["sim_quality"], or an existing one), its raters (annotators
with API tokens in the pool "Simulated raters: <campaign>", created on the first run and reused
after) and the hidden qualities, read once. Refusals are CommandErrors: only
`manage.py simulate_raters` sets a simulation up."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Exists, OuterRef

from annotation.models import (
    Campaign,
    CampaignStatus,
    JudgmentMode,
    RankingTask,
    RaterPool,
    Response,
    TaskStatus,
)
from annotation.services.campaigns import ensure_campaign
from annotation.services.importing import import_file
from annotation.services.raters import create_user_with_role
from annotation.services.tokens import issue_token
from annotation.simulation.prompts import (
    QualityKey,
    SyntheticPrompt,
    quality_key,
    stored_quality,
    synthetic_prompts,
)
from annotation.simulation.traits import RaterTraits, TraitsInvalid
from common.roles import Role, role_of

SOURCE = "simulate_raters"
GUIDELINES = "Synthetic prompts for simulated raters: pick the more helpful answer."


# -- the campaign ---------------------------------------------------------------------------


def existing_campaign(name: str) -> Campaign:
    campaign = Campaign.objects.filter(name=name).first()
    if campaign is None:
        raise CommandError(f"No campaign named {name!r}.")
    return check_active(campaign)


def check_active(campaign: Campaign) -> Campaign:
    if campaign.status != CampaignStatus.ACTIVE:
        raise CommandError(
            f"Campaign {campaign.name!r} is {campaign.status}: raters get no tasks from it."
        )
    return campaign


def synthetic_campaign(
    *,
    name: str,
    responses_per_task: int,
    overlap: int,
    tasks: int,
    rng: random.Random,
    say: Callable[[str], None],
) -> Campaign:
    """The campaign `name` with `tasks` synthetic prompts and their hidden qualities; one
    that exists already is reused as it is when its K matches."""
    k = responses_per_task
    with transaction.atomic():
        try:
            campaign, created = ensure_campaign(
                actor=None,
                name=name,
                guidelines=GUIDELINES,
                responses_per_task=k,
                overlap=overlap,
                judgment_mode=JudgmentMode.PAIRWISE if k == 2 else JudgmentMode.RANK,
            )
        except ValidationError as error:
            raise CommandError(f"Cannot create campaign {name!r}: {error}") from error
        if not created:
            return check_active(_reused(campaign, k, say))
        prompts = synthetic_prompts(tasks, k, rng)
        report = import_file(
            actor=None,
            campaign=campaign,
            data=prompts_jsonl(prompts),
            filename="simulated.jsonl",
            source=SOURCE,
        )
        if not report.is_ok:
            raise CommandError(f"Synthetic prompts were refused: {report.errors[:3]}")
        store_hidden_qualities(campaign, prompts)
    say(f"created {name!r} with {report.tasks} tasks")
    return check_active(campaign)


def _reused(campaign: Campaign, k: int, say: Callable[[str], None]) -> Campaign:
    if campaign.responses_per_task != k:
        raise CommandError(
            f"Campaign {campaign.name!r} exists with {campaign.responses_per_task} responses "
            f"per task, not {k}; pass --campaign to use it as it is, or another name."
        )
    say(
        f"reusing campaign {campaign.name!r} "
        f"({campaign.tasks.count()} tasks); --tasks and --overlap are ignored"
    )
    return campaign


def prompts_jsonl(prompts: list[SyntheticPrompt]) -> bytes:
    rows = (
        {
            "id": prompt.external_id,
            "prompt": prompt.prompt,
            "responses": [{"text": r.text, "generator": SOURCE} for r in prompt.responses],
        }
        for prompt in prompts
    )
    return "\n".join(json.dumps(row) for row in rows).encode()


def store_hidden_qualities(campaign: Campaign, prompts: list[SyntheticPrompt]) -> None:
    """Write each response's true quality to its metadata (no service sets response
    metadata; the import file format has no place for it)."""
    quality = {(p.external_id, r.text): r.quality for p in prompts for r in p.responses}
    responses = list(
        Response.objects.filter(prompt__campaign=campaign, prompt__source=SOURCE).select_related(
            "prompt"
        )
    )
    for response in responses:
        key = (response.prompt.external_id, response.text)
        response.metadata = {**response.metadata, "sim_quality": quality[key]}
    Response.objects.bulk_update(responses, ["metadata"], batch_size=1000)


def load_qualities(campaign: Campaign) -> dict[QualityKey, float]:
    """Every response's hidden quality, read once, keyed as the rater API shows it."""
    rows = Response.objects.filter(prompt__campaign=campaign).values_list(
        "prompt__conversation", "text", "metadata"
    )
    return {
        quality_key(conversation, text): stored_quality(metadata, text)
        for conversation, text, metadata in rows.iterator(chunk_size=2000)
    }


# -- the raters -----------------------------------------------------------------------------


def pool_name(campaign: Campaign) -> str:
    return f"Simulated raters: {campaign.name}"[:200]


def rater_names(prefix: str, how_many: int) -> list[str]:
    return [f"{prefix}-{number:02d}" for number in range(1, how_many + 1)]


def ensure_raters(campaign: Campaign, names: list[str]) -> list[tuple[Any, str]]:
    """Annotators with these names and API tokens, members of the campaign's simulation
    pool; existing ones are reused. Returns (user, token key) pairs."""
    user_model = get_user_model()
    with transaction.atomic():
        existing = {
            user.username: user
            for user in user_model.objects.filter(username__in=names).select_related(
                "rater_profile"
            )
        }
        users = [existing.get(name) or _new_rater(name) for name in names]
        for user in users:
            if role_of(user) != Role.ANNOTATOR or not user.is_active:
                raise CommandError(
                    f"User {user.username!r} exists but is not an active annotator; "
                    "choose another --prefix."
                )
        # No pool service takes a missing actor; seed_demo fills its pool the same way.
        pool, _ = RaterPool.objects.get_or_create(
            name=pool_name(campaign), defaults={"description": f"Made by {SOURCE}."}
        )
        pool.members.add(*users)
        pool.campaigns.add(campaign)
        tokens = [issue_token(user=user, name="simulated rater")[1] for user in users]
    return list(zip(users, tokens, strict=True))


def _new_rater(username: str) -> Any:
    # No password: simulated raters sign in with their token only.
    return create_user_with_role(username=username, password=None, role=Role.ANNOTATOR)


def check_no_other_work(campaign_name: str, names: list[str]) -> None:
    """The rater API offers tasks from every campaign a rater's pools open: refuse, before
    writing anything, when these raters could be handed another campaign's open tasks."""
    open_tasks = RankingTask.objects.filter(campaign=OuterRef("pk"), status=TaskStatus.OPEN)
    others = sorted(
        Campaign.objects.filter(pools__members__username__in=names, status=CampaignStatus.ACTIVE)
        .exclude(name=campaign_name)
        .filter(Exists(open_tasks))
        .values_list("name", flat=True)
        .distinct()
    )
    if others:
        raise CommandError(
            f"These raters are also in pools open to {', '.join(map(repr, others))}, whose "
            "tasks the API would hand them too. Use another --prefix or take them out of "
            "those pools."
        )


def read_traits_file(path: Path, base: RaterTraits) -> list[RaterTraits]:
    """One trait object per rater; keys left out take `base`'s values."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"Cannot read --traits-file {path}: {error.strerror}.") from error
    except ValueError as error:
        raise CommandError(f"--traits-file {path} is not valid JSON: {error}.") from error
    if not isinstance(raw, list) or not raw:
        raise CommandError(f"--traits-file {path} must hold a non-empty JSON list of objects.")
    traits = []
    for number, item in enumerate(raw, start=1):
        try:
            traits.append(RaterTraits.from_mapping(item, base))
        except TraitsInvalid as error:
            raise CommandError(f"--traits-file {path}, rater {number}: {error}.") from error
    return traits
