"""A gold reward model stands in for people: its scores become the responses' hidden quality
and simulated raters rank through the rater API as it would."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import torch
from django.core.management import CommandError, call_command

from annotation.models import Judgment, JudgmentMode, Response
from tests.factories import make_campaign, make_task
from training.pipeline.model_loading import load_reward_model, load_tokenizer
from training.pipeline.reward import score_texts

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def gold(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reward model saved to disk (its head fixed), as a registered gold model would be."""
    torch.manual_seed(5)
    tokenizer = load_tokenizer(tiny_model, padding_side="right")
    model = load_reward_model(tiny_model, tokenizer)
    folder = tmp_path_factory.mktemp("gold") / "model"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_simulated_raters_rank_as_the_gold_model_scores(gold: Path) -> None:
    # given a campaign of 6 four-answer tasks
    campaign = make_campaign(name="Gold", responses_per_task=4, overlap=1)
    tasks = [make_task(campaign) for _ in range(6)]

    # when the gold model scores them and a rater ranks them with noise far below the gaps
    call_command(
        "gold_qualities", "--campaign", "Gold", "--reward", str(gold), stderr=io.StringIO()
    )
    call_command(
        "simulate_raters", "--campaign", "Gold", "--raters", "1", "--bt-scale", "1e6",
        "--tie-rate", "0", "--prefix", "gold", stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip

    # then each stored quality is the model's score and each ranking is the score order
    tokenizer = load_tokenizer(gold, padding_side="right")
    model = load_reward_model(gold, tokenizer).eval()
    for task in tasks:
        responses = list(Response.objects.filter(pk__in=task.response_ids).select_related("prompt"))
        with torch.inference_mode():
            expected = score_texts(
                model,
                tokenizer,
                [r.prompt.conversation for r in responses],
                [r.text for r in responses],
            ).tolist()
        stored = [r.metadata["sim_quality"] for r in responses]
        assert stored == pytest.approx(expected, abs=1e-5)
        by_score = [
            r.pk for _, r in sorted(zip(stored, responses, strict=True), key=lambda p: -p[0])
        ]
        ranking = Judgment.objects.get(task=task).ranking
        assert [tier[0] for tier in ranking] == by_score
    assert {r.metadata["gold_reward_model"] for r in Response.objects.all()} == {str(gold)}


def test_an_unknown_campaign_or_model_is_a_clear_error(tmp_path: Path) -> None:
    make_task(make_campaign(name="Gold", responses_per_task=2, judgment_mode=JudgmentMode.RANK))
    with pytest.raises(CommandError, match="No campaign named 'Nope'"):
        call_command("gold_qualities", "--campaign", "Nope", "--reward", "x")
    with pytest.raises(CommandError, match="Cannot load a reward model"):
        call_command("gold_qualities", "--campaign", "Gold", "--reward", str(tmp_path / "none"))
    assert all("sim_quality" not in r.metadata for r in Response.objects.all())
