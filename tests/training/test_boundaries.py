"""training/pipeline is pure ML code: importing all of it loads nothing from Django or from the
annotation app (its data arrives through the annotation/selectors/ package as plain values)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pipeline_imports_nothing_from_django_or_annotation() -> None:
    code = (
        "import sys, pkgutil, importlib, training.pipeline as p\n"
        "for m in pkgutil.iter_modules(p.__path__):\n"
        "    if m.name != '__main__':\n"
        "        importlib.import_module(f'training.pipeline.{m.name}')\n"
        "roots = ('django', 'annotation', 'config')\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in roots)\n"
        "print('loaded:', bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "loaded: []"
