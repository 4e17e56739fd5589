"""Training tests run on tiny random models (2 layers, width 64) that use SmolLM2's real
tokenizer, so pad = eos = <|im_end|> exactly as in the embedded model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from common.roles import Role

torch = pytest.importorskip(
    "torch", reason="the ML extra is not installed: pip install -e .[train]"
)

from training.pipeline.model_loading import write_tiny_model  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("models") / "tiny", seed=0)


@pytest.fixture(scope="session")
def peaked_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny policy whose next-token distribution is peaked (entropy ~1.3 nats) like a
    trained model's, so a rule reward can be learned in a few dozen steps."""
    return write_tiny_model(tmp_path_factory.mktemp("models") / "peaked", seed=0, init_std=1.0)


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)


@pytest.fixture
def ml(client_for: Callable[..., APIClient]) -> APIClient:
    """An ML engineer's API client."""
    return client_for(Role.ML_ENGINEER)
