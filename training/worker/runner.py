"""Runs one pipeline stage (`python -m training.pipeline STAGE ...`) as a child process and
streams what it reports.

The child gets its own process group, so cancelling stops everything it started, and it is
asked to die with its parent (PR_SET_PDEATHSIG), so a `kill -9` of the worker does not leave a
GPU busy with an orphan. A crash or an out-of-memory kill of the child only fails the run.
The caller's `on_poll` sees new progress lines about once a second and says whether to stop.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

LOG_TAIL_BYTES = 4096
METRIC_NAME_MAX = 64  # RunMetric.name's length
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ProgressLine:
    event: str
    step: int
    total: int
    metrics: dict[str, float]
    time: float | None = None


@dataclass(frozen=True)
class StageOutcome:
    returncode: int | None
    stopped: str = ""  # why we stopped it: "cancelled", "lost", "time limit"; "" if it exited
    error: str = ""


@dataclass
class PollReport:
    lines: list[ProgressLine]
    log_tail: str


PollCallback = Callable[[PollReport], str]
"""Receives each poll's news; returns "" to go on, or a reason to stop the stage."""


def parse_progress_line(text: str) -> ProgressLine | None:
    """One progress.jsonl line, or None for anything that is not a well-formed one."""
    try:
        row = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(row, dict) or not isinstance(row.get("event"), str):
        return None
    step, total = row.get("step"), row.get("total")
    if not isinstance(step, int) or not isinstance(total, int) or step < 0 or total < 0:
        return None
    raw = row.get("metrics")
    metrics = {
        str(k): float(v)
        for k, v in (raw.items() if isinstance(raw, dict) else [])
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }
    when = row.get("time")
    return ProgressLine(
        row["event"], step, total, metrics, float(when) if isinstance(when, int | float) else None
    )


def metric_points(line: ProgressLine) -> list[tuple[int, str, float]]:
    """(step, name, value) per metric, named f"{event}/{key}"; too-long names are skipped."""
    points = [(line.step, f"{line.event}/{key}", value) for key, value in line.metrics.items()]
    return [point for point in points if len(point[1]) <= METRIC_NAME_MAX]


@dataclass
class ProgressReader:
    """Follows a growing JSONL file by byte offset; a line still being written (no newline
    yet) waits for the next read, so no line is parsed half-written."""

    path: Path
    offset: int = 0
    partial: bytes = field(default=b"", repr=False)

    def read_new(self) -> list[ProgressLine]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        data = self.partial + chunk
        complete, newline, self.partial = data.rpartition(b"\n")
        if not newline:
            return []
        texts = complete.decode("utf-8", "replace").split("\n")
        lines = (parse_progress_line(text) for text in texts)
        return [line for line in lines if line is not None]


def log_tail(path: Path, size: int = LOG_TAIL_BYTES) -> str:
    """The last `size` bytes of a log, with progress bars' carriage returns as line breaks."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - size))
            data = handle.read()
    except FileNotFoundError:
        return ""
    return data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")


MISSING_MODULE = re.compile(r"^ModuleNotFoundError: No module named '([\w.]+)'", re.MULTILINE)
INSTALL_HINT = (
    "This worker cannot train: its Python lacks {module}, part of the training stack. On the "
    "worker's machine run `make install-train` (or `pip install torch==2.13.0` then "
    "`pip install -e '.[train]'`), restart the worker, and start the run again."
)


# torchrun exits 1 when a process fails; its report names each failed process's own status.
LAUNCHER_EXIT = re.compile(r"^\s*exitcode\s*:\s*(-?\d+)", re.MULTILINE)


def failure_message(returncode: int, tail: str) -> str:
    """Exit status 2 is an input error and the pipeline's one `error:` line says it all; a
    missing ML package says how to install it; anything else gets the last lines of output (a
    traceback, usually). Under torchrun, the failed process's own status counts."""
    # Its report ends with the root cause (the first failure); the others were stopped after it.
    launched = LAUNCHER_EXIT.findall(tail) if returncode == 1 else []
    if launched:
        returncode = int(launched[-1])
    missing = MISSING_MODULE.search(tail)
    if returncode == 1 and missing:
        return INSTALL_HINT.format(module=missing.group(1).split(".")[0])
    lines = [line for line in tail.splitlines() if line.strip()]
    if returncode == 2:
        errors = [line for line in lines if line.startswith("error: ")]
        if errors:
            return errors[-1].removeprefix("error: ")
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else ""
        head = f"The pipeline was killed by signal {-returncode} {name}".rstrip()
        return head + " (out of memory?)\n" + "\n".join(lines[-10:])
    return f"The pipeline exited with status {returncode}:\n" + "\n".join(lines[-20:])


def pipeline_python() -> str:
    """The interpreter training stages run under (the worker's own unless configured)."""
    return settings.TRAINING_PIPELINE_PYTHON or sys.executable


# The stages that split their batches over several processes (the rest run in one).
MULTI_PROCESS_STAGES = ("reward", "dpo", "ppo", "grpo", "rloo")


def training_world_size() -> int:
    """The processes a multi-process stage runs on: TRAINING_PROCESSES, on each of
    RAY_TRAINING_NODES nodes under the Ray backend."""
    nodes = settings.RAY_TRAINING_NODES if settings.TRAINING_BACKEND == "ray" else 1
    return settings.TRAINING_PROCESSES * nodes


def multi_process(stage: str) -> bool:
    return settings.TRAINING_PROCESSES > 1 and stage in MULTI_PROCESS_STAGES


def stage_environment(stage: str, env: dict[str, str] | None) -> dict[str, str] | None:
    """torchrun gives each process one thread unless told otherwise: on CPUs, give each its
    share of the machine's cores instead (an OMP_NUM_THREADS already set is kept)."""
    if not multi_process(stage):
        return env
    merged = dict(os.environ if env is None else env)
    cores = max(1, (os.cpu_count() or 1) // settings.TRAINING_PROCESSES)
    merged.setdefault("OMP_NUM_THREADS", str(cores))
    return merged


def pipeline_command(stage: str, args: Sequence[str], *, launcher: bool = False) -> list[str]:
    """The stage's command line; with TRAINING_PROCESSES above 1, a multi-process stage starts
    under torchrun on this machine (gloo on CPUs, NCCL on GPUs: accelerate picks), each process
    taking its share of every batch. `launcher`: under torchrun even on one process (DeepSpeed
    needs the process group torchrun sets up)."""
    python = pipeline_python()
    if multi_process(stage) or (launcher and stage in MULTI_PROCESS_STAGES):
        processes = settings.TRAINING_PROCESSES if multi_process(stage) else 1
        torchrun = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
        return [python, *torchrun, "-m", "training.pipeline", stage, *args]
    return [python, "-m", "training.pipeline", stage, *args]


def _die_with_parent(parent: int) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return setup


def _stop_group(process: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM to the whole group, then SIGKILL after the grace period."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 30.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):  # the stage's own children may outlive it
        os.killpg(process.pid, signal.SIGKILL)


def run_stage(
    stage: str,
    args: Sequence[str],
    *,
    out: Path,
    log_path: Path,
    on_poll: PollCallback,
    poll_s: float = 1.0,
    grace_s: float = 10.0,
    time_limit_s: float | None = None,
    env: dict[str, str] | None = None,
    launcher: bool = False,
) -> StageOutcome:
    """Run the stage to its end (or until `on_poll` or the time limit stops it); stdout and
    stderr go to `log_path`, progress is read from `out/progress.jsonl`."""
    # From the start even when resuming: lines written just before a crash were perhaps never
    # reported, and metrics already stored are skipped by the caller's unique constraint.
    reader = ProgressReader(out / "progress.jsonl")
    deadline = time.monotonic() + time_limit_s if time_limit_s else math.inf
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            pipeline_command(stage, args, launcher=launcher),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
            env=stage_environment(stage, env),
        )
    stopped = ""
    try:
        while process.poll() is None and not stopped:
            time.sleep(poll_s)
            stopped = on_poll(PollReport(reader.read_new(), log_tail(log_path)))
            if not stopped and time.monotonic() > deadline:
                stopped = "time limit"
    finally:
        if process.poll() is None:
            _stop_group(process, grace_s)
    # Lines written between the last poll and the exit.
    on_poll(PollReport(reader.read_new(), log_tail(log_path)))
    if stopped:
        return StageOutcome(process.returncode, stopped=stopped)
    code = process.returncode
    error = "" if code == 0 else failure_message(code, log_tail(log_path))
    return StageOutcome(code, error=error)


def read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}
