"""The embedded model as an LLM judge (`make bench-judge`), scored the way the quality report
scores it: on the simulator's synthetic campaign (annotation/simulation), every pair asked in
both orders, against the simulated raters' majority and against the hidden true quality.

- pairs: `--pairs` synthetic prompts with two answers each; the answers' wording follows a
  hidden quality (a good, fair or poor stem) and their length does not;
- raters: `--raters` simulated raters with the simulator's default traits (85 % accurate on
  the better answer, 3 % ties), each judging every pair in a random order; their decided
  majority is the consensus the judge is scored against;
- judge: training/pipeline/judge.py with `--judge` (default the embedded SmolLM2-135M); the
  figures come from annotation/quality/report/judges.py, the quality report's own code.

Prints each figure with its 95 % interval and a last JSON line. Whatever the figures are:
a 135M model is a weak judge, and this says how weak.
"""

from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np

from annotation.quality.estimate import Estimate, wilson_estimate
from annotation.quality.report.inputs import PairArrays, VerdictArrays
from annotation.quality.report.judges import human_majority, judge_rows
from annotation.simulation.prompts import SyntheticPrompt, synthetic_prompts
from annotation.simulation.traits import RaterTraits, ShownResponse, decide
from training.pipeline.judge import JudgePair, judge_pairs
from training.pipeline.model_loading import load_causal_lm, load_tokenizer
from training.pipeline.options import JudgeConfig


def rater_votes(prompts: list[SyntheticPrompt], raters: int, seed: int) -> PairArrays:
    """Every rater's choice on every pair (answer ids 2i and 2i+1), shown in a random order."""
    rng = random.Random(seed)
    traits = RaterTraits()
    rows: list[tuple[int, int, bool]] = []
    for index, prompt in enumerate(prompts):
        answers = [
            ShownResponse(str(2 * index + n), r.text, r.quality)
            for n, r in enumerate(prompt.responses)
        ]
        for _ in range(raters):
            shown = rng.sample(answers, 2)
            decision = decide(traits, shown, pairwise=True, prompt_words=8, rng=rng)
            if len(decision.ranking) == 1:  # a tie
                rows.append((int(shown[0].label), int(shown[1].label), True))
            else:
                rows.append((int(decision.ranking[0][0]), int(decision.ranking[1][0]), False))
    n = len(rows)
    zeros = np.zeros(n, dtype=np.int64)
    return PairArrays(
        judgment=np.arange(n),
        rater=zeros,
        task=zeros,
        chosen=np.array([r[0] for r in rows]),
        rejected=np.array([r[1] for r in rows]),
        is_tie=np.array([r[2] for r in rows]),
        chosen_first=zeros - 1,
        is_gold=np.zeros(n, dtype=bool),
        time_ms=zeros - 1,
        submitted_at=zeros,
        chosen_length=zeros,
        rejected_length=zeros,
    )


def _line(name: str, estimate: Estimate) -> str:
    if estimate.value is None:
        return f"{name:<46} undefined (n={estimate.n})"
    return (
        f"{name:<46} {estimate.value:.3f}  [{estimate.ci_low:.3f}, {estimate.ci_high:.3f}]"
        f"  n={estimate.n}"
    )


def judged(args: argparse.Namespace, prompts: list[SyntheticPrompt]) -> tuple[VerdictArrays, float]:
    """The judge's verdict on every synthetic pair (answer ids 2i, 2i+1), and its seconds."""
    config = JudgeConfig(
        judge=args.judge, batch_size=args.batch_size, prelabel_margin=args.prelabel_margin
    )
    tokenizer = load_tokenizer(args.judge)
    model = load_causal_lm(args.judge)
    pairs = [
        JudgePair(
            [{"role": "user", "content": p.prompt}], p.responses[0].text, p.responses[1].text, {}
        )
        for p in prompts
    ]
    started = time.perf_counter()
    verdicts = judge_pairs(model, tokenizer, pairs, config)
    n = len(prompts)
    arrays = VerdictArrays(
        judge=np.array([args.judge] * n, dtype=object),
        first=np.arange(n) * 2,
        second=np.arange(n) * 2 + 1,
        first_shown_first=np.array([v.first_shown_first for v in verdicts]),
        first_shown_second=np.array([v.first_shown_second for v in verdicts]),
        first_length=np.array([len(p.responses[0].text) for p in prompts]),
        second_length=np.array([len(p.responses[1].text) for p in prompts]),
    )
    return arrays, time.perf_counter() - started


def figures(
    votes: PairArrays, arrays: VerdictArrays, prompts: list[SyntheticPrompt], margin: float
) -> dict[str, Estimate]:
    """The quality report's judge row, then the judge against the hidden truth and what its
    pre-labels at `margin` would be worth."""
    (row,) = judge_rows(votes, arrays)
    n = len(prompts)
    truth = np.array(
        [1 if p.responses[0].quality > p.responses[1].quality else -1 for p in prompts]
    )
    mean = (arrays.first_shown_first + arrays.first_shown_second) / 2
    consistent = arrays.first_shown_first * arrays.first_shown_second > 0
    sure = consistent & (
        np.minimum(np.abs(arrays.first_shown_first), np.abs(arrays.first_shown_second)) >= margin
    )
    majority = human_majority(votes)
    human = np.array([majority.get((2 * i, 2 * i + 1), 0) for i in range(n)])
    right = np.sign(mean) == truth
    return {
        "order_consistency": row.order_consistency,
        "consensus_agreement": row.consensus_agreement,
        "debiased_agreement": row.debiased_agreement,
        "position_bias": row.position_bias,
        "length_bias": row.length_bias,
        "truth_agreement_consistent": wilson_estimate(
            int((right & consistent).sum()), int(consistent.sum())
        ),
        "debiased_truth_agreement": wilson_estimate(int((right & (mean != 0)).sum()), n),
        "prelabel_share": wilson_estimate(int(sure.sum()), n),
        "prelabel_truth_agreement": wilson_estimate(int((right & sure).sum()), int(sure.sum())),
        "rater_majority_truth_agreement": wilson_estimate(
            int((human == truth).sum()), int((human != 0).sum())
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--raters", type=int, default=5)
    parser.add_argument("--judge", default="smollm2")
    parser.add_argument("--prelabel-margin", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    prompts = synthetic_prompts(args.pairs, 2, random.Random(args.seed))
    votes = rater_votes(prompts, args.raters, args.seed)
    arrays, seconds = judged(args, prompts)
    results = figures(votes, arrays, prompts, args.prelabel_margin)
    print(
        f"judge {args.judge}: {len(prompts)} pairs, {args.raters} simulated raters, {seconds:.0f} s"
    )
    for name, estimate in results.items():
        print(_line(name, estimate))
    header = {"judge": args.judge, "pairs": len(prompts), "raters": args.raters}
    summary = {name: estimate.as_dict() for name, estimate in results.items()}
    print(json.dumps(header | {"seconds": round(seconds, 1)} | summary))


if __name__ == "__main__":
    main()
