"""Error pages: JSON under /api/, a plain page elsewhere; never a traceback."""

from django.http import HttpRequest, HttpResponse

from common.exception_handler import api_not_found, api_server_error


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return HttpResponse("<h1>Not found</h1><p><a href='/'>RLHF Studio</a></p>", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_server_error(request)
    return HttpResponse("<h1>Something went wrong</h1><p>It was logged.</p>", status=500)
