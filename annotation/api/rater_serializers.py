"""What raters send and receive. Rater payloads carry no model names, no response ids and no
other rater's answers: responses are labelled A, B, C... in the rater's own display order."""

from __future__ import annotations

from rest_framework import serializers

from annotation.models import FLAG_CHOICES, RESPONSE_FLAG_CHOICES, Strength


class MessageSerializer(serializers.Serializer):
    role = serializers.CharField()
    content = serializers.CharField()


class LabelledResponseSerializer(serializers.Serializer):
    # The response's letter (A, B, ...): a field named like DRF's Field.label attribute.
    label = serializers.CharField()  # type: ignore[assignment]
    text = serializers.CharField()


class RaterCampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    guidelines = serializers.CharField()
    judgment_mode = serializers.CharField()


class AssignmentOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    campaign = RaterCampaignSerializer()
    conversation = MessageSerializer(many=True)
    responses = LabelledResponseSerializer(many=True)
    leased_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    strengths = serializers.ListField(child=serializers.CharField())
    flags = serializers.ListField(child=serializers.CharField(), help_text="Flags on the set.")
    response_flags = serializers.ListField(
        child=serializers.CharField(), help_text="Flags a single response may carry."
    )


class SubmitInSerializer(serializers.Serializer):
    ranking = serializers.JSONField(
        help_text="Tiers of labels, best first; a tier with several labels is a tie, "
        'e.g. [["B"], ["A", "C"], ["D"]].'
    )
    idempotency_key = serializers.RegexField(
        r"^[A-Za-z0-9_.:-]{8,100}$",
        help_text="Client-chosen key; a retry with the same key returns the first result.",
    )
    strength = serializers.ChoiceField(choices=Strength.choices, required=False, allow_blank=True)
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=FLAG_CHOICES), required=False, max_length=4
    )
    response_flags = serializers.DictField(
        child=serializers.ListField(
            child=serializers.ChoiceField(choices=RESPONSE_FLAG_CHOICES), max_length=2
        ),
        required=False,
        help_text='Flags on single responses, by label, e.g. {"B": ["unsafe"]}.',
    )
    rationale = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    client_time_ms = serializers.IntegerField(required=False, min_value=0, allow_null=True)


class SubmitOutSerializer(serializers.Serializer):
    judgment_id = serializers.IntegerField()
    assignment_id = serializers.IntegerField()
    is_surplus = serializers.BooleanField()
    was_late = serializers.BooleanField()
    replayed = serializers.BooleanField()
    submitted_at = serializers.DateTimeField()


class SkipInSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class SkipOutSerializer(serializers.Serializer):
    assignment_id = serializers.IntegerField()
    status = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField()
    status = serializers.CharField()


class MyStatsSerializer(serializers.Serializer):
    submitted_total = serializers.IntegerField()
    submitted_today = serializers.IntegerField()
    skipped_total = serializers.IntegerField()
    tasks_available = serializers.IntegerField()
    has_live_lease = serializers.BooleanField()
