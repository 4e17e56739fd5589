"""Input and output shapes of the training API (docs/api.md, "Training"). Output serializers
only render; every rule about what a run or schedule may be lives in training.services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotation.models import Campaign
from annotation.selectors.safety import UNSAFE_TREATMENTS
from training.api.watch_serializers import WatchSerializer, WatchWarningSerializer
from training.hyperparameters import PARAMS
from training.models import (
    GATE_MIN_COMPARISONS,
    POLICY_KINDS,
    DatasetMode,
    ModelVersion,
    RunKind,
    RunStatus,
    TrainingRun,
    TrainingSchedule,
    TrainingWorker,
    VersionKind,
)
from training.services import SCHEDULE_FIELDS


class _Strict(serializers.Serializer[Any]):
    """Refuses fields it does not know instead of dropping them silently."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class CampaignRefSerializer(serializers.Serializer[Campaign]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class VersionRefSerializer(serializers.Serializer[ModelVersion]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=VersionKind.choices)


class DatasetSerializer(_Strict):
    """Which preferences a reward or DPO run trains on. On input every field is optional."""

    mode = serializers.ChoiceField(choices=DatasetMode.choices, required=False)
    campaign_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    since = serializers.DateTimeField(allow_null=True, required=False)
    until = serializers.DateTimeField(allow_null=True, required=False)
    pool_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    min_rater_quality = serializers.FloatField(
        allow_null=True, required=False, min_value=0.0, max_value=1.0
    )
    exclude_paused = serializers.BooleanField(required=False)
    exclude_gold = serializers.BooleanField(required=False)
    exclude_all_bad = serializers.BooleanField(
        required=False,
        help_text="Leave out judgments flagged 'all responses are bad' (default true): their "
        "ranking orders answers the rater rejected as a whole.",
    )
    model_labels = serializers.BooleanField(
        required=False,
        help_text="Also train on the pairs the reward model labelled under the campaign's "
        "uncertainty routing (default false: people's judgments only).",
    )
    unsafe = serializers.ChoiceField(
        choices=UNSAFE_TREATMENTS,
        required=False,
        help_text="What a response a rater flagged unsafe does to that judgment's pairs: "
        "'below' (default) puts it below every safe response, 'drop' leaves its pairs out, "
        "'ignore' keeps the ranking as it is, 'safety' keeps only the pairs of one safe and one "
        "unsafe response (a safety preference set).",
    )


class DatasetFiltersSerializer(DatasetSerializer):
    """A run's dataset as stored: every filter filled in (training.datasets.normalize_dataset).
    Output only; its fields are the input's, all required, so the schema says they are there."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        for field in fields.values():
            field.required = True
        return fields


# A hyperparameter's value: JSON has no other kinds of option; null where a default is unset.
HYPERPARAMETER_VALUE = {
    "oneOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}],
    "nullable": True,
}
HYPERPARAMETERS = {"type": "object", "additionalProperties": HYPERPARAMETER_VALUE}


@extend_schema_field(HYPERPARAMETERS)
class HyperparametersField(serializers.DictField):
    """Option name -> value: a number, a string or a flag."""


@extend_schema_field(
    {"type": "object", "properties": dict.fromkeys(RunKind.values, HYPERPARAMETERS)}
)
class HyperparametersByKindField(serializers.DictField):
    """Run kind -> its hyperparameters, each kind optional."""


class SnapshotSerializer(serializers.Serializer[Any]):
    hash = serializers.CharField()
    size = serializers.IntegerField()


class RunSerializer(serializers.ModelSerializer[TrainingRun]):
    parent_version = VersionRefSerializer(allow_null=True)
    reward_version = VersionRefSerializer(allow_null=True)
    compare_version = VersionRefSerializer(allow_null=True)
    check_reward_version = VersionRefSerializer(allow_null=True)
    campaign = CampaignRefSerializer(allow_null=True)
    schedule_id = serializers.IntegerField(allow_null=True)
    follow_up = serializers.ListField(child=serializers.ChoiceField(choices=RunKind.choices))
    config = HyperparametersField()
    dataset = serializers.SerializerMethodField()
    snapshot = serializers.SerializerMethodField()
    result = serializers.DictField()
    watch = serializers.SerializerMethodField()
    produced_versions = VersionRefSerializer(many=True)
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "kind",
            "status",
            "config",
            "base",
            "parent_version",
            "reward_version",
            "compare_version",
            "check_reward_version",
            "campaign",
            "schedule_id",
            "follow_up",
            "dataset",
            "snapshot",
            "progress",
            "step",
            "total_steps",
            "eta_s",
            "heartbeat_at",
            "attempts",
            "max_attempts",
            "last_checkpoint",
            "cancel_requested",
            "error",
            "log_tail",
            "result",
            "watch",
            "produced_versions",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(DatasetFiltersSerializer(allow_null=True))
    def get_dataset(self, run: TrainingRun) -> dict[str, Any] | None:
        return run.dataset or None

    @extend_schema_field(SnapshotSerializer)
    def get_snapshot(self, run: TrainingRun) -> dict[str, Any]:
        return {"hash": run.snapshot_hash, "size": run.snapshot_size}

    @extend_schema_field(WatchSerializer(allow_null=True))
    def get_watch(self, run: TrainingRun) -> dict[str, Any] | None:
        watch = (run.result or {}).get("watch")
        if not isinstance(watch, dict):
            return None
        # a watch that failed (or was stored partly) still reads as one
        complete = {"reward_kl": [], "check_reward_kl": [], "warnings": [], **watch}
        return dict(WatchSerializer(complete).data)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_created_by(self, run: TrainingRun) -> str | None:
        return run.created_by.get_username() if run.created_by else None


class RunCreateSerializer(_Strict):
    kind = serializers.ChoiceField(choices=RunKind.choices)
    base = serializers.CharField(max_length=500, required=False, allow_blank=True)
    parent_version_id = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(), required=False, allow_null=True
    )
    reward_version_id = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(), required=False, allow_null=True
    )
    compare_version_id = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(), required=False, allow_null=True
    )
    check_reward_version_id = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(),
        required=False,
        allow_null=True,
        help_text="Policy rounds (PPO, GRPO, RLOO, DPO): a second reward model for the "
        "reward-hacking watch.",
    )
    campaign_id = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.all(), required=False, allow_null=True
    )
    dataset = DatasetSerializer(required=False)
    hyperparameters = HyperparametersField(required=False)
    idempotency_key = serializers.CharField(max_length=200, required=False, allow_blank=True)


class RunListQuerySerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=RunStatus.choices, required=False)
    kind = serializers.ChoiceField(choices=RunKind.choices, required=False)
    campaign = serializers.IntegerField(required=False)


class MetricsQuerySerializer(serializers.Serializer[Any]):
    after_step = serializers.IntegerField(required=False, default=-1, min_value=-1)


class MetricSeriesSerializer(serializers.Serializer[Any]):
    series = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.FloatField())),
        help_text="Metric name -> [[step, value], ...] in step order.",
    )


class HyperparameterLimitSerializer(serializers.Serializer[Any]):
    type = serializers.ChoiceField(
        choices=["boolean", "integer", "number", "choice"],
        help_text="JSON cannot tell 1.0 from 1: integer marks the whole-number ones.",
    )
    minimum = serializers.FloatField(allow_null=True)
    maximum = serializers.FloatField(allow_null=True)
    choices = serializers.ListField(child=serializers.CharField(), allow_null=True)


class TrainingWorkerSerializer(serializers.ModelSerializer[TrainingWorker]):
    can_train = serializers.BooleanField(read_only=True)
    missing = serializers.ListField(child=serializers.CharField(), read_only=True)
    processes = serializers.IntegerField(
        read_only=True,
        help_text="Processes per reward, DPO, PPO, GRPO or RLOO run (its TRAINING_PROCESSES).",
    )
    strategies = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Strategies a reward or DPO run may ask for on it (its TRAINING_STRATEGY).",
    )

    class Meta:
        model = TrainingWorker
        fields = [
            *("hostname", "python", "missing", "can_train", "processes", "strategies"),
            "seen_at",
        ]


class OptionsSerializer(serializers.Serializer[Any]):
    defaults = HyperparametersByKindField(child=HyperparametersField())
    help = serializers.DictField(child=serializers.DictField(child=serializers.CharField()))
    limits = serializers.DictField(
        child=serializers.DictField(child=HyperparameterLimitSerializer()),
        help_text="Run kind -> hyperparameter -> its type, range and choices, as the API checks.",
    )
    bases = serializers.ListField(child=serializers.CharField())
    campaigns = CampaignRefSerializer(many=True)
    pools = CampaignRefSerializer(many=True)
    workers = TrainingWorkerSerializer(
        many=True, help_text="Training workers as they reported when they started."
    )


class ProducedBySerializer(serializers.Serializer[TrainingRun]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=RunKind.choices)
    status = serializers.ChoiceField(choices=RunStatus.choices)


class VersionSerializer(serializers.ModelSerializer[ModelVersion]):
    parent = VersionRefSerializer(allow_null=True)
    produced_by = ProducedBySerializer(allow_null=True)
    campaign = CampaignRefSerializer(allow_null=True)
    snapshot = serializers.SerializerMethodField()
    dataset = serializers.SerializerMethodField()
    metrics = serializers.DictField()
    watch_warnings = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "name",
            "kind",
            "base",
            "artifact_path",
            "parent",
            "produced_by",
            "campaign",
            "snapshot",
            "dataset",
            "metrics",
            "watch_warnings",
            "promotion",
            "promotion_detail",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(WatchWarningSerializer(many=True))
    def get_watch_warnings(self, version: ModelVersion) -> list[dict[str, Any]]:
        """What the reward-hacking watch of the round that produced it warned about."""
        warnings = (version.metrics or {}).get("watch_warnings") or []
        return list(WatchWarningSerializer(warnings, many=True).data)

    @extend_schema_field(SnapshotSerializer)
    def get_snapshot(self, version: ModelVersion) -> dict[str, Any]:
        run = version.produced_by
        return {"hash": version.snapshot_hash, "size": run.snapshot_size if run else 0}

    @extend_schema_field(DatasetFiltersSerializer(allow_null=True))
    def get_dataset(self, version: ModelVersion) -> dict[str, Any] | None:
        run = version.produced_by
        return (run.dataset or None) if run else None


class LineageEntrySerializer(VersionRefSerializer):
    produced_by_run_id = serializers.IntegerField(allow_null=True, source="produced_by_id")
    snapshot_hash = serializers.CharField()
    dataset = serializers.SerializerMethodField()

    @extend_schema_field(DatasetFiltersSerializer(allow_null=True))
    def get_dataset(self, version: ModelVersion) -> dict[str, Any] | None:
        run = version.produced_by
        return (run.dataset or None) if run else None


class VersionDetailSerializer(VersionSerializer):
    lineage = serializers.SerializerMethodField()

    class Meta(VersionSerializer.Meta):
        fields = [*VersionSerializer.Meta.fields, "lineage"]
        read_only_fields = fields

    @extend_schema_field(LineageEntrySerializer(many=True))
    def get_lineage(self, version: ModelVersion) -> list[dict[str, Any]]:
        return list(LineageEntrySerializer(self.context["lineage"], many=True).data)


class VersionListQuerySerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=VersionKind.choices, required=False)


class CompareQuerySerializer(serializers.Serializer[Any]):
    a = serializers.IntegerField()
    b = serializers.IntegerField()


class CompareMetricSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    a = serializers.FloatField(allow_null=True)
    b = serializers.FloatField(allow_null=True)


class CompareSampleSerializer(serializers.Serializer[Any]):
    prompt = serializers.CharField(allow_blank=True)
    a = serializers.CharField(allow_blank=True)
    b = serializers.CharField(allow_blank=True)
    reward_a = serializers.FloatField(allow_null=True)
    reward_b = serializers.FloatField(allow_null=True)


class ComparisonSerializer(serializers.Serializer[Any]):
    a = VersionSerializer()
    b = VersionSerializer()
    metrics = CompareMetricSerializer(many=True)
    samples = CompareSampleSerializer(many=True)
    evaluation_run = RunSerializer(allow_null=True)


class ScheduleSerializer(serializers.ModelSerializer[TrainingSchedule]):
    campaign = CampaignRefSerializer()
    check_reward_version = VersionRefSerializer(
        allow_null=True, help_text="The second reward model each round's watch scores with."
    )
    dataset = DatasetSerializer()
    hyperparameters = HyperparametersByKindField(
        child=HyperparametersField(), help_text="Overrides per run kind."
    )
    arena_campaign = CampaignRefSerializer(
        allow_null=True, help_text="The promotion gate's arena (none: no gate)."
    )
    judgments_since_last_fire = serializers.SerializerMethodField()

    class Meta:
        model = TrainingSchedule
        fields = [
            "id",
            "campaign",
            *SCHEDULE_FIELDS,
            "judgments_at_last_fire",
            "judgments_since_last_fire",
            "last_fired_at",
        ]
        read_only_fields = fields

    def get_judgments_since_last_fire(self, schedule: TrainingSchedule) -> int:
        counts: dict[int, int] = self.context.get("judgment_counts", {})
        return max(counts.get(schedule.pk, 0) - schedule.judgments_at_last_fire, 0)


def _declared_integer(kind: str, name: str) -> serializers.IntegerField:
    """An optional whole number with the range the run kind declares for `name`."""
    low, high = PARAMS[kind][name].minimum, PARAMS[kind][name].maximum
    if low is None or high is None:
        raise ValueError(f"{kind} {name} declares no range")
    return serializers.IntegerField(required=False, min_value=int(low), max_value=int(high))


class ScheduleUpdateSerializer(_Strict):
    enabled = serializers.BooleanField(required=False)
    every_n_judgments = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    cron = serializers.CharField(required=False, allow_blank=True, max_length=100)
    policy_kind = serializers.ChoiceField(
        choices=[(kind.value, kind.name) for kind in POLICY_KINDS], required=False
    )
    # The generation run's own `prompts` and `k`, with the ranges declared for them.
    generate_prompts = _declared_integer("generate", "prompts")
    responses_per_prompt = _declared_integer("generate", "k")
    dataset = DatasetSerializer(required=False)
    hyperparameters = HyperparametersByKindField(child=HyperparametersField(), required=False)
    check_reward_version_id = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(),
        source="check_reward_version",
        required=False,
        allow_null=True,
        help_text="A second reward model for each policy round's reward-hacking watch.",
    )
    arena_campaign_id = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.filter(is_arena=True),
        source="arena_campaign",
        required=False,
        allow_null=True,
        help_text="Promotion gate: a new policy must beat its parent in this arena first.",
        error_messages={"does_not_exist": "Campaign {pk_value} is not an arena campaign."},
    )
    gate_max_comparisons = serializers.IntegerField(
        required=False, min_value=GATE_MIN_COMPARISONS, max_value=100000
    )


class ScheduleCreateSerializer(ScheduleUpdateSerializer):
    campaign_id = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all())
