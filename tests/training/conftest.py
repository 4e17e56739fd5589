"""Training tests run on tiny random models (2 layers, width 64) that use SmolLM2's real
tokenizer, so pad = eos = <|im_end|> exactly as in the embedded model."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from rest_framework.test import APIClient

from annotation.simulation.prompts import QUESTIONS, TOPICS
from common.roles import Role

if TYPE_CHECKING:
    from torch import Tensor

torch = pytest.importorskip(
    "torch", reason="the ML extra is not installed: pip install -e .[train]"
)

# The worker-path tests' fixtures (each test's own Celery queue and artifacts folder).
from tests.training.celery_worker import artifacts, queue  # noqa: E402, F401
from training.pipeline.data import encode_prompt  # noqa: E402
from training.pipeline.model_loading import (  # noqa: E402
    load_causal_lm,
    load_tokenizer,
    write_tiny_model,
)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("models") / "tiny", seed=0)


@pytest.fixture(scope="session")
def peaked_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny policy whose next-token distribution is peaked (entropy ~1.3 nats) like a
    trained model's, so a rule reward can be learned in a few dozen steps."""
    return write_tiny_model(tmp_path_factory.mktemp("models") / "peaked", seed=0, init_std=1.0)


@pytest.fixture(scope="session")
def stopping_policy(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model made to end its answers now and then, as a chat model does, so that
    "shorter" is there to learn: a random model never samples its end token (p ~ 1e-18), so
    its every answer runs to max_new_tokens."""
    return write_stopping_policy(tiny_model, tmp_path_factory.mktemp("models") / "stopping")


STOP_DIMENSION = 0  # the hidden dimension that carries "end here"


def write_stopping_policy(
    source: Path, target: Path, stop: float = 0.06, spread: float = 3.0, gain: float = 10.0
) -> Path:
    """`source` (a near-uniform tiny model) with one hidden dimension made a knob for ending.
    Every token's input embedding holds the same value there, so after the final norm it is
    about the same at every position, and the end token's output row reads it alone (no other
    token's does): the end's chance is about the same after every token, set by `stop` (its
    probability at the median position of replies sampled before it could come; about 0.1 per
    token once it can, more under the loop's sampler at temperature 0.8). The newline that
    opens the answer holds the opposite value, so an answer almost never ends before its first
    token (an empty answer answers nothing). The other tokens' logits get a spread of `spread`
    (a few nats of entropy, like a trained model's: a top-k sampler then keeps most of their
    mass); `gain`, the final norm's weight on the knob, makes it quick for training to turn."""
    tokenizer, model = load_tokenizer(source), load_causal_lm(source)
    embeddings: Any = model.get_input_embeddings().weight
    # A fresh output layer, untied: a token's own input row would make it repeat itself.
    model.config.tie_word_embeddings = False
    generator = torch.Generator().manual_seed(0)
    model.lm_head.weight = torch.nn.Parameter(torch.randn(embeddings.shape, generator=generator))
    output, end = model.lm_head.weight, int(tokenizer.eos_token_id)
    opening = encode_prompt(tokenizer, [{"role": "user", "content": "?"}])[-1]
    with torch.no_grad():
        embeddings[:, STOP_DIMENSION] = 0.5
        embeddings[opening, STOP_DIMENSION] = -0.5
        model.model.norm.weight[STOP_DIMENSION] = gain
        output[:, STOP_DIMENSION] = 0.0
        output[end] = 0.0
        _, logits = _reply_logits(model, tokenizer)
        output *= spread / float(logits.std(dim=-1).mean())
        knob, logits = _reply_logits(model, tokenizer)
        wanted = logits.logsumexp(dim=-1) + math.log(stop / (1 - stop))
        output[end, STOP_DIMENSION] = (wanted / knob).median()
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


@torch.no_grad()
def _reply_logits(model: Any, tokenizer: Any, tokens: int = 8) -> tuple[Tensor, Tensor]:
    """At every position after the first of sampled replies to a few everyday questions: the
    knob's value after the final norm, and the logits of every token but the end."""
    torch.manual_seed(0)
    knobs, logits = [], []
    for topic in TOPICS[:8]:
        prompt = [{"role": "user", "content": QUESTIONS[0].format(topic=topic)}]
        ids = torch.tensor([encode_prompt(tokenizer, prompt)])
        replies = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            do_sample=True,
            max_new_tokens=tokens,
            num_return_sequences=2,
            pad_token_id=tokenizer.pad_token_id,
        )
        hidden = model.model(input_ids=replies).last_hidden_state[:, ids.shape[1] :]
        knobs.append(hidden[..., STOP_DIMENSION].flatten())
        others = model.lm_head(hidden).flatten(0, 1)
        logits.append(others[:, torch.arange(others.shape[1]) != tokenizer.eos_token_id])
    return torch.cat(knobs), torch.cat(logits)


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)


@pytest.fixture
def ml(client_for: Callable[..., APIClient]) -> APIClient:
    """An ML engineer's API client."""
    return client_for(Role.ML_ENGINEER)
