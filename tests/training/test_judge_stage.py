"""The LLM judge stage (training/pipeline/judge.py) on the tiny model: each pair asked in both
orders, batched without changing a verdict, and its file and summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from training.pipeline.errors import PipelineError
from training.pipeline.judge import (
    JudgePair,
    Verdict,
    _questions,
    judge_pairs,
    judge_to_folder,
    read_judge_pairs,
    summarise,
)
from training.pipeline.model_loading import load_causal_lm, load_tokenizer
from training.pipeline.options import JudgeConfig

PROMPT = [{"role": "user", "content": "How do I keep basil alive indoors?"}]
ANSWERS = [
    "Give it a sunny window and water when the soil is dry.",
    "Basil.",
    "Water it every day, a lot, even when the soil is wet, and keep it in the dark.",
]


def _pairs(order: list[tuple[int, int]]) -> list[JudgePair]:
    return [JudgePair(PROMPT, ANSWERS[a], ANSWERS[b], {"a": a, "b": b}) for a, b in order]


def test_swapping_the_answers_swaps_and_negates_the_two_orders(tiny_model: Path) -> None:
    tokenizer = load_tokenizer(tiny_model)
    model = load_causal_lm(tiny_model)
    config = JudgeConfig(judge=str(tiny_model), batch_size=4, max_answer_tokens=32)
    forward, backward = judge_pairs(model, tokenizer, _pairs([(0, 2), (2, 0)]), config)
    # The question "A = answer 0, B = answer 2" is the first order of the first pair and the
    # second order of the second: the same log-odds, for opposite answers.
    assert backward.first_shown_second == pytest.approx(-forward.first_shown_first, abs=1e-4)
    assert backward.first_shown_first == pytest.approx(-forward.first_shown_second, abs=1e-4)
    assert forward.first_shown_first != pytest.approx(forward.first_shown_second, abs=1e-6)


def test_a_batch_gives_the_verdicts_one_pair_at_a_time_gives(tiny_model: Path) -> None:
    """Answers of different lengths pad the batch; no verdict may move for it."""
    tokenizer = load_tokenizer(tiny_model)
    model = load_causal_lm(tiny_model)
    pairs = _pairs([(0, 1), (1, 2), (0, 2)])
    alone = judge_pairs(model, tokenizer, pairs, JudgeConfig(judge="t", batch_size=1))
    batched = judge_pairs(model, tokenizer, pairs, JudgeConfig(judge="t", batch_size=3))
    for one, many in zip(alone, batched, strict=True):
        assert many.first_shown_first == pytest.approx(one.first_shown_first, abs=1e-4)
        assert many.first_shown_second == pytest.approx(one.first_shown_second, abs=1e-4)


def test_the_stage_writes_one_verdict_per_pair_with_its_ids(
    tiny_model: Path, tmp_path: Path
) -> None:
    config = JudgeConfig(judge=str(tiny_model), prelabel_margin=0.0)
    pairs = _pairs([(0, 1), (1, 2)])
    summary = judge_to_folder(config, pairs, tmp_path)
    rows = [json.loads(line) for line in (tmp_path / "verdicts.jsonl").open()]
    assert [(r["a"], r["b"]) for r in rows] == [(0, 1), (1, 2)]
    verdicts = [Verdict(r["first_shown_first"], r["first_shown_second"]) for r in rows]
    assert summary["pairs"] == 2
    assert summary["consistent"] == sum(v.consistent for v in verdicts)
    assert summary["prelabels"] == summary["consistent"]  # margin 0: every consistent one
    assert (tmp_path / "progress.jsonl").is_file()


def test_the_summary_counts_consistency_pre_labels_and_first_shown_picks() -> None:
    verdicts = [Verdict(2.0, 1.5), Verdict(0.5, 3.0), Verdict(1.0, -1.0), Verdict(-2.0, -0.2)]
    summary = summarise(verdicts, prelabel_margin=1.0)
    assert summary["consistent"] == 3
    assert summary["prelabels"] == 1  # only the first is sure in both orders
    # The answer shown first was picked by the three positive first-order figures and by the
    # two negative second-order ones (-1.0, -0.2).
    assert summary["first_shown_share"] == 5 / 8


def test_bad_pair_files_are_refused_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"prompt": "Hi", "first": "a", "second": "b"}\n{not json\n')
    with pytest.raises(PipelineError, match="line 2: invalid JSON"):
        read_judge_pairs(path)
    path.write_text('{"prompt": "Hi", "first": "a", "second": " "}\n')
    with pytest.raises(PipelineError, match="line 1: first and second must be non-empty"):
        read_judge_pairs(path)
    path.write_text("\n")
    with pytest.raises(PipelineError, match="holds no pairs"):
        read_judge_pairs(path)
    with pytest.raises(PipelineError, match="No such pairs file"):
        read_judge_pairs(tmp_path / "missing.jsonl")


def test_a_conversation_too_long_for_the_judge_keeps_its_end(tiny_model: Path) -> None:
    """A long conversation is cut from its start, the same in both orders, so the judge still
    answers (one long prompt must not fail a whole round); the request being judged, at the
    end, is kept."""
    tokenizer = load_tokenizer(tiny_model)
    model = load_causal_lm(tiny_model)
    model.config.max_position_embeddings = 256
    history = " ".join(f"Earlier turn {n} about the garden." for n in range(200))
    prompt = [
        {"role": "user", "content": history},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": "How do I keep basil alive indoors?"},
    ]
    pair = JudgePair(prompt, ANSWERS[0], ANSWERS[2], {})
    both = _questions(tokenizer, pair, pair.first, pair.second, 256, 1)
    for ids in both:
        text = tokenizer.decode(ids)
        assert len(ids) <= 256
        assert "[...]" in text
        assert "Earlier turn 0 " not in text
        assert "Earlier turn 199" in text
        assert "How do I keep basil alive indoors?" in text
    assert tokenizer.decode(both[0]).index("Answer A:\n" + ANSWERS[0]) > 0
    assert tokenizer.decode(both[1]).index("Answer A:\n" + ANSWERS[2]) > 0

    config = JudgeConfig(judge=str(tiny_model), max_answer_tokens=32)
    [verdict] = judge_pairs(model, tokenizer, [pair], config)
    assert math.isfinite(verdict.first_shown_first)
    assert math.isfinite(verdict.first_shown_second)

    essay = " ".join(["Basil wants light."] * 200)
    too_long = JudgeConfig(judge=str(tiny_model), max_answer_tokens=512)
    with pytest.raises(PipelineError, match=r"pair 1's answers leave no room .* 256 tokens"):
        judge_pairs(model, tokenizer, [JudgePair(prompt, essay, ANSWERS[0], {})], too_long)
