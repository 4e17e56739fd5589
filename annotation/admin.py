"""The Django admin, for looking only. It is mounted at /admin/ when RLHF_DJANGO_ADMIN=1 (off by
default): every change goes through the API, whose services check the rules and write the audit
log, so here nothing can be added, changed or deleted, API tokens are not listed at all, and
only active users whose role is admin get in. Signing in happens on the app's login page, the
one throttled path."""

from __future__ import annotations

from typing import Any, NoReturn

from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect

from annotation import models
from common.roles import Role, is_paused, role_of

APP_LOGIN = "/login?next=/admin/"


class ReadOnlyAdminSite(admin.AdminSite):
    site_header = "RLHF Studio (read-only)"
    site_title = "RLHF Studio admin"
    index_title = "Data, read-only: change things in the app"

    def has_permission(self, request: HttpRequest) -> bool:
        """Active users whose app role is admin; Django's staff flag plays no part."""
        user = request.user
        return bool(user.is_active and role_of(user) == Role.ADMIN and not is_paused(user))

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # One sign-in path, the app's, with its throttle and lockout.
        return HttpResponseRedirect(APP_LOGIN)

    def password_change(self, request: HttpRequest, extra_context: Any = None) -> NoReturn:
        # Passwords change through the API, where it is audited and ends the user's tokens.
        raise Http404("Change your password in the app.")


site = ReadOnlyAdminSite(name="admin")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and detail pages; no add, change, delete or bulk actions, whoever asks."""

    actions = None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User, site=site)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["username", "email", "is_active", "last_login", "date_joined"]
    search_fields = ["username", "email"]
    # Not even the hash leaves the database through a page.
    exclude = ["password"]


@admin.register(Group, site=site)
class GroupAdmin(ReadOnlyAdmin):
    list_display = ["name"]


@admin.register(models.Campaign, site=site)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "judgment_mode",
        "responses_per_task",
        "overlap",
        "status",
        "created_at",
    ]


@admin.register(models.RaterProfile, site=site)
class RaterProfileAdmin(ReadOnlyAdmin):
    list_display = ["user", "role", "status"]
    list_filter = ["role", "status"]


@admin.register(models.RaterPool, site=site)
class RaterPoolAdmin(ReadOnlyAdmin):
    list_display = ["name", "created_at"]


@admin.register(models.RankingTask, site=site)
class RankingTaskAdmin(ReadOnlyAdmin):
    list_display = ["id", "campaign", "submitted_count", "required_judgments", "status", "is_gold"]
    list_filter = ["campaign", "status"]


@admin.register(models.Judgment, site=site)
class JudgmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "task", "rater", "ranking", "strength", "is_surplus", "submitted_at"]
    list_filter = ["task__campaign", "source", "is_surplus"]


@admin.register(models.AuditEvent, site=site)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_name", "action", "target_type", "target_name"]
    list_filter = ["action"]
    search_fields = ["actor_name", "target_name", "action"]
