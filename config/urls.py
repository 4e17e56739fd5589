from django.contrib import admin
from django.urls import include, path, re_path

from config.api_docs import SignedInDocsView, SignedInSchemaView
from config.spa import app_page

urlpatterns = [
    path("api/v1/schema/", SignedInSchemaView.as_view(), name="schema"),
    path("api/v1/docs/", SignedInDocsView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/training/", include("training.api.urls")),
    path("api/v1/", include("annotation.api.urls")),
    path("admin/", admin.site.urls),
    # The browser app's own pages (it routes on the client); anything else is a 404.
    re_path(r"^(?:(?:login|annotate|console|training)/?)?$", app_page, name="app"),
]

handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
