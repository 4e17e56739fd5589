"""Where a killed round picks up again: the newest complete checkpoint in a run folder.
Torch-free, so the worker reads the same answer the pipeline acts on.

- PPO (ppo.py, checkpoint.py) writes checkpoints/step-N under a temporary name and renames it
  into place; a folder counts once its state.json is there.
- GRPO and RLOO (critic_free.py, TRL's trainers) write trainer/checkpoint-N in place, the
  trainer state and the generators last; a folder a kill cut short lacks them and is passed
  over."""

from __future__ import annotations

from pathlib import Path

STATE_FILE = "state.json"


def complete_checkpoints(root: Path) -> list[Path]:
    """PPO's complete step-N folders under `root`, oldest first."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("step-*") if (p / STATE_FILE).is_file())


def _step(folder: Path) -> int:
    return int(folder.name.removeprefix("checkpoint-"))


def _generators_of(folder: Path, processes: int | None) -> bool:
    """Every process's generator state written (one file per process under several; one
    rng_state.pth alone); any one when the count is not known."""
    if processes is None:
        return any(folder.glob("rng_state*.pth"))
    if processes == 1:
        return (folder / "rng_state.pth").is_file()
    return all((folder / f"rng_state_{rank}.pth").is_file() for rank in range(processes))


def trainer_checkpoint(trainer_dir: Path, processes: int | None = None) -> Path | None:
    """The newest complete checkpoint-N a TRL trainer wrote under `trainer_dir`: its trainer
    state and, for a run on `processes` processes, every process's generators. A checkpoint
    written by another process count is still taken when none matches (the trainer then
    seeds the missing generators afresh)."""
    stated = [
        p
        for p in trainer_dir.glob("checkpoint-*")
        if p.name.removeprefix("checkpoint-").isdigit() and (p / "trainer_state.json").is_file()
    ]
    for wanted in (processes, None) if processes is not None else (None,):
        complete = [p for p in stated if _generators_of(p, wanted)]
        if complete:
            return max(complete, key=_step)
    return None


def resume_point(run_folder: Path) -> Path | None:
    """The checkpoint a new attempt of the run in `run_folder` starts from, if any."""
    found = complete_checkpoints(run_folder / "checkpoints")
    return found[-1] if found else trainer_checkpoint(run_folder / "trainer")
