"""Labels that come from models, not people: a reward-model ensemble's labels under uncertainty
routing, and an LLM judge's verdicts, each pair judged in both orders. Neither is ever a
judgment; `annotation.models` re-exports them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class LabelSource(models.TextChoices):
    MODEL = "model", "Reward-model ensemble"
    JUDGE = "judge", "Model judge"


class ModelLabel(models.Model):
    """A pair labelled by a model instead of people: never a judgment, never in agreement or
    quality figures, and training data only where a run's dataset asks for it."""

    campaign = models.ForeignKey(
        "annotation.Campaign", on_delete=models.CASCADE, related_name="model_labels"
    )
    prompt = models.ForeignKey("annotation.Prompt", on_delete=models.CASCADE, related_name="+")
    chosen = models.ForeignKey("annotation.Response", on_delete=models.CASCADE, related_name="+")
    rejected = models.ForeignKey("annotation.Response", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16, choices=LabelSource.choices)
    labeller = models.CharField(max_length=200, help_text="The model version's name.")
    # A training ModelVersion's id, not a foreign key: annotation never imports training.
    labeller_version_id = models.PositiveBigIntegerField(null=True, blank=True)
    margin = models.FloatField(
        help_text="Chosen over rejected: the heads' mean reward margin (source model) or the "
        "judge's mean log-odds over both orders (source judge)."
    )
    confidence = models.FloatField(
        help_text="|mean margin| / its spread over the heads (model); the smaller of the two "
        "orders' log-odds (judge)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "chosen", "rejected"], name="one_model_label_per_pair"
            ),
            models.CheckConstraint(
                condition=~Q(chosen=models.F("rejected")), name="model_label_has_two_sides"
            ),
        ]

    def __str__(self) -> str:
        return f"Model label {self.pk} ({self.source})"


class JudgeVerdict(models.Model):
    """One judge's verdict on a pair, asked twice: with `first` shown first, then second. Each
    order's figure is the judge's log-odds that `first` is the better answer. A verdict is
    order-consistent when both orders pick the same answer; it is scored against the raters'
    consensus in the quality report, like a rater."""

    campaign = models.ForeignKey(
        "annotation.Campaign", on_delete=models.CASCADE, related_name="judge_verdicts"
    )
    prompt = models.ForeignKey("annotation.Prompt", on_delete=models.CASCADE, related_name="+")
    first = models.ForeignKey("annotation.Response", on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey("annotation.Response", on_delete=models.CASCADE, related_name="+")
    judge = models.CharField(max_length=200, help_text="The judge model's name.")
    judge_version_id = models.PositiveBigIntegerField(null=True, blank=True)
    run_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The judge run.")
    first_shown_first = models.FloatField(help_text="Log-odds for `first`, shown first.")
    first_shown_second = models.FloatField(help_text="Log-odds for `first`, shown second.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "judge", "first", "second"], name="one_verdict_per_judge_pair"
            ),
            models.CheckConstraint(
                condition=Q(first__lt=models.F("second")), name="verdict_pair_in_id_order"
            ),
        ]

    def __str__(self) -> str:
        return f"Verdict {self.pk} ({self.judge})"

    @property
    def consistent(self) -> bool:
        """Both orders pick the same answer."""
        return self.first_shown_first * self.first_shown_second > 0

    @property
    def log_odds(self) -> float:
        """For `first`, averaged over the two orders (the position effect cancels)."""
        return (self.first_shown_first + self.first_shown_second) / 2
