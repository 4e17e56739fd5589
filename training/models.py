"""Training data model: runs, their metrics, the model registry, and retraining schedules.

A `TrainingRun` row is the truth about a job. A Celery message only tells a worker to look at
the row; the worker claims it with a conditional update and does nothing if it is not its to
run. The data a run trains on is frozen when the run is created (the preference ids and their
hash), so a run can be repeated exactly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from training.pipeline.options import GenerationConfig
from training.pipeline.worker_settings import GenerationWorkerSettings


class RunKind(models.TextChoices):
    REWARD = "reward", "Reward model"
    PPO = "ppo", "PPO round"
    DPO = "dpo", "DPO round"
    GENERATE = "generate", "Generation"
    EVALUATE = "evaluate", "Evaluation"
    GRPO = "grpo", "GRPO round"
    RLOO = "rloo", "RLOO round"
    JUDGE = "judge", "LLM judge"
    ARENA = "arena", "Arena answers"


# Policy rounds that sample answers and score them with a reward model; with DPO, every kind
# that produces a policy (what a schedule's policy_kind may name).
REWARD_DRIVEN_KINDS = (RunKind.PPO, RunKind.GRPO, RunKind.RLOO)
POLICY_KINDS = (*REWARD_DRIVEN_KINDS, RunKind.DPO)


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class VersionKind(models.TextChoices):
    POLICY = "policy", "Policy"
    REWARD = "reward", "Reward model"
    REFERENCE = "reference", "Reference"


class Promotion(models.TextChoices):
    """Whether a policy may generate the campaign's next candidates (training/promotion.py)."""

    UNGATED = "", "No gate"
    PENDING = "pending", "Waiting on the arena"
    PROMOTED = "promoted", "Promoted"
    HELD = "held", "Kept, not promoted"


# A promotion gate's budget may not be below this: the fewest comparisons it promotes on.
GATE_MIN_COMPARISONS = 10


class DatasetMode(models.TextChoices):
    CONSENSUS = "consensus", "Consensus pairs"
    ALL = "all", "All judgments"


class ModelVersion(models.Model):
    """A trained (or base) model the registry knows: where its weights are and where it came
    from: its parent, the run that produced it and that run's data snapshot."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=VersionKind.choices)
    # The base model the lineage starts from: "smollm2", a Hugging Face id or a local path.
    base = models.CharField(max_length=500)
    artifact_path = models.CharField(max_length=1000)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    produced_by = models.ForeignKey(
        "TrainingRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="produced_versions",
    )
    campaign = models.ForeignKey(
        "annotation.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="model_versions",
    )
    snapshot_hash = models.CharField(max_length=64, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    # A policy under a promotion gate: pending until the arena decides; its figures (the
    # arena, the rival, comparisons, win probability and interval) in promotion_detail.
    promotion = models.CharField(
        max_length=16, choices=Promotion.choices, default=Promotion.UNGATED, blank=True
    )
    promotion_detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=VersionKind.values), name="model_version_kind_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["promotion"], name="pending_promotion", condition=Q(promotion="pending")
            )
        ]

    def __str__(self) -> str:
        return self.name


class TrainingSchedule(models.Model):
    """Per campaign: after N new judgments (or on a cron), retrain the reward model, then a PPO
    or DPO round, then generate the next batch of tasks from the new policy."""

    campaign = models.OneToOneField(
        "annotation.Campaign", on_delete=models.CASCADE, related_name="training_schedule"
    )
    enabled = models.BooleanField(default=True)
    every_n_judgments = models.PositiveIntegerField(null=True, blank=True)
    # Five-field crontab ("0 3 * * *"), in the server's time zone; blank for none.
    cron = models.CharField(max_length=100, blank=True)
    policy_kind = models.CharField(
        max_length=8,
        choices=[(kind.value, kind.name) for kind in POLICY_KINDS],
        default=RunKind.PPO,
    )
    # How many of the campaign's prompts the new policy answers, and how many answers each.
    generate_prompts = models.PositiveIntegerField(default=GenerationWorkerSettings.prompts)
    responses_per_prompt = models.PositiveSmallIntegerField(default=GenerationConfig.k)
    dataset = models.JSONField(default=dict, blank=True)
    # The second reward model each round's reward-hacking watch scores with (PPO and DPO).
    check_reward_version = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="check_reward_schedules",
    )
    # The promotion gate: with an arena campaign, each new policy answers the arena's prompts
    # beside its parent and becomes current only once people prefer it (the lower end of its
    # win-probability interval above 0.5) within gate_max_comparisons comparisons.
    arena_campaign = models.ForeignKey(
        "annotation.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gated_schedules",
    )
    gate_max_comparisons = models.PositiveIntegerField(default=100)
    # Hyperparameter overrides per run kind: {"reward": {...}, "ppo": {...}, ...}.
    hyperparameters = models.JSONField(default=dict, blank=True)
    judgments_at_last_fire = models.PositiveIntegerField(default=0)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(every_n_judgments__isnull=True) | Q(every_n_judgments__gte=1),
                name="schedule_every_n_positive",
            ),
            models.CheckConstraint(
                condition=Q(policy_kind__in=[kind.value for kind in POLICY_KINDS]),
                name="schedule_policy_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(gate_max_comparisons__gte=1), name="schedule_gate_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return f"Schedule for campaign {self.campaign_id}"


class TrainingRun(models.Model):
    kind = models.CharField(max_length=16, choices=RunKind.choices)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    # Hyperparameters as the pipeline's command line takes them, defaults filled in.
    config = models.JSONField(default=dict, blank=True)
    # The base model for a run that starts from none of ours ("smollm2", an HF id, a path).
    base = models.CharField(max_length=500, blank=True)
    # The version a run starts from: the policy for PPO/DPO/generation/evaluation.
    parent_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="child_runs"
    )
    # The reward model a PPO round optimises against, or an evaluation scores with.
    reward_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="reward_runs"
    )
    # A PPO or DPO round's second reward model, for the reward-hacking watch: the new
    # policy's win rate over its parent under it (docs/training.md, "Reward-hacking watch").
    check_reward_version = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="check_reward_runs",
    )
    # An evaluation compares parent_version against this one on the same prompts.
    compare_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="compare_runs"
    )
    # The campaign whose data trains it, or (generation) that receives the new tasks.
    campaign = models.ForeignKey(
        "annotation.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="training_runs",
    )
    schedule = models.ForeignKey(
        TrainingSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    # The stages a schedule still has to start after this run succeeds, e.g. ["ppo", "generate"].
    follow_up = models.JSONField(default=list, blank=True)
    # The data snapshot, frozen at creation: filters as asked, the preference ids they matched.
    dataset = models.JSONField(default=dict, blank=True)
    snapshot_preference_ids = models.JSONField(default=list, blank=True)
    # The model labels frozen with them, when the dataset asked for those (model_labels).
    snapshot_model_label_ids = models.JSONField(default=list, blank=True)
    snapshot_hash = models.CharField(max_length=64, blank=True)
    snapshot_size = models.PositiveIntegerField(default=0)
    # Five identical triggers with one key make one run.
    idempotency_key = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="training_runs",
    )
    # Progress as the worker last streamed it.
    progress = models.FloatField(default=0.0)
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    eta_s = models.FloatField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    last_checkpoint = models.CharField(max_length=1000, blank=True)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    log_tail = models.TextField(blank=True)
    # The pipeline's final metrics.json.
    result = models.JSONField(default=dict, blank=True)
    artifact_dir = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="run_status_heartbeat")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RunKind.values), name="run_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0.0) & Q(progress__lte=1.0), name="run_progress_0_1"
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="run_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class RunMetric(models.Model):
    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="metrics")
    step = models.PositiveIntegerField()
    name = models.CharField(max_length=64)
    value = models.FloatField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "name", "step"]
        constraints = [
            models.UniqueConstraint(fields=["run", "name", "step"], name="run_metric_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.step}={self.value:g}"


def ddp_only() -> list[str]:
    """What a worker that reported before strategies existed runs."""
    return ["ddp"]


class TrainingWorker(models.Model):
    """What a training worker found when it started: whether its pipeline's Python can import
    the ML stack. The start-a-run form reads it, so a missing install is known before a run
    fails on it."""

    hostname = models.CharField(max_length=200, unique=True)
    python = models.CharField(max_length=500)
    missing = models.JSONField(default=list, blank=True, help_text="ML packages not importable.")
    processes = models.PositiveSmallIntegerField(
        default=1, help_text="Processes per reward, DPO or PPO run (its TRAINING_PROCESSES)."
    )
    strategies = models.JSONField(
        default=ddp_only,
        blank=True,
        help_text="Strategies a run may ask for (its TRAINING_STRATEGY).",
    )
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname

    @property
    def can_train(self) -> bool:
        return not self.missing
