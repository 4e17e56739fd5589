from django.urls import include, path
from rest_framework.routers import DefaultRouter

from annotation.api import admin_views, arena_views, auth_views, quality_views, rater_views

router = DefaultRouter()
router.register("campaigns", admin_views.CampaignViewSet, basename="campaign")
router.register("pools", admin_views.PoolViewSet, basename="pool")
router.register("judgments", admin_views.JudgmentViewSet, basename="judgment")
router.register("audit-events", admin_views.AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("auth/csrf/", auth_views.CsrfView.as_view(), name="auth-csrf"),
    path("auth/login/", auth_views.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", auth_views.LogoutView.as_view(), name="auth-logout"),
    path("auth/token/", auth_views.TokenView.as_view(), name="auth-token"),
    path("auth/tokens/", auth_views.MyTokensView.as_view(), name="auth-tokens"),
    path("auth/tokens/<int:pk>/", auth_views.MyTokenView.as_view(), name="auth-token-detail"),
    path("me/password/", auth_views.PasswordView.as_view(), name="me-password"),
    path("me/", rater_views.MeView.as_view(), name="me"),
    path("me/stats/", rater_views.MyStatsView.as_view(), name="me-stats"),
    path("assignments/next/", rater_views.NextAssignmentView.as_view(), name="assignment-next"),
    path(
        "assignments/<int:pk>/",
        rater_views.AssignmentDetailView.as_view(),
        name="assignment-detail",
    ),
    path(
        "assignments/<int:pk>/submit/", rater_views.SubmitView.as_view(), name="assignment-submit"
    ),
    path("assignments/<int:pk>/skip/", rater_views.SkipView.as_view(), name="assignment-skip"),
    path(
        "campaigns/<int:pk>/import/",
        admin_views.CampaignImportView.as_view(),
        name="campaign-import",
    ),
    path(
        "campaigns/<int:pk>/tasks/",
        quality_views.CampaignTasksView.as_view(),
        name="campaign-tasks",
    ),
    path(
        "campaigns/<int:pk>/quality/",
        quality_views.QualityReportView.as_view(),
        name="campaign-quality",
    ),
    path("campaigns/<int:pk>/arena/", arena_views.ArenaView.as_view(), name="campaign-arena"),
    path("tasks/<int:pk>/gold/", quality_views.TaskGoldView.as_view(), name="task-gold"),
    path("pools/<int:pk>/members/", admin_views.PoolMembersView.as_view(), name="pool-members"),
    path(
        "pools/<int:pk>/campaigns/", admin_views.PoolCampaignsView.as_view(), name="pool-campaigns"
    ),
    path("raters/", admin_views.RaterListView.as_view(), name="rater-list"),
    path("raters/<int:pk>/", admin_views.RaterDetailView.as_view(), name="rater-detail"),
    path("raters/<int:pk>/role/", admin_views.RaterRoleView.as_view(), name="rater-role"),
    path("raters/<int:pk>/pause/", admin_views.RaterPauseView.as_view(), name="rater-pause"),
    path("raters/<int:pk>/resume/", admin_views.RaterResumeView.as_view(), name="rater-resume"),
    path("raters/<int:pk>/tokens/", auth_views.RaterTokensView.as_view(), name="rater-tokens"),
    path(
        "raters/<int:pk>/tokens/revoke/",
        auth_views.RaterTokensRevokeView.as_view(),
        name="rater-tokens-revoke",
    ),
    path("export/", admin_views.ExportView.as_view(), name="export"),
    path("", include(router.urls)),
]
