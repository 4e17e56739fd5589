"""The browser app: Django serves the built index.html at every app path; whitenoise serves its
hashed assets under /static/. The page gets a strict Content-Security-Policy, so even a
sanitiser bug in the app could not run injected script."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

# 'unsafe-inline' styles: React and highlight.js set style attributes; scripts stay 'self' only.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>RLHF Studio</title>
</head><body><main><h1>The front end is not built</h1>
<p>Run <code>make run</code> (or <code>make frontend</code>) to build <code>frontend/</code>.
The API works meanwhile: <a href="/api/v1/docs/">/api/v1/docs/</a>.</p></main></body></html>"""


@require_safe
@ensure_csrf_cookie
def app_page(request: HttpRequest) -> HttpResponse:
    """index.html of the built app; the app routes on the client."""
    index = settings.FRONTEND_DIST / "index.html"
    try:
        html = index.read_bytes()
    except FileNotFoundError:
        return HttpResponse(NOT_BUILT, status=503)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    # Always revalidate: a new build must reach the rater on the next load.
    response["Cache-Control"] = "no-cache"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
