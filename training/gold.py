"""A gold reward model for rehearsing a loop: trained by the pipeline, through the app, on real
human preference pairs (by default Anthropic's HH harmless pairs in ../shared/data), and then
used as the people's stand-in: simulated raters follow its scores with Bradley-Terry noise
(`gold_qualities`, `simulate_raters --bt-scale`), a PPO round scores its answers with it step by
step beside the proxy reward model (the over-optimisation curve), and the new policy's gold win
rate over its parent is judged by it (docs/training.md, "The loop, end to end")."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings

from annotation.import_parser import parse_import
from annotation.models import Campaign, JudgmentMode, RankingTask
from annotation.services.campaigns import ensure_campaign
from annotation.services.importing import import_file
from training.models import ModelVersion, RunStatus, TrainingRun, VersionKind
from training.services import RunRequest

# Where the real human pairs live: ../shared/data beside the repository (never committed).
DEFAULT_GOLD_DATA = Path(settings.BASE_DIR).parent / "shared" / "data" / "hh-harmless-dev.jsonl.gz"
# The recipe bench-train measured on these pairs (docs/training.md, "Benchmarks"): the score head
# fitted as a linear probe on the frozen model first, then a short fine-tune; one HH pair is
# about 1,025 tokens with the chat template, so the context is 1,536 and activations are
# recomputed (8 pairs near 1,000 tokens peaked at 17.6 GiB without).
GOLD_RECIPE = {
    "head_init": "probe",
    "max_length": 1536,
    "gradient_checkpointing": True,
    "validation_fraction": 0.2,
    "batch_size": 8,
    "learning_rate": 2e-5,
}


class GoldDataMissing(Exception):
    """The human pairs a gold reward model is trained on are not where they were looked for."""


def gold_campaign_name(data: Path, pairs: int | None) -> str:
    return f"Gold pairs: {data.name}" + (f" (first {pairs})" if pairs else "")


def read_pairs_file(data: Path, pairs: int | None) -> tuple[bytes, int]:
    """The first `pairs` of the file's JSONL rows (gunzipped when it ends in .gz) that the
    importer accepts, and how many it refused (the importer takes a file whole or not at all;
    real data has a few malformed rows: HH harmless has 5 of 1,500 with an empty answer)."""
    if not data.is_file():
        raise GoldDataMissing(
            f"{data} not found: the reward-model gold is trained on the real human pairs there. "
            "Put the shared data folder beside the repository (../shared/data), pass "
            "--gold-data FILE (JSONL of chosen/rejected pairs, optionally gzipped), "
            "or use --gold concise."
        )
    raw = data.read_bytes()
    lines = (gzip.decompress(raw) if data.suffix == ".gz" else raw).splitlines(keepends=True)
    lines = lines[:pairs] if pairs is not None else lines
    refused = {error.line for error in parse_import(b"".join(lines), "jsonl").errors}
    kept = [line for number, line in enumerate(lines, start=1) if number not in refused]
    return b"".join(kept), len(lines) - len(kept)


def reusable_gold(campaign: Campaign, base: str, epochs: float) -> ModelVersion | None:
    """A gold model trained before on the same pairs with the same base and recipe."""
    runs = TrainingRun.objects.filter(
        kind="reward", campaign=campaign, status=RunStatus.SUCCEEDED, base=base
    ).order_by("-id")
    for run in runs:
        wanted = {**GOLD_RECIPE, "epochs": epochs}
        if all(run.config.get(k) == v for k, v in wanted.items()):
            return ModelVersion.objects.filter(produced_by=run, kind=VersionKind.REWARD).first()
    return None


def gold_reward_version(
    *,
    data: Path,
    base: str,
    pairs: int | None,
    epochs: float,
    seed: int,
    execute: Callable[[RunRequest], TrainingRun],
    log: Callable[[str], object] = print,
) -> tuple[ModelVersion, bool]:
    """The gold reward model for these pairs, base and recipe: the one trained before if there
    is one (training it costs minutes to an hour on a CPU), else imported through the project's
    importer into their own campaign and trained by a reward run. Returns it and whether it
    was reused."""
    rows, refused = read_pairs_file(data, pairs)  # first: a missing file stops before anything
    campaign, created = ensure_campaign(
        actor=None,
        name=gold_campaign_name(data, pairs),
        responses_per_task=2,
        overlap=1,
        judgment_mode=JudgmentMode.RANK,
        guidelines="Imported human preference pairs; the gold reward model is trained on them.",
    )
    found = None if created else reusable_gold(campaign, base, epochs)
    if found is not None:
        return found, True
    if not RankingTask.objects.filter(campaign=campaign).exists():  # new, or an import failed
        report = import_file(
            actor=None, campaign=campaign, data=rows, filename="gold.jsonl", source="gold-pairs"
        )
        if not report.judgments:
            raise ValueError(f"{data}: no preference pairs imported ({report.errors[:3]})")
        log(f"gold pairs: {report.judgments} imported, {refused} malformed rows left out")
    run = execute(
        RunRequest(
            kind="reward",
            base=base,
            campaign=campaign,
            dataset={"mode": "all", "campaign_ids": [campaign.pk]},
            hyperparameters={**GOLD_RECIPE, "epochs": epochs, "seed": seed},
        )
    )
    return ModelVersion.objects.get(produced_by=run), False


class RewardModelGold:
    """A reward model as the gold preference: the answer it scores higher wins (equal: half).
    Scores every text once, in batches, before the pairs are judged."""

    def __init__(self, path: str) -> None:
        from training.pipeline.model_loading import load_reward_model, load_tokenizer

        self.tokenizer = load_tokenizer(path, padding_side="right")
        self.model = load_reward_model(path, self.tokenizer).eval()
        self.scores: dict[tuple[str, str], float] = {}

    def score(self, prompts: Sequence[Any], replies: Sequence[str]) -> list[float]:
        import torch

        from training.pipeline.reward import score_texts

        with torch.inference_mode():
            values = score_texts(self.model, self.tokenizer, list(prompts), list(replies))
        for prompt, reply, value in zip(prompts, replies, values.tolist(), strict=True):
            self.scores[(repr(prompt), reply)] = float(value)
        return [float(v) for v in values.tolist()]

    def __call__(self, prompt: Any, a: str, b: str) -> float:
        score_a, score_b = self.scores[(repr(prompt), a)], self.scores[(repr(prompt), b)]
        return 1.0 if score_a > score_b else 0.0 if score_a < score_b else 0.5
