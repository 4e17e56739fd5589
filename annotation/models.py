"""Annotation data model. The database itself enforces the promises raters rely on:
one judgment per assignment, one assignment (hence one live lease) per (task, rater), one
judgment per (task, rater), one idempotency key per rater."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.utils import timezone

from annotation.machine_labels import (  # noqa: F401 (labels from models live there; re-exported)
    JudgeVerdict,
    LabelSource,
    ModelLabel,
)
from common.roles import Role


class RaterStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class RaterProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rater_profile"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANNOTATOR)
    status = models.CharField(max_length=8, choices=RaterStatus.choices, default=RaterStatus.ACTIVE)
    paused_reason = models.CharField(max_length=500, blank=True)
    demographics = models.JSONField(default=dict, blank=True)
    demographics_consent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(demographics_consent=True) | Q(demographics={}),
                name="demographics_need_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"

    @property
    def is_paused(self) -> bool:
        return self.status == RaterStatus.PAUSED


class JudgmentMode(models.TextChoices):
    RANK = "rank", "Rank K responses"
    PAIRWISE = "pairwise", "Pairwise with graded strength"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class RoutingMode(models.TextChoices):
    EVERYTHING = "everything", "Every new task to raters"
    UNCERTAINTY = "uncertainty", "Uncertain tasks to raters, the rest labelled by the reward model"
    JUDGE = "judge", "Tasks the LLM judge is unsure of to raters, the rest pre-labelled by it"


class Campaign(models.Model):
    name = models.CharField(max_length=200, unique=True)
    guidelines = models.TextField(blank=True, help_text="Markdown shown to raters.")
    responses_per_task = models.PositiveSmallIntegerField(default=4)
    overlap = models.PositiveSmallIntegerField(default=3, help_text="Raters per task.")
    lease_ttl_s = models.PositiveIntegerField(default=1800)
    gold_rate = models.FloatField(
        default=0.0, help_text="Share of claims served from the campaign's gold tasks."
    )
    onboarding_gold = models.PositiveSmallIntegerField(
        default=0, help_text="A new rater's first this-many tasks are gold tasks."
    )
    repeat_rate = models.FloatField(
        default=0.0,
        help_text="Share of claims that repeat a task the rater already judged, in swapped order.",
    )
    # The automatic pause rule: gold accuracy below this after at least pause_gold_min_items
    # gold judgments pauses the rater (None: no rule).
    pause_gold_accuracy_below = models.FloatField(null=True, blank=True)
    pause_gold_min_items = models.PositiveSmallIntegerField(default=10)
    reading_floor_ms_per_char = models.FloatField(
        default=15.0,
        help_text="A judgment faster than this per character shown counts as too fast to read.",
    )
    judgment_mode = models.CharField(
        max_length=16, choices=JudgmentMode.choices, default=JudgmentMode.RANK
    )
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.ACTIVE
    )
    # Which of a generation round's tasks people see (annotation/routing.py).
    routing = models.CharField(
        max_length=16, choices=RoutingMode.choices, default=RoutingMode.EVERYTHING
    )
    routing_confidence = models.FloatField(
        default=2.0,
        help_text="A new task is confident, so labelled by a model, when each of its pairs "
        "reaches this: its mean margin in ensemble standard deviations from zero (uncertainty), "
        "or the judge's log-odds in the less sure of its two orders (judge).",
    )
    judge_model = models.CharField(
        max_length=200,
        default="smollm2",
        help_text="Under judge routing: the causal LM that judges each new pair in both orders.",
    )
    human_tasks_per_prompt = models.PositiveSmallIntegerField(
        default=0, help_text="Most new tasks per prompt a round sends to raters (0: no limit)."
    )
    # An arena: models' answers compared blind, two at a time; its tasks are chosen actively
    # (annotation/services/arena.py), never built from an import or a generation round.
    is_arena = models.BooleanField(default=False)
    # Model pairs a promotion gate waits on ([[new, parent], ...]): asked before any other.
    arena_focus = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(responses_per_task__gte=2) & Q(responses_per_task__lte=16),
                name="campaign_k_between_2_and_16",
            ),
            models.CheckConstraint(
                condition=Q(overlap__gte=1) & Q(overlap__lte=100), name="campaign_overlap_range"
            ),
            models.CheckConstraint(
                condition=Q(gold_rate__gte=0) & Q(gold_rate__lte=1), name="campaign_gold_rate_range"
            ),
            models.CheckConstraint(
                condition=Q(lease_ttl_s__gte=30), name="campaign_lease_at_least_30s"
            ),
            models.CheckConstraint(
                condition=Q(repeat_rate__gte=0) & Q(repeat_rate__lte=0.5),
                name="campaign_repeat_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(pause_gold_accuracy_below__isnull=True)
                | (Q(pause_gold_accuracy_below__gte=0) & Q(pause_gold_accuracy_below__lte=1)),
                name="campaign_pause_rule_range",
            ),
            models.CheckConstraint(
                condition=Q(reading_floor_ms_per_char__gte=0), name="campaign_reading_floor_range"
            ),
            models.CheckConstraint(
                condition=~Q(judgment_mode="pairwise") | Q(responses_per_task=2),
                name="pairwise_campaign_has_two_responses",
            ),
            models.CheckConstraint(
                condition=Q(routing_confidence__gte=0), name="campaign_routing_confidence_range"
            ),
            models.CheckConstraint(
                condition=Q(is_arena=False) | Q(judgment_mode="pairwise"),
                name="arena_campaign_is_pairwise",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RaterPool(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="rater_pools", blank=True
    )
    campaigns = models.ManyToManyField(Campaign, related_name="pools", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Prompt(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="prompts")
    conversation = models.JSONField(help_text="List of {role, content} messages.")
    metadata = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Prompt {self.pk}"


class Response(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="responses")
    text = models.TextField()
    # Kept by the database (the quality report reads lengths for a million pairs at once).
    length_chars = models.GeneratedField(
        expression=Length("text"), output_field=models.IntegerField(), db_persist=True
    )
    # Who wrote it: an external name, or a training ModelVersion id (annotation never imports
    # training, so this is a plain integer). Raters never see either.
    generator = models.CharField(max_length=200, blank=True)
    generator_version_id = models.BigIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Response {self.pk}"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETE = "complete", "Complete"


class RankingTask(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="tasks")
    response_ids = models.JSONField(help_text="The responses to rank, in canonical order.")
    required_judgments = models.PositiveSmallIntegerField()
    # Counted under the task's row lock at submit time, so it is exact; surplus ones excluded.
    submitted_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    is_gold = models.BooleanField(default=False)
    gold_ranking = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["campaign", "id"],
                name="open_task_by_campaign",
                condition=Q(status="open"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(submitted_count__lte=models.F("required_judgments")),
                name="task_never_over_filled",
            ),
        ]

    def __str__(self) -> str:
        return f"Task {self.pk}"


class AssignmentStatus(models.TextChoices):
    LEASED = "leased", "Leased"
    SUBMITTED = "submitted", "Submitted"
    SKIPPED = "skipped", "Skipped"
    EXPIRED = "expired", "Expired"
    RELEASED = "released", "Released (rater paused)"


class Assignment(models.Model):
    """One rater's lease on one task. A lease is live while status is leased and expires_at
    is in the future; an expired lease stops counting against the overlap at once, whether
    or not the sweeper has marked it yet."""

    task = models.ForeignKey(RankingTask, on_delete=models.CASCADE, related_name="assignments")
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    status = models.CharField(
        max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.LEASED
    )
    display_order = models.JSONField(help_text="Response ids in the order this rater saw them.")
    leased_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=500, blank=True)
    # A repeat shows a task the rater already judged again, in reversed order, to measure
    # self-consistency; it never counts towards the task and writes no preferences.
    is_repeat = models.BooleanField(default=False)

    class Meta:
        constraints = [
            # One row per (task, rater) ever: so at most one live lease, and a task that was
            # judged or skipped is never offered to that rater again. Plus at most one repeat.
            models.UniqueConstraint(
                fields=["task", "rater"],
                condition=Q(is_repeat=False),
                name="one_assignment_per_task_rater",
            ),
            models.UniqueConstraint(
                fields=["task", "rater"],
                condition=Q(is_repeat=True),
                name="one_repeat_per_task_rater",
            ),
        ]
        indexes = [
            models.Index(
                fields=["task", "expires_at"],
                name="live_lease_by_task",
                condition=Q(status="leased"),
            ),
            models.Index(
                fields=["rater", "expires_at"],
                name="live_lease_by_rater",
                condition=Q(status="leased"),
            ),
        ]

    def __str__(self) -> str:
        return f"Assignment {self.pk} ({self.status})"

    def is_live(self, now: datetime | None = None) -> bool:
        moment = now or timezone.now()
        return self.status == AssignmentStatus.LEASED and self.expires_at > moment


class Strength(models.TextChoices):
    MUCH_BETTER = "much_better", "Much better"
    BETTER = "better", "Better"
    SLIGHTLY_BETTER = "slightly_better", "Slightly better"
    ABOUT_SAME = "about_same", "About the same"


STRENGTH_MARGIN = {
    Strength.MUCH_BETTER: 3.0,
    Strength.BETTER: 2.0,
    Strength.SLIGHTLY_BETTER: 1.0,
    Strength.ABOUT_SAME: 0.0,
}

# What a rater may flag a task with, besides ranking it: the set as a whole ("all_bad",
# "other"; "unsafe" and "factually_wrong" here mean "somewhere in the set", as clients sent
# before per-response flags existed) ...
FLAG_CHOICES = ("unsafe", "all_bad", "factually_wrong", "other")
# ... and one response (Judgment.response_flags), which is what changes training pairs.
RESPONSE_FLAG_CHOICES = ("unsafe", "factually_wrong")
# What the annotate page offers for the set: the rest are flagged on their response.
SET_FLAG_CHOICES = ("all_bad", "other")


class JudgmentSource(models.TextChoices):
    HUMAN = "human", "Rated here"
    IMPORTED = "imported", "Imported"


class Judgment(models.Model):
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="judgment")
    # Copies of the assignment's task and rater, so the database can hold the
    # one-judgment-per-(task, rater) rule and reports need no join.
    task = models.ForeignKey(RankingTask, on_delete=models.CASCADE, related_name="judgments")
    # PROTECT: deleting a user who has judged would take their judgments (and the tasks'
    # counters) with them; such a rater is paused or deactivated instead.
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="judgments"
    )
    ranking = models.JSONField(help_text="Tiers of response ids, best first; ties share a tier.")
    strength = models.CharField(max_length=16, choices=Strength.choices, blank=True)
    flags = models.JSONField(default=list, blank=True)
    response_flags = models.JSONField(
        default=dict,
        blank=True,
        help_text="Flags on single responses: response id (as text) -> sorted flag names.",
    )
    rationale = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=100)
    is_surplus = models.BooleanField(default=False, help_text="Arrived after the task was full.")
    was_late = models.BooleanField(default=False, help_text="Arrived after the lease expired.")
    source = models.CharField(
        max_length=16, choices=JudgmentSource.choices, default=JudgmentSource.HUMAN
    )
    server_time_ms = models.PositiveIntegerField(null=True, blank=True)
    client_time_ms = models.PositiveIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    is_repeat = models.BooleanField(default=False, help_text="A self-consistency repeat.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task", "rater"],
                condition=Q(is_repeat=False),
                name="one_judgment_per_task_rater",
            ),
            models.UniqueConstraint(
                fields=["task", "rater"],
                condition=Q(is_repeat=True),
                name="one_repeat_judgment_per_task_rater",
            ),
            models.UniqueConstraint(
                fields=["rater", "idempotency_key"], name="unique_idempotency_key_per_rater"
            ),
        ]
        indexes = [models.Index(fields=["submitted_at"], name="judgment_by_time")]

    def __str__(self) -> str:
        return f"Judgment {self.pk}"


class Preference(models.Model):
    """One pair a judgment implies. Ties are kept (is_tie) for agreement statistics; exports
    of chosen/rejected pairs leave them out."""

    judgment = models.ForeignKey(Judgment, on_delete=models.CASCADE, related_name="preferences")
    task = models.ForeignKey(RankingTask, on_delete=models.CASCADE, related_name="+")
    chosen = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    rejected = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    is_tie = models.BooleanField(default=False)
    margin = models.FloatField(default=0.0)
    # None for imported pairs, whose display order is unknown.
    chosen_shown_first = models.BooleanField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["judgment", "chosen", "rejected"], name="one_preference_per_pair"
            ),
            models.CheckConstraint(
                condition=~Q(chosen=models.F("rejected")), name="preference_has_two_sides"
            ),
        ]

    def __str__(self) -> str:
        return f"Preference {self.pk}"


class AuditEvent(models.Model):
    """Append-only record of changes, sign-ins and denials. Names are copied at write time, so
    an event still reads right after its actor or target is renamed or gone."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    target_name = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


class ApiToken(models.Model):
    """A credential for scripts: `Authorization: Token <key>`. Only a digest of the key is
    stored; the key is shown once, when issued. A token ends when it expires, when it is
    revoked, or when its user's password changes (`password_marker` no longer matches)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    key_digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The key's first characters, to tell it.")
    password_marker = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="token_by_user")]

    def __str__(self) -> str:
        return f"Token {self.prefix}… of {self.user_id}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
