from django.contrib import admin

from annotation import models


@admin.register(models.Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "judgment_mode",
        "responses_per_task",
        "overlap",
        "status",
        "created_at",
    ]


@admin.register(models.RaterProfile)
class RaterProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "status"]
    list_filter = ["role", "status"]


@admin.register(models.RaterPool)
class RaterPoolAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    filter_horizontal = ["members", "campaigns"]


@admin.register(models.RankingTask)
class RankingTaskAdmin(admin.ModelAdmin):
    list_display = ["id", "campaign", "submitted_count", "required_judgments", "status", "is_gold"]
    list_filter = ["campaign", "status"]


@admin.register(models.Judgment)
class JudgmentAdmin(admin.ModelAdmin):
    list_display = ["id", "task", "rater", "ranking", "strength", "is_surplus", "submitted_at"]
    list_filter = ["task__campaign", "source", "is_surplus"]
    readonly_fields = [f.name for f in models.Judgment._meta.fields]


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target_id"]
    readonly_fields = ["created_at", "actor", "action", "target_type", "target_id", "details"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
