from django.conf import settings
from django.urls import include, path, re_path

from annotation.admin import site as admin_site
from config.api_docs import SignedInDocsView, SignedInSchemaView
from config.health import health
from config.spa import app_page

urlpatterns = [
    path("healthz/", health, name="health"),
    path("api/v1/schema/", SignedInSchemaView.as_view(), name="schema"),
    path("api/v1/docs/", SignedInDocsView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/training/", include("training.api.urls")),
    path("api/v1/", include("annotation.api.urls")),
    # The read-only Django admin, only where RLHF_DJANGO_ADMIN=1 turned it on.
    *([path("admin/", admin_site.urls)] if settings.DJANGO_ADMIN_ENABLED else []),
    # The browser app's own pages (it routes on the client); anything else is a 404.
    re_path(r"^(?:(?:login|annotate|console|training)/?)?$", app_page, name="app"),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
