"""A gold stand-in for people: score every response of a campaign with a gold reward model and
store the score as its hidden quality (`metadata["sim_quality"]`), so `simulate_raters
--bt-scale S` rates the campaign as that model would, with Bradley-Terry noise. A team rehearses
a loop's settings on it before spending human time, and the policy's reward under the same
gold model measures over-optimisation (docs/quality.md, "Simulated raters")."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.models import Campaign, Response
from training.models import ModelVersion, VersionKind

BATCH = 64


def gold_model_path(name_or_path: str) -> str:
    """A registered reward version's artifacts (by name), else the text as a model path."""
    version = ModelVersion.objects.filter(name=name_or_path, kind=VersionKind.REWARD).first()
    return version.artifact_path if version is not None else name_or_path


class Command(BaseCommand):
    help = "Store a gold reward model's score of every response of a campaign as its quality."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", required=True, metavar="NAME")
        parser.add_argument(
            "--reward", required=True, help="a registered reward version's name, or a model path"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(name=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"No campaign named {options['campaign']!r}.")
        responses = list(
            Response.objects.filter(prompt__campaign=campaign)
            .select_related("prompt")
            .order_by("id")
        )
        if not responses:
            raise CommandError(f"Campaign {campaign.name!r} has no responses to score.")
        started = time.perf_counter()
        scores = self._scores(gold_model_path(options["reward"]), responses)
        for response, value in zip(responses, scores, strict=True):
            response.metadata = {
                **response.metadata,
                "sim_quality": value,
                "gold_reward_model": options["reward"],
            }
        Response.objects.bulk_update(responses, ["metadata"], batch_size=1000)
        self.stderr.write(
            f"gold_qualities: {len(responses)} responses scored in "
            f"{time.perf_counter() - started:.1f} s (mean {sum(scores) / len(scores):+.3f})"
        )

    def _scores(self, path: str, responses: list[Response]) -> list[float]:
        try:
            import torch

            from training.pipeline.errors import PipelineError
            from training.pipeline.model_loading import load_reward_model, load_tokenizer
            from training.pipeline.reward import score_texts
        except ImportError as error:
            raise CommandError(f"The training extra is not installed ({error}).") from error
        try:
            tokenizer = load_tokenizer(path, padding_side="right")
            model = load_reward_model(path, tokenizer).eval()
        except (OSError, ValueError, PipelineError) as error:
            raise CommandError(f"Cannot load a reward model from {path!r}: {error}") from error
        scores: list[float] = []
        with torch.inference_mode():
            for start in range(0, len(responses), BATCH):
                chunk = responses[start : start + BATCH]
                scored = score_texts(
                    model,
                    tokenizer,
                    [r.prompt.conversation for r in chunk],
                    [r.text for r in chunk],
                )
                scores.extend(float(v) for v in scored.tolist())
        return scores
