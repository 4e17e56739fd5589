"""The reward-model ceiling's serializers: the human agreement figure beside the reward
model's held-out accuracy, for GET /api/v1/training/ceiling/."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from training.api.serializers import CampaignRefSerializer, VersionRefSerializer


class CeilingQuerySerializer(serializers.Serializer[Any]):
    campaign = serializers.IntegerField()


class HumanAgreementSerializer(serializers.Serializer[Any]):
    percent = serializers.FloatField(allow_null=True, help_text="Every rater pair, ties included.")
    alpha = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField()
    consensus = serializers.FloatField(
        allow_null=True,
        help_text="Like for like with the reward model: how often a rater's decided verdict "
        "matches the other raters' decided majority (leave-one-out, ties left out).",
    )
    consensus_ci_low = serializers.FloatField(allow_null=True)
    consensus_ci_high = serializers.FloatField(allow_null=True)
    consensus_n = serializers.IntegerField(help_text="Ratings compared.")


class RewardModelCeilingSerializer(serializers.Serializer[Any]):
    version = VersionRefSerializer(allow_null=True)
    val_accuracy = serializers.FloatField(allow_null=True)
    val_ci_low = serializers.FloatField(allow_null=True)
    val_ci_high = serializers.FloatField(allow_null=True)


class CeilingSerializer(serializers.Serializer[Any]):
    campaign = CampaignRefSerializer()
    human_agreement = HumanAgreementSerializer()
    reward_model = RewardModelCeilingSerializer()
    verdict = serializers.ChoiceField(
        choices=["above", "at", "below", "unknown"],
        help_text="The reward model against the human figure, only as far as both 95 % "
        "intervals allow: above or below when they do not overlap, at when they do.",
    )
