"""PPO with LoRA on one shared base (training/pipeline/ppo_lora.py): the reference is the base
with the adapter switched off, a killed round resumes from its adapter checkpoint, and the
result is a merged policy plus the adapter with its base named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file

from tests.training.test_ppo import (
    PROMPTS,
    assert_same_run,
    kill_after_second_checkpoint,
    ppo_command,
    run_to_the_end,
    write_prompts,
)
from training.pipeline.data import encode_prompt
from training.pipeline.logprobs import sequence_logprobs
from training.pipeline.model_loading import load_causal_lm, load_tokenizer
from training.pipeline.ppo_lora import AdapterOff, TrunkValue, lora_policy


def _sequences(model_dir: Path) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Two left-padded prompts with a few answer tokens each."""
    tokenizer = load_tokenizer(model_dir, padding_side="left")
    prompts = [encode_prompt(tokenizer, PROMPTS[0]), encode_prompt(tokenizer, PROMPTS[5])[:-2]]
    width = max(len(p) for p in prompts)
    answer = [11, 12, 13, 14, 15]
    ids = torch.full((2, width + len(answer)), int(tokenizer.pad_token_id))
    mask = torch.zeros_like(ids)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt) :] = torch.tensor(prompt + answer)
        mask[row, width - len(prompt) :] = 1
    return ids, mask, width


def test_the_reference_is_the_base_with_the_adapter_off(tiny_model: Path) -> None:
    policy = lora_policy(load_causal_lm(tiny_model), rank=4)
    with torch.no_grad():  # a trained adapter: B is zero when fresh, so move it
        for name, parameter in policy.named_parameters():
            if "lora_B" in name:
                parameter.normal_(std=0.5)
    reference = AdapterOff(policy)
    separate = load_causal_lm(tiny_model).eval()
    ids, mask, width = _sequences(tiny_model)

    with torch.no_grad():
        expected, _ = sequence_logprobs(separate, ids, mask, width, 1.0)
        from_reference, _ = sequence_logprobs(reference, ids, mask, width, 1.0)
        from_policy, _ = sequence_logprobs(policy, ids, mask, width, 1.0)

    assert torch.allclose(from_reference, expected, rtol=0, atol=1e-5)
    assert not torch.allclose(from_policy, expected, rtol=0, atol=1e-2)  # the adapter is on again
    # One copy of the base: the reference owns nothing, the value model only its head.
    assert list(reference.named_parameters()) == []
    value = TrunkValue(policy)
    assert [name for name, _ in value.named_parameters()] == ["head.weight"]
    trainable = [name for name, p in policy.named_parameters() if p.requires_grad]
    assert trainable
    assert all("lora_" in name for name in trainable)


def test_a_lora_round_killed_after_a_checkpoint_resumes_to_the_same_weights(
    tiny_model: Path, tmp_path: Path
) -> None:
    write_prompts(tmp_path)
    env = {**os.environ, "TQDM_DISABLE": "1"}
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    run_to_the_end([*ppo_command(tiny_model, straight, 4), "--lora"], env)

    kill_after_second_checkpoint([*ppo_command(tiny_model, killed, 4), "--lora"], killed, env)
    checkpoint = killed / "checkpoints" / "step-000002"
    # The checkpoint holds the adapter and the head, not the base's weights.
    assert (checkpoint / "policy" / "adapter_model.safetensors").is_file()
    assert not (checkpoint / "policy" / "model.safetensors").exists()
    assert set(load_file(str(checkpoint / "value" / "value_head.safetensors"))) == {"weight"}
    run_to_the_end([*ppo_command(tiny_model, killed, 4), "--lora"], env)

    assert_same_run(straight, killed, 4)
    # The result: a merged policy that differs from the base, and the adapter with its base.
    merged = load_file(str(killed / "policy" / "model.safetensors"))
    base = load_file(str(tiny_model / "model.safetensors"))
    assert not any("lora" in name for name in merged)
    assert any(not torch.equal(merged[name], base[name]) for name in base if name in merged)
    adapter = json.loads((killed / "adapter" / "adapter_config.json").read_text())
    assert Path(adapter["base_model_name_or_path"]).resolve() == tiny_model.resolve()
    metrics = json.loads((killed / "metrics.json").read_text())
    assert metrics["lora_base"] == str(tiny_model)
    assert metrics["adapter"] == str(killed / "adapter")
    assert metrics["watch"].get("error") is None
