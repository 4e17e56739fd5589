"""PPO's value model with full weights: a sequence-classification model (the reward model
when it reads the policy's tokens, else the policy with a fresh head) read at every position.
(With LoRA the value head sits on the policy's own trunk instead: ppo_lora.TrunkValue.)"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel

from training.pipeline.errors import PipelineError


def backbone_hidden(
    model: PreTrainedModel, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor
) -> torch.Tensor:
    """The last hidden states of `model`'s backbone (its head left out) at every position,
    with the positions given (left padding shifts them) and no KV cache."""
    backbone = getattr(model, model.base_model_prefix)
    hidden: torch.Tensor = backbone(
        input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=False
    ).last_hidden_state
    return hidden


class ValueModel(nn.Module):
    """A sequence-classification model's backbone and head, read at every position."""

    def __init__(self, classifier: PreTrainedModel) -> None:
        super().__init__()
        self.classifier = classifier
        head = getattr(classifier, "score", None) or getattr(classifier, "classifier", None)
        if head is None:
            raise PipelineError(f"{type(classifier).__name__} has no score head to use for values")
        if getattr(head, "out_features", 1) > 1:  # an ensemble reward model: their mean
            mean = nn.Linear(head.in_features, 1, bias=False)
            with torch.no_grad():
                mean.weight.copy_(head.weight.mean(dim=0, keepdim=True))
            # in the classifier, so a checkpoint saves (and a resume loads) the one head
            setattr(classifier, "score" if hasattr(classifier, "score") else "classifier", mean)
            classifier.config.num_labels = 1
            head = mean
        self.head = head

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor
    ) -> torch.Tensor:
        hidden = backbone_hidden(self.classifier, input_ids, attention_mask, positions)
        return self.head(hidden).squeeze(-1).float()
