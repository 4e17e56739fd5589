"""The OpenAPI schema and its docs page, for signed-in users only: they map every endpoint and
parameter, which helps an attacker more than a visitor. (The browser app's types are generated
offline by `manage.py spectacular`, never fetched.)"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response


class SignedInSchemaView(SpectacularAPIView):
    """JSON first (so a 401 reads like every other API error); YAML when asked for by Accept."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [
        OpenApiJsonRenderer2,
        OpenApiJsonRenderer,
        OpenApiYamlRenderer,
        OpenApiYamlRenderer2,
    ]


class SignedInDocsView(SpectacularSwaggerView):
    """A browser page: an anonymous visitor is sent to sign in and brought back."""

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not request.user.is_authenticated:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"/login?{query}")  # type: ignore[return-value]
        return super().get(request, *args, **kwargs)
