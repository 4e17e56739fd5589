"""A reward-model ensemble on one trunk: `ensemble` score heads (a sequence classifier with that
many outputs), each trained on its own bootstrap resample of the pairs (Poisson(1) counts per
pair and head, the online bootstrap), over one shared backbone.

Why heads and not separate models: K separate models cost K times the training time and the
memory of every round that loads the reward; K heads cost one model's. The price is diversity:
the heads share the features, so their spread measures the uncertainty of the last layer given
the features, not of the features themselves (Coste et al. 2024 trained separate models; heads
on a shared trunk, as here, are the cheap end of that range). docs/training.md says what was
measured.

A pair's score is the heads' mean (what accuracy, the watch and the length slope read); its
uncertainty is their spread. A policy round may take the conservative score, the mean minus
`uncertainty_penalty` standard deviations, as its reward (Coste et al. 2024: it curbs
over-optimisation)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from trl.trainer.reward_trainer import DataCollatorForPreference


def bootstrap_counts(pairs: int, heads: int, seed: int) -> torch.Tensor:
    """(pairs, heads) Poisson(1) counts: how often each head's resample holds each pair."""
    generator = torch.Generator().manual_seed(seed)
    return torch.poisson(torch.ones(pairs, heads), generator=generator)


def conservative(heads: torch.Tensor, penalty: float) -> torch.Tensor:
    """(N, K) head scores -> (N,) the mean minus `penalty` standard deviations (the mean with
    one head or no penalty)."""
    mean = heads.mean(dim=-1)
    if penalty == 0 or heads.shape[-1] < 2:
        return mean
    return mean - penalty * heads.std(dim=-1)


class EnsembleCollator(DataCollatorForPreference):
    """TRL's preference collator, passing each row's bootstrap counts on as `bootstrap`."""

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        output = super().torch_call(examples)
        if "bootstrap" in examples[0]:
            counts = [example["bootstrap"] for example in examples]
            output["bootstrap"] = torch.tensor(counts, dtype=torch.float)
        return output


class EnsembleLoss:
    """A reward trainer's loss for K heads: each head's Bradley-Terry loss on its own resample
    (the pairs weighted by their counts), summed over heads, over the batch's total count.
    Logs TRL's step figures for the heads' mean."""

    _metrics: dict[str, Any]
    accelerator: Any

    def __init__(self, *args: Any, model: Any, **kwargs: Any) -> None:
        # TRL refuses a model of more than one output; the loss over its heads is this
        # class's own, so its check sees one while the trainer is built.
        heads = model.config.num_labels
        model.config.num_labels = 1
        try:
            super().__init__(*args, model=model, **kwargs)  # type: ignore[call-arg]
        finally:
            model.config.num_labels = heads

    def _set_signature_columns_if_needed(self) -> None:
        # The dataset's columns the trainer keeps: TRL's three and the bootstrap counts.
        self._signature_columns = ["chosen_ids", "rejected_ids", "margin", "bootstrap"]

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        counts = inputs.pop("bootstrap")
        margin = inputs.pop("margin", None)
        outputs = model(**inputs, use_cache=False)
        chosen, rejected = torch.chunk(outputs.logits, chunks=2)  # (B, K) each
        difference = chosen - rejected
        if margin is not None:
            difference = difference - margin.unsqueeze(-1)
        losses = -nn.functional.logsigmoid(difference)
        loss = (losses * counts).sum() / counts.sum().clamp(min=1.0)
        mode = "train" if model.training else "eval"
        with torch.no_grad():
            mean_margin = (chosen - rejected).mean(dim=-1)
            figures = {
                "accuracy": (mean_margin > 0).float().mean(),
                "margin": mean_margin.mean(),
                "head_spread": (chosen - rejected).std(dim=-1).mean(),
            }
            for name, value in figures.items():
                gathered = self.accelerator.gather_for_metrics(value).mean().item()
                self._metrics[mode][name].append(gathered)
        return (loss, outputs) if return_outputs else loss


def ensemble_figures(
    chosen: torch.Tensor, rejected: torch.Tensor, ties_half: bool = True
) -> dict[str, float]:
    """What K heads' scores of N pairs, (N, K) each, say beyond their mean's accuracy: the
    heads' own accuracy on average, the mean spread of a pair's margin over the heads, and the
    mean's accuracy on the half of the pairs the heads agree on most against the other half
    (an uncertainty worth routing by ranks those apart)."""
    margins = chosen - rejected
    heads = margins.shape[1]

    def accuracy(values: torch.Tensor) -> float:
        right = (values > 0).double() + (0.5 * (values == 0).double() if ties_half else 0)
        return float(right.mean()) if len(values) else float("nan")

    spread = margins.std(dim=1) if heads > 1 else torch.zeros(len(margins))
    order = torch.argsort(spread, stable=True)
    half = len(order) // 2
    mean = margins.mean(dim=1)
    return {
        "ensemble_heads": float(heads),
        "ensemble_head_accuracy": sum(accuracy(margins[:, k]) for k in range(heads)) / heads,
        "ensemble_spread": float(spread.mean()) if len(spread) else float("nan"),
        "ensemble_confident_half_accuracy": accuracy(mean[order[:half]]),
        "ensemble_uncertain_half_accuracy": accuracy(mean[order[half:]]),
    }
