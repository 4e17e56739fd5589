"""Training data in the read-only Django admin (see annotation.admin): runs are started and
cancelled, schedules kept, through the API only."""

from __future__ import annotations

from django.contrib import admin

from annotation.admin import ReadOnlyAdmin, site
from training.models import ModelVersion, TrainingRun, TrainingSchedule


@admin.register(TrainingRun, site=site)
class TrainingRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "campaign", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    # The frozen id list can hold millions of ids; its hash and size say what it is.
    exclude = ["snapshot_preference_ids"]


@admin.register(ModelVersion, site=site)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "base", "campaign", "created_at"]
    list_filter = ["kind"]


@admin.register(TrainingSchedule, site=site)
class TrainingScheduleAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "enabled", "every_n_judgments", "cron", "last_fired_at"]
