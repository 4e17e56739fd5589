"""Atomic checkpoints without pickle: tensors as safetensors, everything else as JSON.

A checkpoint folder is written under a temporary name and renamed into place, so a crash never
leaves a half-written `step-N`; `latest_checkpoint` only trusts folders with their final
`state.json`."""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

STATE_FILE = "state.json"


def optimizer_to_files(optimizer: torch.optim.Optimizer, folder: Path) -> None:
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for name, value in values.items():
            key = f"{index}.{name}"
            if torch.is_tensor(value):
                tensors[key] = value.detach().cpu().contiguous()
            else:
                scalars[key] = value
    save_file(tensors, str(folder / "optimizer.safetensors"))
    meta = {"param_groups": state["param_groups"], "scalars": scalars}
    (folder / "optimizer.json").write_text(json.dumps(meta))


def optimizer_from_files(optimizer: torch.optim.Optimizer, folder: Path) -> None:
    tensors = load_file(str(folder / "optimizer.safetensors"))
    meta = json.loads((folder / "optimizer.json").read_text())
    state: dict[int, dict[str, Any]] = {}
    for key, value in [*tensors.items(), *meta["scalars"].items()]:
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    # JSON turns tuples (Adam's betas) into lists, and torch's Adam takes a slightly different
    # arithmetic path for a list: restore them as tuples, or the resumed run drifts by 1e-7.
    groups = [
        {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in g.items()}
        for g in meta["param_groups"]
    ]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def rng_to_files(folder: Path) -> dict[str, Any]:
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, cuda_state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch_cuda_{index}"] = cuda_state
    save_file(tensors, str(folder / "rng.safetensors"))
    version, internal, gauss = random.getstate()
    return {"python_random": [version, list(internal), gauss]}


def rng_from_files(folder: Path, saved: dict[str, Any]) -> None:
    tensors = load_file(str(folder / "rng.safetensors"))
    torch.set_rng_state(tensors["torch_cpu"])
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(tensors) if k.startswith("torch_cuda_")]
        if states:
            torch.cuda.set_rng_state_all(states)
    version, internal, gauss = saved["python_random"]
    random.setstate((version, tuple(internal), gauss))


def write_checkpoint(
    root: Path, step: int, write_parts: Any, state: dict[str, Any], keep: int = 2
) -> Path:
    """Write `step-N` atomically: `write_parts(folder)` fills it, then state.json, then rename."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:06d}"
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=root))
    try:
        write_parts(staging)
        full_state = {**state, **rng_to_files(staging), "step": step}
        (staging / STATE_FILE).write_text(json.dumps(full_state))
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for old in sorted(complete_checkpoints(root))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def complete_checkpoints(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("step-*") if (p / STATE_FILE).is_file())


def latest_checkpoint(root: Path) -> Path | None:
    found = complete_checkpoints(root)
    return found[-1] if found else None


def read_state(folder: Path) -> dict[str, Any]:
    return json.loads((folder / STATE_FILE).read_text())
