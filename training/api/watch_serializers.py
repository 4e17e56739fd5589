"""Output shapes of the reward-hacking watch (docs/training.md, "Reward-hacking watch"): a
round's watch figures and warnings, and the chart "Length preference: raters, reward model,
policy drift"."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from training.models import POLICY_KINDS
from training.pipeline.options import KL_FROM
from training.pipeline.watch import WARNING_CODES


class WatchWarningSerializer(serializers.Serializer[Any]):
    code = serializers.ChoiceField(choices=list(WARNING_CODES))
    detail = serializers.CharField()


def _figure(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


class WatchSerializer(serializers.Serializer[Any]):
    """A PPO or DPO round's reward-hacking watch (docs/training.md): the new policy and its
    parent answered the same prompts the same way; null where the round did not measure it."""

    prompts = _figure("Prompts both answered (0 or null: no watch sampling).")
    held_out_prompts = _figure("Of them, prompts the round never trained on.")
    length_chars = _figure("The new policy's mean answer length, in characters.")
    parent_length_chars = _figure("The parent's, on the same prompts.")
    length_chars_se = _figure("Standard error of the paired difference in characters.")
    length_ratio = _figure("length_chars / parent_length_chars.")
    length_tokens = _figure("The new policy's mean answer length, in tokens.")
    parent_length_tokens = _figure("The parent's, in tokens.")
    kl = _figure("KL from the parent, nats per answer, at the end of the round.")
    kl_source = serializers.ChoiceField(choices=["samples", "last step"], allow_null=True)
    kl_budget = _figure("The round's KL budget (PPO's target_kl); null for DPO.")
    kl_to_base = _figure(
        "KL from the lineage's base model (the parent's when the parent is the base), nats per "
        "answer: the drift over all rounds so far."
    )
    kl_from = serializers.ChoiceField(
        choices=list(KL_FROM),
        default="parent",
        help_text="What the round's KL term and budget counted from.",
    )
    kl_to_base_error = serializers.CharField(
        allow_null=True,
        default=None,
        help_text="Why the KL from the base could not be measured (the rest of the watch was).",
    )
    reward_gain = _figure(
        "The proxy reward's rise (PPO: new minus parent on the prompts; DPO: "
        "the implicit reward margin, last step minus first)."
    )
    proxy_win_rate = _figure("Win rate over the parent under the round's own reward model.")
    check_win_rate = _figure("Win rate over the parent under the second reward model.")
    check_win_rate_se = _figure("Its standard error.")
    reward_kl = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()),
        help_text="[KL, mean reward] at each step of a PPO, GRPO or RLOO round.",
    )
    check_reward_kl = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()),
        default=list,
        help_text="[KL, the second reward model's mean reward] at each step of a PPO, GRPO or "
        "RLOO round; empty when the run names no second reward model.",
    )
    warnings = WatchWarningSerializer(many=True)
    seconds = serializers.FloatField(
        allow_null=True,
        default=None,
        help_text="What the watch cost: both policies answering and being scored, in seconds.",
    )
    error = serializers.CharField(
        allow_null=True,
        default=None,
        help_text="Why the watch could not measure the round (the round itself succeeded).",
    )


class ChartRefSerializer(serializers.Serializer[Any]):
    """A version or campaign the chart names."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class PolicyRoundSerializer(serializers.Serializer[Any]):
    version = ChartRefSerializer()
    run_id = serializers.IntegerField(source="run.pk")
    kind = serializers.ChoiceField(
        choices=[(kind.value, kind.name) for kind in POLICY_KINDS], source="run.kind"
    )
    reward_version = ChartRefSerializer(allow_null=True)
    reward_slope = serializers.FloatField(
        allow_null=True,
        help_text="The round's reward model's length slope on its validation pairs, in the "
        "raters' units (log-odds towards the longer answer beyond the raters' verdict).",
    )
    reward_slope_se = serializers.FloatField(allow_null=True)
    length_ratio = serializers.FloatField(
        allow_null=True, help_text="The new policy's mean answer length over its parent's."
    )
    warnings = serializers.ListField(
        child=serializers.ChoiceField(choices=list(WARNING_CODES)),
        help_text="The codes of the round's watch warnings.",
    )
    kl_to_parent = serializers.FloatField(
        allow_null=True,
        help_text="The new policy's KL from its parent on its own answers, nats per answer.",
    )
    kl_to_base = serializers.FloatField(
        allow_null=True,
        help_text="The new policy's KL from the lineage's base model (cumulative drift), nats "
        "per answer; null for a round that measured none.",
    )
    kl_budget = serializers.FloatField(
        allow_null=True, help_text="The round's KL budget (PPO, GRPO, RLOO), nats per answer."
    )
    kl_from = serializers.ChoiceField(
        choices=list(KL_FROM),
        help_text="What the round's KL term and budget counted from: its parent or the base.",
    )


class LengthPreferenceSerializer(serializers.Serializer[Any]):
    version = ChartRefSerializer()
    campaign = ChartRefSerializer(allow_null=True)
    raters_slope = serializers.FloatField(
        allow_null=True,
        help_text="The campaign's length-bias slope from its quality report: log-odds towards "
        "the longer answer beyond the other raters' verdict, one fit over everyone.",
    )
    raters_slope_se = serializers.FloatField(allow_null=True)
    raters_pairs = serializers.IntegerField()
    rounds = PolicyRoundSerializer(many=True, help_text="Oldest round first.")
    length_drift_factor = serializers.FloatField(
        help_text="The watch warns when a round's length ratio is beyond this, either way."
    )
