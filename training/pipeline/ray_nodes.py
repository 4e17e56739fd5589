"""Inside a Ray job: one stage on the cluster's nodes (`python -m training.pipeline.ray_nodes`).

A placement group reserves one bundle per node (its CPUs and GPUs), spread over the cluster's
nodes; a Ray task on each bundle starts torchrun for its node (`--nnodes`, `--node_rank`,
static rendezvous at node 0's address), and torchrun its processes. One node with one process
runs the stage itself in its task, without torchrun. While the cluster has no room, the run's
log says so. The stage is the same
program as on one machine: torch.distributed does the rest, so nothing here knows about
training. Every torchrun asks to die with its Ray task, and the tasks die with this driver, so
stopping the job stops every process on every node.

    python -m training.pipeline.ray_nodes --nodes 2 --processes 1 --log run.log -- reward ...
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from collections.abc import Sequence

from training.pipeline.cli import die_with_parent

PLACEMENT_WAIT_S = 600.0


def _arguments(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m training.pipeline.ray_nodes")
    parser.add_argument("--nodes", type=int, required=True)
    parser.add_argument("--processes", type=int, default=1, help="per node")
    parser.add_argument("--cpus", type=float, default=1.0, help="per node")
    parser.add_argument("--gpus", type=float, default=0.0, help="per node")
    parser.add_argument("--log", required=True, help="each node's output is appended here")
    parser.add_argument("--wait-s", type=float, default=PLACEMENT_WAIT_S)
    parser.add_argument(
        "--torchrun", action="store_true", help="under torchrun even for one process (DeepSpeed)"
    )
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    options, stage = parser.parse_args(argv[:split]), argv[split + 1 :]
    if not stage:
        parser.error("give the stage and its arguments after --")
    return options, stage


def node_address() -> tuple[str, int]:
    """This node's address and a free port on it, for the rendezvous."""
    import ray

    with socket.socket() as probe:
        probe.bind(("", 0))
        port = int(probe.getsockname()[1])
    return ray.util.get_node_ip_address(), port


def run_node(command: list[str], log: str, threads: int) -> int:
    """One node's torchrun, its output appended to the run's log; its exit status."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    with open(log, "ab") as out:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=die_with_parent,
            check=False,
        )
    return done.returncode


def main(argv: Sequence[str] | None = None) -> int:
    import ray
    from ray.util.placement_group import placement_group
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    options, stage = _arguments(sys.argv[1:] if argv is None else argv)
    ray.init()  # the cluster this job runs on
    bundle = {"CPU": options.cpus, **({"GPU": options.gpus} if options.gpus else {})}
    group = placement_group([bundle] * options.nodes, strategy="SPREAD")
    ready, _ = ray.wait([group.ready()], timeout=5)
    if not ready:
        with open(options.log, "a", encoding="utf-8") as log:
            log.write(f"Ray: waiting for room on the cluster for {options.nodes} x {bundle}\n")
        ready, _ = ray.wait([group.ready()], timeout=options.wait_s)
    if not ready:
        print(
            f"error: the cluster has no room for {options.nodes} nodes of {bundle} "
            f"(waited {options.wait_s:.0f} s)",
            file=sys.stderr,
        )
        return 2

    def on(index: int) -> PlacementGroupSchedulingStrategy:
        return PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=index)

    resources = {"num_cpus": options.cpus, "num_gpus": options.gpus}
    address = ray.remote(node_address).options(scheduling_strategy=on(0), **resources)
    host, port = ray.get(address.remote())
    threads = max(1, int(options.cpus) // options.processes)
    node = ray.remote(max_retries=0)(run_node)
    pending = []
    for rank in range(options.nodes):
        command = [sys.executable, "-m", "training.pipeline", *stage]
        if options.torchrun or options.nodes * options.processes > 1:
            command[1:1] = [
                *("-m", "torch.distributed.run", f"--nnodes={options.nodes}"),
                *(f"--node_rank={rank}", f"--nproc_per_node={options.processes}"),
                *(f"--master_addr={host}", f"--master_port={port}"),
            ]
        task = node.options(scheduling_strategy=on(rank), **resources)
        pending.append(task.remote(command, options.log, threads))
    codes = ray.get(pending)
    failed = [code for code in codes if code != 0]
    if not failed:
        return 0
    # A stage killed by signal N (-N here) exits as a shell would say it: 128 + N.
    return 128 - failed[0] if failed[0] < 0 else failed[0]


if __name__ == "__main__":
    sys.exit(main())
