"""Synthetic prompts whose responses hide a true quality, and how the simulator finds a shown
response's hidden quality. Pure: no ORM, no HTTP.

The responses' wording follows their quality (a band's stem) while their length does not (0..6
fillers), so a length-biased rater gains nothing over chance.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CONCISE_WORDS = 50  # fallback quality halves at this many words

# -- hidden quality -------------------------------------------------------------------------

QualityKey = tuple[tuple[tuple[str, str], ...], str]


def quality_key(conversation: Sequence[Mapping[str, Any]], text: str) -> QualityKey:
    """How the simulator finds a shown response's hidden quality: the conversation and the
    response text, which is all the rater API shows."""
    turns = tuple((str(m.get("role", "")), str(m.get("content", ""))) for m in conversation)
    return turns, text


def concise_quality(text: str) -> float:
    """Quality of a response without a stored sim_quality: the more concise answer that still
    answers is better: 1 / (1 + words / 50), in (0, 1), and 0 for an empty one (it answers
    nothing). Length bias then works against the truth."""
    words = len(text.split())
    return 1.0 / (1.0 + words / CONCISE_WORDS) if words else 0.0


def stored_quality(metadata: object, text: str) -> float:
    """metadata["sim_quality"] when it is a number, else concise_quality(text)."""
    value = metadata.get("sim_quality") if isinstance(metadata, Mapping) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return concise_quality(text)


# -- synthetic prompts ----------------------------------------------------------------------

TOPICS = (
    "keep basil alive indoors",
    "boil an egg with a soft yolk",
    "fix a squeaky door hinge",
    "learn to touch type",
    "clean a cast iron pan",
    "remember people's names",
    "start running without injury",
    "make bread rise faster",
    "get a cat used to a carrier",
    "write a polite complaint letter",
    "keep a sourdough starter",
    "save money on groceries",
    "fall asleep more easily",
    "repot a large houseplant",
    "plan a week of lunches",
    "stop a dripping tap",
    "teach a dog to sit",
    "prepare for a job interview",
    "sharpen a kitchen knife",
    "read more books each year",
)
QUESTIONS = (
    "How do I {topic}?",
    "What is the easiest way to {topic}?",
    "Any tips to {topic}?",
    "I want to {topic}. Where do I start?",
)
# Stems of 14 words in every band, so length says nothing about quality.
STEMS = {
    "good": (
        "start with one small step, check the result, and adjust before you go further.",
        "follow a tested routine and change one thing at a time when it fails.",
        "use the right tool and give it a few calm minutes every single day.",
    ),
    "fair": (
        "it mostly takes patience, and trying a few of the common methods usually helps.",
        "most people manage it with practice, though the details depend on your own case.",
        "look up a guide and try it, since the usual advice works for many.",
    ),
    "poor": (
        "just do whatever feels right to you and never worry about it at all.",
        "it is impossible to say anything useful about this, so maybe just skip it.",
        "buy the most expensive thing you can find, because price is all that matters.",
    ),
}
FILLERS = (
    "Many people ask about this.",
    "It is a common question.",
    "Take your time with it.",
    "Results can vary from day to day.",
    "Everyone has their own habits here.",
    "Some friends of mine tried this too.",
    "It is worth thinking about for a moment.",
    "There is plenty written about it online.",
    "Small details can matter a lot.",
    "Do not expect miracles on the first day.",
)
MAX_FILLERS = 6


@dataclass(frozen=True)
class SyntheticResponse:
    text: str
    quality: float


@dataclass(frozen=True)
class SyntheticPrompt:
    external_id: str
    prompt: str
    responses: tuple[SyntheticResponse, ...]


def _band(quality: float) -> str:
    return "good" if quality >= 2 / 3 else "fair" if quality >= 1 / 3 else "poor"


def _response_text(topic: str, quality: float, rng: random.Random) -> str:
    """The band's stem (wording follows quality) plus 0..6 fillers (length does not)."""
    stem = rng.choice(STEMS[_band(quality)])
    fillers = rng.sample(FILLERS, rng.randint(0, MAX_FILLERS))
    return " ".join([f"To {topic}, {stem}", *fillers])


def synthetic_prompt(number: int, responses: int, rng: random.Random) -> SyntheticPrompt:
    """One made-up question with `responses` distinct answers of uniform random quality."""
    topic = rng.choice(TOPICS)
    question = rng.choice(QUESTIONS).format(topic=topic)
    answers: dict[str, float] = {}
    while len(answers) < responses:
        quality = round(rng.random(), 4)
        answers.setdefault(_response_text(topic, quality, rng), quality)
    return SyntheticPrompt(
        external_id=f"sim-{number}",
        # The number keeps every prompt distinct, so (prompt, text) finds one response.
        prompt=f"Question {number}: {question}",
        responses=tuple(SyntheticResponse(text, q) for text, q in answers.items()),
    )


def synthetic_prompts(count: int, responses: int, rng: random.Random) -> list[SyntheticPrompt]:
    return [synthetic_prompt(number, responses, rng) for number in range(1, count + 1)]
