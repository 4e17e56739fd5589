"""Django serves the built browser app: index.html at the app's paths with a strict CSP and a
CSRF cookie, hashed assets as immutable static files; the API, admin and docs are untouched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from config.settings import vite_asset_is_immutable

pytestmark = pytest.mark.django_db


@pytest.fixture
def built_app(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "index.html").write_text(
        '<!doctype html><div id="root"></div><script type="module" src="/static/assets/a.js">'
        "</script>"
    )
    with override_settings(FRONTEND_DIST=tmp_path):
        yield tmp_path


@pytest.mark.parametrize("path", ["/", "/login", "/annotate", "/console", "/training/"])
def test_app_paths_serve_the_built_index_with_csp(client: Client, built_app: Path, path: str):
    response = client.get(path)

    assert response.status_code == 200
    assert b'<div id="root">' in response.content
    assert response["Cache-Control"] == "no-cache"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert "unsafe-eval" not in csp
    assert "csrftoken" in response.cookies


def test_unknown_paths_are_still_404(client: Client, built_app: Path):
    unknown = client.get("/annotatex")
    assert unknown.status_code == 404
    # The app's own "Page not found", under the same Content-Security-Policy as every page.
    assert b'<div id="root">' in unknown.content
    assert "script-src 'self'" in unknown["Content-Security-Policy"]
    assert client.post("/annotatex").status_code == 404
    assert client.get("/api/v1/nothing/").json()["code"] == "not_found"


def test_writes_to_the_app_page_are_refused(client: Client, built_app: Path):
    assert client.post("/annotate").status_code == 405


def test_unbuilt_front_end_says_how_to_build_it(client: Client, tmp_path: Path):
    with override_settings(FRONTEND_DIST=tmp_path / "missing"):
        response = client.get("/")

    assert response.status_code == 503
    assert b"make run" in response.content


def test_api_docs_and_admin_keep_their_own_pages(client: Client, built_app: Path):
    # The Django admin is off by default (RLHF_DJANGO_ADMIN): the app's 404 page.
    assert client.get("/admin/login/").status_code == 404
    assert client.get("/api/v1/docs/")["Location"] == "/login?next=%2Fapi%2Fv1%2Fdocs%2F"
    assert client.get("/api/v1/me/").status_code == 401


def test_only_vite_hashed_assets_are_cached_forever():
    assert vite_asset_is_immutable("x", f"{settings.STATIC_URL}assets/index-Dsz2WuCO.js")
    assert not vite_asset_is_immutable("x", f"{settings.STATIC_URL}favicon.svg")
    assert not vite_asset_is_immutable("x", f"{settings.STATIC_URL}admin/css/base.css")
