"""Settings are safe by default, and the web process never imports the ML stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_secret_key_refuses_to_start_without_debug(tmp_path: Path) -> None:
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings';django.setup()",
        RLHF_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_manage_py_reads_the_key_make_run_kept(tmp_path: Path) -> None:
    # given: what scripts/run.sh leaves behind, and nothing exported
    (tmp_path / "secret_key").write_text("kept-by-make-run-" + "k" * 50 + "\n")

    result = run_python(
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings';"
        "from django.conf import settings; print(settings.SECRET_KEY)",
        RLHF_VAR_DIR=str(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "kept-by-make-run-" + "k" * 50


def test_debug_is_off_unless_asked() -> None:
    result = run_python(
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings';"
        "from django.conf import settings; print(settings.DEBUG)",
        DJANGO_SECRET_KEY="k" * 50,
    )
    assert result.stdout.strip() == "False"


def test_web_process_serves_requests_without_importing_torch() -> None:
    code = (
        "import os, sys; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'\n"
        "from config.wsgi import application\n"
        "from django.test import Client\n"
        "assert Client(HTTP_HOST='localhost').get('/api/v1/schema/').status_code in (200, 401)\n"
        "ml = ('torch', 'transformers', 'trl', 'accelerate')\n"
        "heavy = sorted(m for m in ml if m in sys.modules)\n"
        "print('heavy:', heavy)\n"
    )
    result = run_python(code, DJANGO_SECRET_KEY="k" * 50, DATABASE_URL="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "heavy: []"
