"""The embedded model is converted once per cache even when every process of a multi-process
run finds it missing at the same moment (torchrun starts them together)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from training.pipeline import model_loading


def test_processes_that_all_find_the_copy_missing_convert_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversions: list[int] = []

    def slow_convert(gguf: Path, target: Path) -> None:
        conversions.append(threading.get_ident())
        time.sleep(0.3)  # long enough for every other caller to arrive meanwhile
        target.mkdir(parents=True)
        (target / "config.json").write_text("{}")

    monkeypatch.setattr(model_loading, "_convert_gguf", slow_convert)
    target = tmp_path / "cache" / "smollm2-135m-instruct"
    callers = [
        threading.Thread(target=model_loading._convert_once, args=(tmp_path / "m.gguf", target))
        for _ in range(4)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=10)
    assert len(conversions) == 1
    assert (target / "config.json").is_file()
