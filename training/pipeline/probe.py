"""The reward model's linear probe (LP-FT, Kumar et al. 2022): the score head fitted on the
frozen backbone's last-token features before fine-tuning; with an ensemble, each head on its
own bootstrap resample of the pairs (ensemble.py). And the padded, length-bucketed batches
every scoring pass reads."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from training.pipeline.data import length_buckets
from training.pipeline.errors import PipelineError


def padded_batches(
    sequences: Sequence[list[int]], pad_id: int, batch_size: int, device: torch.device
) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """(indices, ids, attention mask) per batch of similar lengths, right-padded."""
    lengths = [len(s) for s in sequences]
    for batch in length_buckets(lengths, batch_size, seed=0):
        width = max(lengths[i] for i in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, index in enumerate(batch):
            ids[row, : lengths[index]] = torch.tensor(sequences[index])
            mask[row, : lengths[index]] = 1
        yield batch, ids.to(device), mask.to(device)


@torch.no_grad()
def last_token_features(
    model: PreTrainedModel, sequences: Sequence[list[int]], bf16: bool, batch_size: int = 16
) -> torch.Tensor:
    """The backbone's final hidden state at each sequence's last token: what the score head
    of a sequence-classification model reads."""
    model.eval()
    device = next(model.parameters()).device
    backbone = getattr(model, model.base_model_prefix)
    features = torch.empty(len(sequences), model.config.hidden_size)
    pad = int(model.config.pad_token_id)
    for batch, ids, mask in padded_batches(sequences, pad, batch_size, device):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            hidden = backbone(input_ids=ids, attention_mask=mask).last_hidden_state
        # The rightmost token that is not padding, as the sequence-classification model picks.
        positions = torch.arange(ids.shape[1], device=device)
        last = ((ids != pad).long() * positions).argmax(dim=1)
        features[batch] = hidden[torch.arange(len(batch), device=device), last].float().cpu()
    return features


def fit_linear_head(
    differences: torch.Tensor,
    penalties: Sequence[float] = (1e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0),
    folds: int = 5,
    counts: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Bradley-Terry logistic regression on feature differences (chosen - rejected), L2
    penalty chosen by k-fold cross-validation accuracy on standardised features. Returns the
    weights for raw features and the fit's figures. `counts` weighs each pair (a bootstrap
    resample's): folds are dealt over the pairs, so no pair is on both sides of one."""
    raw = differences.double()
    weight = torch.ones(len(raw), dtype=torch.float64) if counts is None else counts.double()
    # The standard deviation with the counts as frequency weights (plain std with none).
    total = weight.sum()
    centre = (weight[:, None] * raw).sum(dim=0) / total
    variance = (weight[:, None] * (raw - centre) ** 2).sum(dim=0) / (total - 1).clamp(min=1)
    scale = variance.sqrt().clamp(min=1e-6)
    data = raw / scale
    fold_of = torch.arange(len(data)) % folds

    def fit(rows: torch.Tensor, penalty: float) -> torch.Tensor:
        weights = torch.zeros(data.shape[1], dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.LBFGS([weights], max_iter=200, line_search_fn="strong_wolfe")
        share = weight[rows] / weight[rows].sum().clamp(min=1e-12)

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = (F.softplus(-data[rows] @ weights) * share).sum()
            loss = loss + penalty * weights.square().sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        return weights.detach()

    def accuracy(weights: torch.Tensor, rows: torch.Tensor) -> float:
        right = (data[rows] @ weights > 0).double() * weight[rows]
        return float(right.sum() / weight[rows].sum().clamp(min=1e-12))

    everything = torch.ones(len(data), dtype=torch.bool)
    scores = {
        penalty: sum(accuracy(fit(fold_of != k, penalty), fold_of == k) for k in range(folds))
        / folds
        for penalty in penalties
    }
    # Among equally accurate penalties the strongest: smaller weights, less over-confident.
    best = max(scores, key=lambda penalty: (scores[penalty], penalty))
    weights = fit(everything, best)
    figures = {
        "probe_cv_accuracy": scores[best],
        "probe_penalty": best,
        "probe_train_accuracy": accuracy(weights, everything),
    }
    return (weights / scale).float(), figures


def initialise_head_by_probe(
    model: PreTrainedModel,
    rows: Sequence[dict[str, Any]],
    bf16: bool,
    counts: torch.Tensor | None = None,
) -> dict[str, float]:
    """Linear probing before fine-tuning (LP-FT, Kumar et al. 2022): fit the score head on the
    frozen backbone's features first, so fine-tuning starts from a head that already ranks
    pairs instead of a random one whose gradients distort the features. With `counts`
    (pairs, heads), each of an ensemble's heads is fitted on its own resample (its figures are
    the heads' mean)."""
    head = getattr(model, "score", None)
    heads = 1 if counts is None else counts.shape[1]
    if head is None or getattr(head, "bias", None) is not None or head.weight.shape[0] != heads:
        raise PipelineError("--head-init probe needs score heads without bias")
    started = time.perf_counter()
    sequences = [r["chosen_ids"] for r in rows] + [r["rejected_ids"] for r in rows]
    features = last_token_features(model, sequences, bf16)
    differences = features[: len(rows)] - features[len(rows) :]
    fitted = []
    for k in range(heads):
        fitted.append(fit_linear_head(differences, counts=None if counts is None else counts[:, k]))
    figures = {name: sum(f[name] for _, f in fitted) / heads for name in fitted[0][1]}
    # A probe no better than chance in cross-validation would only hand fine-tuning an
    # over-confident head: keep the random one then.
    used = figures["probe_cv_accuracy"] > 0.5
    if used:
        weights = torch.stack([w for w, _ in fitted])
        with torch.no_grad():
            head.weight.copy_(weights.to(head.weight.dtype))
    return {**figures, "probe_used": float(used), "probe_seconds": time.perf_counter() - started}
