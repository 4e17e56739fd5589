"""Output serializers of the quality report: they render `annotation.quality.report.figures`'
frozen dataclasses field by field, so the OpenAPI schema (and the TypeScript types generated
from it) describe every figure. Every figure may be null (undefined for lack of data), never
NaN."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import Direction
from rest_framework import serializers

from annotation.quality.report.figures import RATER_FLAGS, QualityReport

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema


def _share() -> serializers.FloatField:
    return serializers.FloatField(allow_null=True)


class QualityEstimateSerializer(serializers.Serializer):
    """A statistic with its 95 % interval and the number of units it rests on."""

    value = _share()
    ci_low = _share()
    ci_high = _share()
    n = serializers.IntegerField()


class QualityTestedEstimateSerializer(QualityEstimateSerializer):
    """One rater's test: a proportion, its p-value, the Holm-adjusted p-value and the flag."""

    p_value = _share()
    p_adjusted = _share()
    flagged = serializers.BooleanField()


class QualityLengthTestSerializer(QualityTestedEstimateSerializer):
    slope = serializers.FloatField(
        allow_null=True, help_text="Log-odds shift towards the longer response; > 0 prefers it."
    )
    slope_se = _share()


class QualityGoldAccuracySerializer(QualityEstimateSerializer):
    items = serializers.IntegerField(help_text="Gold judgments made (n counts their pairs).")


class QualitySelfConsistencySerializer(QualityEstimateSerializer):
    repeats = serializers.IntegerField(help_text="Repeated tasks (n counts their pairs).")


class QualityPooledPositionBiasSerializer(QualityEstimateSerializer):
    p_value = serializers.FloatField(help_text="Exact two-sided binomial test against 0.5.")


class QualitySlopedEstimateSerializer(QualityEstimateSerializer):
    slope = _share()
    slope_se = _share()


class QualitySettingsSerializer(serializers.Serializer):
    """The settings the report was computed with, and the references raters were tested
    against."""

    test_level = serializers.FloatField()
    min_judgments = serializers.IntegerField()
    outlier_margin = serializers.FloatField()
    fast_share_allowed = serializers.FloatField()
    straight_line_share = serializers.FloatField()
    min_group_raters = serializers.IntegerField()
    n_boot = serializers.IntegerField()
    seed = serializers.IntegerField()
    reading_floor_ms_per_char = serializers.FloatField()
    gold_threshold = _share()
    gold_min_items = serializers.IntegerField()
    loo_reference = _share()
    length_slope_reference = _share()


class QualityAgreementSerializer(serializers.Serializer):
    percent_agreement = QualityEstimateSerializer()
    percent_agreement_no_ties = QualityEstimateSerializer()
    alpha_pairwise = QualityEstimateSerializer()
    fleiss_kappa = QualityEstimateSerializer()
    alpha_ranks = QualityEstimateSerializer()
    kendalls_w = QualityEstimateSerializer(
        allow_null=True, help_text="Only when some judgments rank three or more responses."
    )
    consensus_agreement = QualityEstimateSerializer(
        help_text="How often a rater's decided verdict on a pair matches the other raters' "
        "decided majority (leave-one-out, ties left out), with a 95 % interval clustered by "
        "task: the human figure a reward model's held-out consensus accuracy is set beside."
    )


class QualityConsensusSerializer(serializers.Serializer):
    tasks = serializers.IntegerField()
    mean_top_probability = _share()
    clear_top_share = serializers.FloatField(
        allow_null=True,
        help_text="Share of tasks whose best response beats the runner-up with fitted "
        "probability >= 0.75.",
    )


class QualityOverTimePointSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="ISO date-time of the period's start.")
    judgments = serializers.IntegerField()
    percent_agreement = QualityEstimateSerializer()
    alpha_pairwise = QualityEstimateSerializer()


class QualityPooledFiguresSerializer(serializers.Serializer):
    """A set of raters' figures pooled."""

    raters = serializers.IntegerField()
    judgments = serializers.IntegerField()
    loo_agreement = QualityEstimateSerializer()
    position_bias = QualityPooledPositionBiasSerializer()
    length_bias = QualityEstimateSerializer()
    fast_share = QualityEstimateSerializer()
    flagged_raters = serializers.IntegerField()


class QualityCampaignFiguresSerializer(QualityPooledFiguresSerializer):
    length_bias = QualitySlopedEstimateSerializer()


class QualityGroupFiguresSerializer(QualityPooledFiguresSerializer):
    """A pool's or a self-reported group's figures pooled."""

    name = serializers.CharField()


class CampaignFiguresField(serializers.Field):
    """Everyone pooled, or {} before the first judgment (what the API has always sent)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: QualityReport) -> dict[str, Any]:
        if value.campaign is None:
            return {}
        return dict(QualityCampaignFiguresSerializer(value.campaign).data)


class CampaignFiguresFieldSchema(OpenApiSerializerFieldExtension):
    """The campaign's figures in the schema: the figures' component, or an empty object."""

    target_class = CampaignFiguresField

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Direction) -> dict[str, Any]:
        figures = auto_schema.resolve_serializer(QualityCampaignFiguresSerializer, direction)
        nobody = {"type": "object", "additionalProperties": False, "maxProperties": 0}
        return {"oneOf": [figures.ref, nobody]}


class QualityComparisonSerializer(serializers.Serializer):
    groups = QualityGroupFiguresSerializer(many=True)
    left_out = serializers.ListField(
        child=serializers.CharField(), help_text="Groups too small to compare."
    )
    loo_agreement_p_value = _share()
    position_bias_p_value = _share()


class QualityRaterRowSerializer(serializers.Serializer):
    rater_id = serializers.IntegerField()
    username = serializers.CharField()
    status = serializers.CharField()
    pools = serializers.ListField(child=serializers.CharField())
    judgments = serializers.IntegerField()
    tested = serializers.BooleanField(help_text="Enough judgments to be tested.")
    loo_agreement = QualityTestedEstimateSerializer()
    gold_accuracy = QualityGoldAccuracySerializer()
    median_time_ms = _share()
    fast_share = QualityTestedEstimateSerializer()
    straight_lining = QualityTestedEstimateSerializer()
    self_consistency = QualitySelfConsistencySerializer()
    position_bias = QualityTestedEstimateSerializer()
    length_bias = QualityLengthTestSerializer()
    flags = serializers.ListField(child=serializers.ChoiceField(choices=RATER_FLAGS))


class QualityJudgeRowSerializer(serializers.Serializer):
    """An LLM judge scored like a rater (every pair asked in both orders)."""

    judge = serializers.CharField()
    verdicts = serializers.IntegerField()
    order_consistency = QualityEstimateSerializer(
        help_text="Verdicts whose two orders pick the same answer."
    )
    consensus_agreement = QualityEstimateSerializer(
        help_text="Order-consistent verdicts that agree with the raters' decided majority."
    )
    debiased_agreement = QualityEstimateSerializer(
        help_text="Every verdict, by its log-odds averaged over both orders, against that majority."
    )
    position_bias = QualityEstimateSerializer(
        help_text="Share of calls (two per verdict) that picked the answer shown first."
    )
    length_bias = QualityEstimateSerializer(
        help_text="Order-consistent verdicts on pairs of unequal length that chose the longer."
    )


class QualityReportSerializer(serializers.Serializer):
    """The campaign's quality report."""

    generated_at = serializers.CharField(help_text="ISO date-time.")
    judgments = serializers.IntegerField()
    pairs = serializers.IntegerField()
    raters = serializers.IntegerField()
    settings = QualitySettingsSerializer()
    agreement = QualityAgreementSerializer()
    consensus = QualityConsensusSerializer()
    over_time = QualityOverTimePointSerializer(many=True)
    campaign = CampaignFiguresField()
    pools = QualityComparisonSerializer()
    demographics = serializers.DictField(
        child=QualityComparisonSerializer(),
        help_text="Self-reported attribute (consented raters only) -> its groups compared.",
    )
    rater_rows = QualityRaterRowSerializer(many=True)
    flagged_raters = serializers.ListField(child=serializers.IntegerField())
    judges = QualityJudgeRowSerializer(many=True)
    campaign_id = serializers.IntegerField(allow_null=True)
    campaign_name = serializers.CharField()
