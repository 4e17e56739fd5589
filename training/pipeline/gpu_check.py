"""`python -m training.pipeline gpu-check`: is this machine ready to train, and how fast?

On a CUDA machine each stage runs briefly on the embedded model (SmolLM2-135M) in bfloat16,
through the same functions a run uses, on a small synthetic data set: reward pairs/s with the
peak GPU memory and an MFU estimate, DPO steps/s, PPO s/step and tokens generated per second,
and plain generation tokens/s. One JSON line on stdout. Without CUDA it says so and exits with
status 3 (`--allow-cpu` runs it anyway, for testing the check itself on a tiny model).
"""

from __future__ import annotations

import contextlib
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from training.pipeline.data import Messages, PreferencePair
from training.pipeline.errors import PipelineError

NO_CUDA_STATUS = 3

# Dense bfloat16 peak of common training GPUs, in TFLOP/s (vendors' data sheets, no sparsity),
# matched against the device's name in this order (so "H100 PCIe" before "H100", "L40S" before
# "L40" before "L4"). A GPU not listed gets no MFU unless --peak-tflops is given.
PEAK_BF16_TFLOPS = (
    ("H200", 989.0),
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H100", 989.0),
    ("A100", 312.0),
    ("L40S", 362.0),
    ("L40", 181.0),
    ("A10G", 70.0),
    ("L4", 121.0),
    ("RTX 4090", 165.0),
)

TOPICS = (
    "photosynthesis", "compound interest", "the water cycle", "a hash table", "tides",
    "vaccines", "inflation", "recursion", "plate tectonics", "the immune system",
    "supply and demand", "a binary search", "rainbows", "jet engines", "the printing press",
    "black holes",
)  # fmt: skip


def _prompt(topic: str) -> Messages:
    return [{"role": "user", "content": f"Explain {topic} to a curious twelve-year-old."}]


def synthetic_pairs(count: int) -> list[PreferencePair]:
    """Pairs with a clear, learnable preference (a focused answer over a rambling one) and
    realistic lengths (about 60 and 120 tokens)."""
    pairs = []
    for index in range(count):
        topic = TOPICS[index % len(TOPICS)]
        focused = (
            f"{topic.capitalize()} is easier than it sounds. Start with what you can see, "
            f"then ask why it happens. In short: {topic} follows a few simple rules, and once "
            "you know them you can predict what comes next."
        )
        rambling = " ".join(
            [f"Well, {topic} is something people talk about a lot and it is complicated."] * 6
        )
        pairs.append(PreferencePair(_prompt(f"{topic} (example {index})"), focused, rambling))
    return pairs


def synthetic_prompts(count: int) -> list[Messages]:
    return [_prompt(TOPICS[index % len(TOPICS)]) for index in range(count)]


def peak_tflops(device_name: str, given: float | None) -> float | None:
    if given is not None:
        return given
    for marker, tflops in PEAK_BF16_TFLOPS:
        if marker in device_name:
            return tflops
    return None


def parameter_count(model_path: str) -> int:
    """Parameters that cost FLOPs per token in a reward model: all but the embedding (a lookup;
    tied to the LM head, which a reward model does not have)."""
    from training.pipeline.model_loading import load_causal_lm

    model = load_causal_lm(model_path)
    count = sum(p.numel() for p in model.parameters())
    embedding: Any = model.get_input_embeddings()
    count -= embedding.weight.numel()
    del model
    return count


def _measured(stage: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], float, float]:
    """The stage's result, its wall time, and its peak memory in GiB: the GPU's allocator peak
    on CUDA, the process's peak resident set on the CPU (which never goes down)."""
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    result = stage()
    seconds = time.perf_counter() - started
    if torch.cuda.is_available():
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return result, seconds, peak


def _reward(model: str, work: Path, bf16: bool, pairs: list[PreferencePair]) -> dict[str, Any]:
    from training.pipeline.data import encode_pairs
    from training.pipeline.model_loading import load_tokenizer
    from training.pipeline.options import RewardTrainingConfig
    from training.pipeline.reward import train_reward_model

    config = RewardTrainingConfig(
        base=model, out=work / "reward", epochs=1.0, batch_size=8, bf16=bf16,
        validation_fraction=0.0, max_length=512, learning_rate=1e-5,
    )  # fmt: skip
    result, seconds, peak = _measured(lambda: train_reward_model(config, pairs))
    rows = encode_pairs(load_tokenizer(model, padding_side="right"), pairs, 512)
    tokens = sum(len(r["chosen_ids"]) + len(r["rejected_ids"]) for r in rows)
    return {
        "reward_pairs_per_second": result["pairs_per_second"],
        "reward_tokens_per_second": tokens / result["train_seconds"],
        "reward_peak_memory_gib": peak,
        "reward_seconds": seconds,
    }


def _dpo(model: str, work: Path, bf16: bool, pairs: list[PreferencePair]) -> dict[str, Any]:
    from training.pipeline.dpo import train_dpo
    from training.pipeline.options import DPOTrainingConfig

    config = DPOTrainingConfig(
        base=model, out=work / "dpo", epochs=1.0, batch_size=4, bf16=bf16, watch_prompts=0,
        max_length=512,
    )  # fmt: skip
    result, seconds, peak = _measured(lambda: train_dpo(config, pairs))
    return {
        "dpo_steps_per_second": result["steps"] / result["train_seconds"],
        "dpo_peak_memory_gib": peak,
        "dpo_seconds": seconds,
    }


def _ppo(model: str, work: Path, bf16: bool, prompts: list[Messages], steps: int) -> dict[str, Any]:
    from training.pipeline.options import PPOConfig
    from training.pipeline.ppo import PPOTrainer

    config = PPOConfig(
        policy=model, reward=str(work / "reward" / "model"), out=work / "ppo", steps=steps,
        batch_size=8, minibatch_size=4, max_new_tokens=64, bf16=bf16, watch_prompts=0,
        checkpoint_every=steps,
    )  # fmt: skip
    result, seconds, peak = _measured(lambda: PPOTrainer(config, prompts).train())
    history = result["history"]
    return {
        "ppo_seconds_per_step": sum(h["seconds"] for h in history) / len(history),
        "ppo_generation_tokens_per_second": sum(
            h["generation_tokens_per_second"] for h in history
        ) / len(history),
        "ppo_peak_memory_gib": peak,
        "ppo_seconds": seconds,
    }  # fmt: skip


def _generate(model: str, work: Path, bf16: bool, prompts: list[Messages]) -> dict[str, Any]:
    from training.pipeline.generation import generate_to_file
    from training.pipeline.options import GenerationConfig

    config = GenerationConfig(policy=model, k=4, max_new_tokens=128, batch_size=16, bf16=bf16)
    result, _, peak = _measured(
        lambda: generate_to_file(config, prompts, work / "generate" / "out.jsonl")
    )
    return {
        "generation_tokens_per_second": result["tokens_per_second"],
        "generation_peak_memory_gib": peak,
        "generation_seconds": result["seconds"],
    }


def _device() -> dict[str, Any]:
    if not torch.cuda.is_available():
        return {"device": "cpu", "cuda": None}
    properties = torch.cuda.get_device_properties(0)
    return {
        "device": properties.name,
        "cuda": torch.version.cuda,
        "device_memory_gib": properties.total_memory / 2**30,
        "bf16_supported": torch.cuda.is_bf16_supported(),
    }


def gpu_check(model: str, pairs: int, ppo_steps: int, given_tflops: float | None) -> dict[str, Any]:
    """Every stage once, briefly; the figures of each as one flat dict."""
    device = _device()
    bf16 = bool(device.get("bf16_supported"))
    figures: dict[str, Any] = {"model": model, "bf16": bf16, "torch": torch.__version__, **device}
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as folder:
        work = Path(folder)
        figures.update(_reward(model, work, bf16, synthetic_pairs(pairs)))
        figures.update(_dpo(model, work, bf16, synthetic_pairs(pairs)))
        figures.update(_ppo(model, work, bf16, synthetic_prompts(16), ppo_steps))
        figures.update(_generate(model, work, bf16, synthetic_prompts(16)))
    parameters = parameter_count(model)
    peak = peak_tflops(str(figures["device"]), given_tflops) if device["cuda"] else None
    # Training costs about 6 FLOPs per parameter per token (forward 2, backward 4), counting
    # the transformer's matrices: the embedding is a lookup and a reward model has no LM head.
    achieved = 6 * parameters * figures["reward_tokens_per_second"] / 1e12
    figures.update(
        {
            "parameters": parameters,
            "reward_tflops": achieved,
            "peak_bf16_tflops": peak,
            "reward_mfu": achieved / peak if peak else None,
        }
    )
    return figures


def run(args: Any) -> int:
    """The CLI's entry: status 3 and a plain message when there is no GPU."""
    if not torch.cuda.is_available() and not args.allow_cpu:
        print(
            f"gpu-check: no CUDA device (torch {torch.__version__}, built for CUDA "
            f"{torch.version.cuda or 'none'}). It measures the training stages on a GPU; "
            "run it on the GPU worker's machine (make gpu-check).",
            file=sys.stderr,
        )
        return NO_CUDA_STATUS
    try:
        # The trainers print their logs on stdout: keep it for the one JSON line.
        with contextlib.redirect_stdout(sys.stderr):
            figures = gpu_check(args.model, args.pairs, args.ppo_steps, args.peak_tflops)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(figures))
    return 0
