"""`manage.py check --deploy` is clean with the production environment docs/deploy.md documents
(read from the doc itself, so the two cannot drift), and the settings it turns on do what they
say over HTTP: redirect to https, HSTS, secure cookies."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
ENV_BLOCK = re.compile(r"^```env\n(.*?)^```", re.MULTILINE | re.DOTALL)
PLACEHOLDER = re.compile(r"<[^>]*>")
DEV_WARNINGS = ["security.W004", "security.W008", "security.W012", "security.W016"]


def documented_environment() -> dict[str, str]:
    """The doc's ```env block; each <placeholder> becomes a fresh 64-character random value."""
    blocks = ENV_BLOCK.findall(DEPLOY_DOC.read_text())
    assert len(blocks) == 1, "docs/deploy.md must hold exactly one ```env block"
    env: dict[str, str] = {}
    for line in blocks[0].splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, value = line.partition("=")
        env[name.strip()] = PLACEHOLDER.sub(lambda _: secrets.token_urlsafe(48), value.strip())
    return env


def run_with(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A fresh process that sees only `env` on top of a bare PATH (nothing of this shell's)."""
    base = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_with(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")


def test_documented_production_environment_passes_the_deploy_check() -> None:
    # given the environment docs/deploy.md documents
    env = documented_environment()
    assert len(env["DJANGO_SECRET_KEY"]) >= 50
    assert "DJANGO_DEBUG" not in env

    # when the deploy check runs with exactly that environment
    result = deploy_check(env)

    # then it finds nothing, not even a warning; the one silenced check is the documented
    # RLHF_HSTS_PRELOAD=0 decision (security.W021)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout


def test_development_defaults_fail_the_deploy_check() -> None:
    # given only a strong secret key, as `make run` on a laptop has
    env = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(64)}

    # when the deploy check runs
    result = deploy_check(env)

    # then it fails on the plain-http defaults, each named
    assert result.returncode == 1
    for warning in DEV_WARNINGS:
        assert warning in result.stderr, warning


def test_a_deliberate_no_to_preload_is_silenced_but_an_unset_one_is_not() -> None:
    # given the documented environment without the explicit RLHF_HSTS_PRELOAD=0
    env = documented_environment()
    del env["RLHF_HSTS_PRELOAD"]

    # when the deploy check runs
    result = deploy_check(env)

    # then it still asks about preload
    assert result.returncode == 1
    assert "security.W021" in result.stderr


PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client
host = settings.ALLOWED_HOSTS[0]
plain = Client(HTTP_HOST=host).get("/api/v1/auth/csrf/")
proxied = Client(HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https").get("/api/v1/auth/csrf/")
csrf = proxied.cookies["csrftoken"]
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "https_status": proxied.status_code,
    "hsts": proxied.get("Strict-Transport-Security"),
    "referrer": proxied.get("Referrer-Policy"),
    "csrf_secure": bool(csrf["secure"]),
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
}))
"""


def test_documented_environment_redirects_to_https_and_sends_hsts() -> None:
    # given the documented environment (TLS ends at a proxy that sets X-Forwarded-Proto)
    env = documented_environment()
    host = env["DJANGO_ALLOWED_HOSTS"].split(",")[0]

    # when a client asks over plain http, then over https through the proxy
    result = run_with(env, "-c", PROBE)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    # then plain http is sent to https, and https carries HSTS and secure cookies
    assert seen == {
        "plain_status": 301,
        "plain_location": f"https://{host}/api/v1/auth/csrf/",
        "https_status": 200,
        "hsts": "max-age=31536000; includeSubDomains",
        "referrer": "same-origin",
        "csrf_secure": True,
        "session_secure": True,
        "session_httponly": True,
    }
