from django.urls import include, path
from rest_framework.routers import DefaultRouter

from training.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("versions", views.VersionViewSet, basename="training-version")
router.register("schedules", views.ScheduleViewSet, basename="training-schedule")

urlpatterns = [
    path("runs/", views.RunListCreateView.as_view(), name="training-run-list"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="training-run-detail"),
    path("runs/<int:pk>/cancel/", views.RunCancelView.as_view(), name="training-run-cancel"),
    path("runs/<int:pk>/metrics/", views.RunMetricsView.as_view(), name="training-run-metrics"),
    path("options/", views.OptionsView.as_view(), name="training-options"),
    # Before the router, or "compare" would be read as a version id.
    path("versions/compare/", views.VersionCompareView.as_view(), name="training-version-compare"),
    path("ceiling/", views.CeilingView.as_view(), name="training-ceiling"),
    path(
        "versions/<int:pk>/length-preference/",
        views.LengthPreferenceView.as_view(),
        name="training-version-length-preference",
    ),
    path("", include(router.urls)),
]
