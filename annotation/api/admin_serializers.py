"""Serializers for admins and ML engineers."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotation.exporting import EXPORT_FORMATS
from annotation.models import AuditEvent, Campaign, Judgment, JudgmentMode, RaterPool, Response
from annotation.selectors.safety import UNSAFE_TREATMENTS
from common.roles import Role

# Row ids are 64-bit: a larger one is a 400 here, not an overflow in the database driver.
MAX_ID = 2**63 - 1


class CampaignSerializer(serializers.ModelSerializer):
    # Annotated by the viewset's queryset; a campaign just created has none of them yet.
    task_count = serializers.IntegerField(read_only=True, default=0)
    complete_count = serializers.IntegerField(read_only=True, default=0)
    judgment_count = serializers.IntegerField(read_only=True, default=0)
    gold_count = serializers.IntegerField(read_only=True, default=0)
    model_label_count = serializers.IntegerField(
        read_only=True,
        default=0,
        help_text="Pairs labelled by the reward model instead of raters (uncertainty routing).",
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "guidelines",
            "responses_per_task",
            "overlap",
            "lease_ttl_s",
            "gold_rate",
            "onboarding_gold",
            "repeat_rate",
            "pause_gold_accuracy_below",
            "pause_gold_min_items",
            "reading_floor_ms_per_char",
            "judgment_mode",
            "status",
            "routing",
            "routing_confidence",
            "human_tasks_per_prompt",
            "judge_model",
            "is_arena",
            "created_at",
            "task_count",
            "complete_count",
            "judgment_count",
            "gold_count",
            "model_label_count",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {
            "responses_per_task": {"min_value": 2, "max_value": 16},
            "overlap": {"min_value": 1, "max_value": 100},
            "lease_ttl_s": {"min_value": 30, "max_value": 7 * 24 * 3600},
            "gold_rate": {"min_value": 0.0, "max_value": 1.0},
            "onboarding_gold": {"min_value": 0, "max_value": 1000},
            "repeat_rate": {"min_value": 0.0, "max_value": 0.5},
            "pause_gold_accuracy_below": {"min_value": 0.0, "max_value": 1.0},
            "pause_gold_min_items": {"min_value": 1, "max_value": 1000},
            "reading_floor_ms_per_char": {"min_value": 0.0, "max_value": 1000.0},
            "routing_confidence": {"min_value": 0.0, "max_value": 1000.0},
            "human_tasks_per_prompt": {"min_value": 0, "max_value": 1000},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        mode = attrs.get(
            "judgment_mode", getattr(self.instance, "judgment_mode", JudgmentMode.RANK)
        )
        k = attrs.get("responses_per_task", getattr(self.instance, "responses_per_task", 4))
        if mode == JudgmentMode.PAIRWISE and k != 2:
            raise serializers.ValidationError(
                {"responses_per_task": "A pairwise campaign has exactly 2 responses per task."},
                code="pairwise_needs_two",
            )
        arena = attrs.get("is_arena", getattr(self.instance, "is_arena", False))
        if arena and mode != JudgmentMode.PAIRWISE:
            raise serializers.ValidationError(
                {"is_arena": "An arena compares two answers at a time: use pairwise mode."},
                code="arena_needs_pairwise",
            )
        return attrs


class ImportInSerializer(serializers.Serializer):
    file = serializers.FileField()
    # "source" names the data's origin here, shadowing DRF's Field.source attribute.
    source = serializers.CharField(  # type: ignore[assignment]
        required=False, max_length=200, allow_blank=True
    )


class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    reason = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    prompts = serializers.IntegerField()
    responses = serializers.IntegerField()
    tasks = serializers.IntegerField()
    judgments = serializers.IntegerField()
    merged_responses = serializers.IntegerField(
        help_text="Responses identical to another of their prompt's, merged into it: the task "
        "has one response fewer, and the response's metadata lists every generator."
    )
    # The import report's row errors, shadowing Serializer.errors.
    errors = RowErrorSerializer(many=True)  # type: ignore[assignment]


class ImportRejectedSerializer(ImportReportSerializer):
    """A refused import: the error's code and detail beside the report of its bad rows."""

    code = serializers.CharField()
    detail = serializers.CharField()


class PoolSerializer(serializers.ModelSerializer):
    member_ids: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        source="members", many=True, read_only=True
    )
    campaign_ids: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        source="campaigns", many=True, read_only=True
    )

    class Meta:
        model = RaterPool
        fields = ["id", "name", "description", "member_ids", "campaign_ids", "created_at"]
        read_only_fields = ["id", "created_at"]


class MembershipChangeSerializer(serializers.Serializer):
    add = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=10_000,
    )
    remove = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=10_000,
    )


class RaterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField()
    status = serializers.CharField()
    paused_reason = serializers.CharField()
    pool_ids = serializers.ListField(child=serializers.IntegerField())
    judgment_count = serializers.IntegerField()


class RaterCreateSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$")
    password = serializers.CharField(min_length=8, max_length=200, write_only=True)
    role = serializers.ChoiceField(choices=[r for r in Role.choices if r[0] != Role.EXTERNAL])

    def validate_username(self, value: str) -> str:
        if get_user_model().objects.filter(username=value).exists():
            raise serializers.ValidationError("This username is taken.", code="user_exists")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        candidate = get_user_model()(username=attrs["username"])
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError(
                {"password": error.messages}, code="weak_password"
            ) from error
        return attrs


class RoleInSerializer(serializers.Serializer):
    role = serializers.ChoiceField(
        choices=[r for r in Role.choices if r[0] != Role.EXTERNAL],
        help_text="The new role. Only admins change roles; the last active admin stays one.",
    )


class PauseInSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class FlaggedResponseSerializer(serializers.Serializer):
    response_id = serializers.IntegerField()
    flags = serializers.ListField(child=serializers.CharField())
    excerpt = serializers.CharField(help_text="The response's first 160 characters.")


EXCERPT_CHARS = 160


class JudgmentSerializer(serializers.ModelSerializer):
    campaign_id = serializers.IntegerField(source="task.campaign_id", read_only=True)
    rater_username = serializers.CharField(source="rater.username", read_only=True)
    flags = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="The rater's flags on the set."
    )
    flagged_responses = serializers.SerializerMethodField(
        help_text="The responses the rater flagged one by one, with the start of their text."
    )

    class Meta:
        model = Judgment
        fields = [
            "id",
            "task_id",
            "campaign_id",
            "assignment_id",
            "rater_id",
            "rater_username",
            "ranking",
            "strength",
            "flags",
            "flagged_responses",
            "rationale",
            "is_surplus",
            "was_late",
            "source",
            "server_time_ms",
            "client_time_ms",
            "submitted_at",
        ]

    @extend_schema_field(FlaggedResponseSerializer(many=True))
    def get_flagged_responses(self, judgment: Judgment) -> list[dict[str, Any]]:
        flagged = {int(rid): names for rid, names in (judgment.response_flags or {}).items()}
        if not flagged:
            return []
        texts = dict(Response.objects.filter(pk__in=flagged).values_list("pk", "text"))
        return [
            {"response_id": rid, "flags": names, "excerpt": texts.get(rid, "")[:EXCERPT_CHARS]}
            for rid, names in sorted(flagged.items())
        ]


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=sorted(EXPORT_FORMATS), default="trl")
    campaign = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False
    )
    rater = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False
    )
    pool = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False
    )
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    include_ties = serializers.BooleanField(default=False)
    pairs = serializers.ChoiceField(
        choices=["all", "consensus"],
        default="all",
        help_text="all: every judgment's pairs; consensus: per task, the Bradley-Terry "
        "consensus over all raters (margin = its log-odds).",
    )
    unsafe = serializers.ChoiceField(
        choices=UNSAFE_TREATMENTS,
        default="ignore",
        help_text="What a response flagged unsafe does to its judgment's pairs: 'ignore' "
        "(default: the pairs as ranked, flags in the rows), 'below' (the safe answer chosen), "
        "'drop' (a helpfulness set: no pair with an unsafe side), 'safety' (the safety set: "
        "only pairs of one safe and one unsafe answer, the safe one chosen; with pairs=all).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("unsafe") == "safety" and attrs.get("pairs") == "consensus":
            # a consensus fit ranks every answer of a task: its pairs cannot stay safe-vs-unsafe
            raise serializers.ValidationError(
                {"unsafe": ["The safety set is made of single judgments' pairs: use pairs=all."]}
            )
        return attrs


class AuditEventSerializer(serializers.ModelSerializer):
    actor_username = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "actor_id",
            "actor_username",
            "actor_name",
            "action",
            "target_type",
            "target_id",
            "target_name",
            "details",
            "created_at",
        ]


class TaskResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    generator = serializers.CharField()


class AdminTaskSerializer(serializers.Serializer):
    """A task as admins see it: ids, texts, generators, and its gold ranking if any."""

    id = serializers.IntegerField()
    prompt = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    responses = TaskResponseSerializer(many=True)
    status = serializers.CharField()
    submitted_count = serializers.IntegerField()
    required_judgments = serializers.IntegerField()
    is_gold = serializers.BooleanField()
    gold_ranking = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()), allow_null=True
    )


class GoldInSerializer(serializers.Serializer):
    ranking = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), allow_empty=False),
        allow_empty=False,
        help_text="Tiers of the task's response ids, best first; ids in one tier are tied.",
    )
