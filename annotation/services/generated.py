"""Responses a policy generated for a campaign's prompts become ranking tasks for its raters,
which closes the loop: the next judgments are about the newest policy's answers. Under a
campaign's uncertainty routing, the tasks the reward-model ensemble is sure of are labelled by
it instead; under judge routing, those an LLM judge is sure of in both orders are pre-labelled
by it, and its every verdict is kept to score it (annotation/routing.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from django.db import transaction

from annotation.models import (
    Campaign,
    JudgeVerdict,
    JudgmentMode,
    LabelSource,
    ModelLabel,
    RankingTask,
    Response,
    RoutingMode,
)
from annotation.routing import (
    HeadScores,
    ModelPair,
    OrderedVerdict,
    confident,
    judge_label,
    judge_task_confidence,
    model_pairs,
    swapped,
    task_confidence,
    task_information,
    to_raters,
)

CONFIDENCE_CAP = 1e9  # stored in place of an infinite confidence (heads agreeing exactly)


@dataclass(frozen=True)
class GeneratedAnswers:
    prompt_id: int
    texts: list[str]
    # Each answer's reward under every head of the routing reward model (None: not scored).
    heads: list[list[float]] | None = None
    # Judge routing: the judge's verdict on two answers, keyed by their texts (stripped) in
    # the order it was asked (None: not judged).
    verdicts: dict[tuple[str, str], OrderedVerdict] | None = None

    def verdict(self, first: str, second: str) -> OrderedVerdict | None:
        """The judge on (first, second), read from either order it was stored in."""
        known = self.verdicts or {}
        if (first, second) in known:
            return known[(first, second)]
        other = known.get((second, first))
        return swapped(other) if other is not None else None


@dataclass(frozen=True)
class Labeller:
    """The reward model that scored the answers, or the judge that compared them."""

    name: str
    version_id: int | None


@dataclass(frozen=True)
class GeneratedBatch:
    tasks: int  # opened for raters
    model_tasks: int = 0  # labelled by the model instead
    model_labels: int = 0  # the pairs those hold
    over_budget: int = 0  # uncertain, but over the human budget per prompt: neither


def _task_groups(
    texts: list[str], size: int, heads: list[list[float]] | None = None
) -> list[list[tuple[str, HeadScores]]]:
    """Distinct, non-empty answers (with their head scores) in groups of `size`; a last group
    of one is dropped (there is nothing to rank it against)."""
    scores = heads if heads is not None else [[] for _ in texts]
    distinct: dict[str, HeadScores] = {}
    # A repeated answer keeps its first copy's scores (copies differing only in surrounding
    # space were scored apart; their scores differ little).
    for text, score in zip(texts, scores, strict=True):
        if text.strip():
            distinct.setdefault(text.strip(), score)
    items = list(distinct.items())
    groups = [items[start : start + size] for start in range(0, len(items), size)]
    return [group for group in groups if len(group) >= 2]


Group = tuple[int, list[tuple[str, HeadScores]]]  # a prompt's id and a task's answers


def _routing(
    campaign: Campaign, answers: Sequence[GeneratedAnswers], labeller: Labeller | None
) -> str:
    """How this batch is routed: the campaign's routing when the answers carry what it reads
    (every answer scored by the ensemble, or every prompt's answers judged), else everything
    to people."""
    if labeller is None:
        return RoutingMode.EVERYTHING
    if campaign.routing == RoutingMode.UNCERTAINTY and all(a.heads is not None for a in answers):
        return RoutingMode.UNCERTAINTY
    if campaign.routing == RoutingMode.JUDGE and all(a.verdicts is not None for a in answers):
        return RoutingMode.JUDGE
    return RoutingMode.EVERYTHING


def _confidence(
    routing: str, source: GeneratedAnswers, group: list[tuple[str, HeadScores]]
) -> float:
    if routing == RoutingMode.JUDGE:
        return judge_task_confidence(
            [source.verdict(a, b) for (a, _), (b, _) in combinations(group, 2)]
        )
    return task_confidence([score for _, score in group])


def _pairs(
    routing: str, source: GeneratedAnswers, group: list[tuple[str, HeadScores]]
) -> list[ModelPair]:
    """The pairs a model labels in a group: in the heads' order, or in the judge's."""
    if routing == RoutingMode.UNCERTAINTY:
        return model_pairs([score for _, score in group])
    texts = [text for text, _ in group]
    return [
        judge_label(a, b, verdict)
        for a, b in combinations(range(len(texts)), 2)
        if (verdict := source.verdict(texts[a], texts[b])) is not None
    ]


def _routes(
    campaign: Campaign, grouped: list[Group], sources: list[GeneratedAnswers], routing: str
) -> tuple[set[int], set[int]]:
    """The indices of the groups people judge and of those a model labels: all to people
    unless the batch is routed."""
    if routing == RoutingMode.EVERYTHING:
        return set(range(len(grouped))), set()
    by_prompt: dict[int, list[tuple[int, float]]] = {}
    for index, ((prompt_id, group), source) in enumerate(zip(grouped, sources, strict=True)):
        by_prompt.setdefault(prompt_id, []).append((index, _confidence(routing, source, group)))
    threshold = campaign.routing_confidence
    # Under the ensemble, the tasks whose labels tell it most go first; under the judge,
    # the least sure.
    information = None
    if routing == RoutingMode.UNCERTAINTY:
        information = {
            index: task_information([score for _, score in group])
            for index, (_, group) in enumerate(grouped)
        }
    human = to_raters(by_prompt, threshold, campaign.human_tasks_per_prompt, information)
    return human, confident(by_prompt, threshold)


def _model_labels(
    grouped: list[Group],
    sources: list[GeneratedAnswers],
    group_ids: list[list[int]],
    labelled: set[int],
    labeller: Labeller,
    routing: str,
) -> list[ModelLabel]:
    """Every pair of each group a model labels, chosen first."""
    source = LabelSource.JUDGE if routing == RoutingMode.JUDGE else LabelSource.MODEL
    return [
        ModelLabel(
            prompt_id=prompt_id,
            chosen_id=group_ids[index][pair.chosen],
            rejected_id=group_ids[index][pair.rejected],
            source=source,
            labeller=labeller.name[:200],
            labeller_version_id=labeller.version_id,
            margin=pair.margin,
            confidence=min(pair.confidence, CONFIDENCE_CAP),
        )
        for index, (prompt_id, group) in enumerate(grouped)
        if index in labelled
        for pair in _pairs(routing, sources[index], group)
    ]


def _judge_verdicts(
    grouped: list[Group],
    sources: list[GeneratedAnswers],
    group_ids: list[list[int]],
    labeller: Labeller,
) -> list[JudgeVerdict]:
    """The judge's verdict on every pair of every group, stored to score it like a rater once
    people judge the same pairs (the lower response id first)."""
    rows = []
    for index, (prompt_id, group) in enumerate(grouped):
        ids = group_ids[index]
        for a, b in combinations(range(len(group)), 2):
            verdict = sources[index].verdict(group[a][0], group[b][0])
            if verdict is None:
                continue
            if ids[a] > ids[b]:
                a, b, verdict = b, a, swapped(verdict)
            rows.append(
                JudgeVerdict(
                    prompt_id=prompt_id,
                    first_id=ids[a],
                    second_id=ids[b],
                    judge=labeller.name[:200],
                    judge_version_id=labeller.version_id,
                    first_shown_first=verdict[0],
                    first_shown_second=verdict[1],
                )
            )
    return rows


def _store_responses(
    grouped: list[tuple[int, list[tuple[str, HeadScores]]]],
    generator: str,
    generator_version_id: int | None,
    batch_key: str,
) -> list[list[int]]:
    """Every group's answers as responses of their prompt; their ids, group by group."""
    responses = Response.objects.bulk_create(
        Response(
            prompt_id=prompt_id,
            text=text,
            generator=generator[:200],
            generator_version_id=generator_version_id,
            metadata={"generated_batch": batch_key},
        )
        for prompt_id, group in grouped
        for text, _ in group
    )
    ids = iter(response.pk for response in responses)
    return [[next(ids) for _ in group] for _, group in grouped]


def _groups(
    campaign: Campaign, answers: Sequence[GeneratedAnswers]
) -> tuple[list[Group], list[GeneratedAnswers]]:
    """The campaign's K-sized task groups of each prompt's answers, and where each came from
    (prompts not in the campaign are skipped)."""
    size = 2 if campaign.judgment_mode == JudgmentMode.PAIRWISE else campaign.responses_per_task
    valid_prompts = set(campaign.prompts.values_list("id", flat=True))
    grouped: list[Group] = []
    sources: list[GeneratedAnswers] = []
    for item in answers:
        if item.prompt_id in valid_prompts:
            for group in _task_groups(item.texts, max(size, 2), item.heads):
                grouped.append((item.prompt_id, group))
                sources.append(item)
    return grouped, sources


def add_generated_tasks(
    *,
    campaign: Campaign,
    answers: Sequence[GeneratedAnswers],
    generator: str,
    generator_version_id: int | None,
    batch_key: str,
    labeller: Labeller | None = None,
) -> GeneratedBatch:
    """Store the answers as responses of their (existing) prompts and open ranking tasks of at
    most the campaign's K responses each; under uncertainty or judge routing, with answers
    scored or judged by `labeller`, the groups it does not send to people get its labels
    instead. Runs once per `batch_key`: a repeat adds nothing."""
    with transaction.atomic():
        # K, the mode and the overlap are read from the row as it is now, locked, not from the
        # caller's copy: an edit made since the run started applies, and one made while these
        # tasks are written waits for them and then finds them (to refuse a new mode or K, or
        # to apply a new overlap to them).
        locked = Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        if locked is None:
            return GeneratedBatch(0)
        campaign = locked
        known = Response.objects.filter(
            prompt__campaign=campaign, metadata__generated_batch=batch_key
        )
        if known.exists():
            return GeneratedBatch(0)
        grouped, sources = _groups(campaign, answers)
        routing = _routing(campaign, answers, labeller)
        human, labelled = _routes(campaign, grouped, sources, routing)
        group_ids = _store_responses(grouped, generator, generator_version_id, batch_key)
        tasks = RankingTask.objects.bulk_create(
            RankingTask(
                campaign=campaign,
                prompt_id=prompt_id,
                response_ids=group_ids[index],
                required_judgments=campaign.overlap,
            )
            for index, (prompt_id, group) in enumerate(grouped)
            if index in human
        )
        labels, verdicts = [], []
        if labeller is not None and routing != RoutingMode.EVERYTHING:
            labels = _model_labels(grouped, sources, group_ids, labelled, labeller, routing)
        if labeller is not None and routing == RoutingMode.JUDGE:
            verdicts = _judge_verdicts(grouped, sources, group_ids, labeller)
        for label in labels:
            label.campaign = campaign
        for verdict in verdicts:
            verdict.campaign = campaign
        ModelLabel.objects.bulk_create(labels)
        JudgeVerdict.objects.bulk_create(verdicts)
    over_budget = len(grouped) - len(tasks) - len(labelled)
    return GeneratedBatch(len(tasks), len(labelled), len(labels), over_budget)
