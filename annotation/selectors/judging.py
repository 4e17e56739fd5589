"""What an LLM judge reads from a campaign: its tasks' pairs, with their texts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

from django.db.models import Exists, OuterRef

from annotation.models import Judgment, RankingTask, Response


@dataclass(frozen=True)
class PairToJudge:
    prompt_id: int
    conversation: list[dict[str, str]]
    first_id: int  # the lower response id; the judge sees it first, then second
    second_id: int
    first: str
    second: str


def pairs_to_judge(*, campaign_id: int, limit: int) -> Iterator[PairToJudge]:
    """Up to `limit` distinct pairs of the campaign's tasks: those of tasks people have judged
    first (they score the judge), oldest task first, then those of the others."""
    judged = Judgment.objects.filter(task=OuterRef("pk"))
    tasks = (
        RankingTask.objects.filter(campaign_id=campaign_id)
        .annotate(judged=Exists(judged))
        .order_by("-judged", "id")
        .values_list("prompt_id", "prompt__conversation", "response_ids")
    )
    seen: set[tuple[int, int]] = set()
    for prompt_id, conversation, response_ids in tasks.iterator(chunk_size=500):
        pairs = [p for p in combinations(sorted(set(response_ids)), 2) if p not in seen]
        texts = dict(Response.objects.filter(pk__in=response_ids).values_list("id", "text"))
        for first, second in pairs:
            if len(seen) >= limit:
                return
            seen.add((first, second))
            yield PairToJudge(prompt_id, conversation, first, second, texts[first], texts[second])
