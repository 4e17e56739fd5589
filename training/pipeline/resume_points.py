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


def trainer_checkpoint(trainer_dir: Path) -> Path | None:
    """The newest complete checkpoint-N a TRL trainer wrote under `trainer_dir`."""
    complete = [
        p
        for p in trainer_dir.glob("checkpoint-*")
        if p.name.removeprefix("checkpoint-").isdigit()
        and (p / "trainer_state.json").is_file()
        and any(p.glob("rng_state*.pth"))
    ]
    return max(complete, key=_step, default=None)


def resume_point(run_folder: Path) -> Path | None:
    """The checkpoint a new attempt of the run in `run_folder` starts from, if any."""
    found = complete_checkpoints(run_folder / "checkpoints")
    return found[-1] if found else trainer_checkpoint(run_folder / "trainer")
