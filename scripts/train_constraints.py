"""Write docker/train-constraints.txt: the exact versions of the training stack installed in
this environment (pyproject's `train` extra and everything it pulls in, torch and NVIDIA's
libraries excepted: the Dockerfile pins torch's CUDA or CPU build itself).

    .venv/bin/python scripts/train_constraints.py     (after make install-train)
"""

from __future__ import annotations

import importlib.metadata as metadata
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docker" / "train-constraints.txt"
HEADER = """\
# Exact versions of the training stack in the worker images (Dockerfile targets train-gpu and
# train-cpu): what CI tested, so an image built later trains the same way. torch is pinned in
# the Dockerfile (a CUDA or a CPU build). Written by scripts/train_constraints.py.
"""


def canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def closure(requirements: list[Requirement]) -> dict[str, str]:
    """Installed version of each required distribution and of everything it requires, with
    the extras asked for (`ray[default]` brings the dashboard's packages)."""
    found: dict[str, str] = {}
    pending = [(canonical(r.name), extra) for r in requirements for extra in ("", *r.extras)]
    seen: set[tuple[str, str]] = set()
    while pending:
        name, extra = pending.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency not installed here
        found[name] = dist.version
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
                pending += [(canonical(requirement.name), e) for e in ("", *requirement.extras)]
    return found


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extra = [Requirement(r) for r in project["project"]["optional-dependencies"]["train"]]
    pins = closure([r for r in extra if canonical(r.name) != "torch"])
    pins.pop("torch", None)
    lines = [f"{name}=={version}" for name, version in sorted(pins.items())]
    TARGET.parent.mkdir(exist_ok=True)
    lines = [line for line in lines if not line.startswith("nvidia")]
    TARGET.write_text(HEADER + "\n".join(lines) + "\n")
    print(f"{TARGET.relative_to(ROOT)}: {len(lines)} pins", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
