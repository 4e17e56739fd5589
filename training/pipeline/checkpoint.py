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

from training.pipeline.resume_points import STATE_FILE, complete_checkpoints


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


def rng_snapshot() -> dict[str, Any]:
    """This process's generator states as plain JSON values, so that the main process can
    gather every process's and write them together."""
    version, internal, gauss = random.getstate()
    snapshot: dict[str, Any] = {
        "torch_cpu": torch.get_rng_state().tolist(),
        "python_random": [version, list(internal), gauss],
    }
    if torch.cuda.is_available():
        snapshot["torch_cuda"] = torch.cuda.get_rng_state().tolist()
    return snapshot


def rng_to_files(folder: Path, snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """Write each process's generators (index = process rank): tensors in safetensors, the
    Python generator into the returned JSON state."""
    tensors = {}
    for rank, snapshot in enumerate(snapshots):
        tensors[f"{rank}.torch_cpu"] = torch.tensor(snapshot["torch_cpu"], dtype=torch.uint8)
        if "torch_cuda" in snapshot:
            tensors[f"{rank}.torch_cuda"] = torch.tensor(snapshot["torch_cuda"], dtype=torch.uint8)
    save_file(tensors, str(folder / "rng.safetensors"))
    return {"python_random": [snapshot["python_random"] for snapshot in snapshots]}


def rng_from_files(folder: Path, saved: dict[str, Any], rank: int = 0) -> bool:
    """Restore this process's generators; False when the checkpoint has none for `rank` (it
    was written by fewer processes), so the caller can seed them instead."""
    tensors = load_file(str(folder / "rng.safetensors"))
    if f"{rank}.torch_cpu" not in tensors:
        return False
    torch.set_rng_state(tensors[f"{rank}.torch_cpu"])
    if torch.cuda.is_available() and f"{rank}.torch_cuda" in tensors:
        torch.cuda.set_rng_state(tensors[f"{rank}.torch_cuda"])
    version, internal, gauss = saved["python_random"][rank]
    random.setstate((version, tuple(internal), gauss))
    return True


def write_checkpoint(
    root: Path,
    step: int,
    write_parts: Any,
    state: dict[str, Any],
    rng: list[dict[str, Any]] | None = None,
    keep: int = 2,
) -> Path:
    """Write `step-N` atomically: `write_parts(folder)` fills it, then the generators of every
    process (`rng`, from `rng_snapshot`; this process's alone by default), then state.json,
    then rename. Call it on one process only."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:06d}"
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=root))
    try:
        write_parts(staging)
        snapshots = rng if rng is not None else [rng_snapshot()]
        full_state = {**state, **rng_to_files(staging, snapshots), "step": step}
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


def latest_checkpoint(root: Path) -> Path | None:
    found = complete_checkpoints(root)
    return found[-1] if found else None


def read_state(folder: Path) -> dict[str, Any]:
    return json.loads((folder / STATE_FILE).read_text())
