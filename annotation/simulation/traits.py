"""Synthetic raters with set traits, and how each answers an assignment. Pure: no ORM, no
HTTP; annotation.simulation.driver drives the rater API with them.

How one simulated rater answers a pair (pairwise campaigns), each step drawn in turn:

1. with probability `tie_rate`: a tie (strength about_same);
2. with probability `position_bias`: the response shown first, whatever it says;
3. with probability `length_bias`: the longer response (by characters; equal lengths go on
   to the next step);
4. a spammer (`spam`): either response at random;
5. with probability `accuracy`: the response of higher true quality, else the other one.

So a rater with position bias b and accuracy a follows the truth with probability about
b/2 + (1 - b) a, and picks the first-shown response b + (1 - b)/2 of the time.

For K > 2 responses (rank campaigns, no ties): position bias keeps the display order, length
bias sorts longest first, a spammer shuffles, and otherwise the rater sorts by true rank plus
Gaussian noise, rank_i + N(0, σ²) with σ = 1 / (√2 Φ⁻¹(accuracy)): two responses adjacent
in the true order are one rank apart, so each such pair comes out in the true order with
probability Φ(1 / (σ√2)) = accuracy exactly. Accuracy 0.5 is a uniform shuffle; below 0.5
the rater sorts the same way with 1 - accuracy and reverses (systematically wrong).

With `bt_scale` s > 0 the rater follows the hidden quality with Bradley-Terry noise instead
of `accuracy` (a gold stand-in for people: the quality is then a gold reward model's score):
a pair comes out a over b with probability σ(s (q_a - q_b)), and a K-way ranking is a
Plackett-Luce draw (sorted by s q + Gumbel noise, whose pairwise marginals are exactly that
σ). Ties, position and length bias and spam still apply before it, as above.

Time spent (client_time_ms) is lognormal: median = words shown × `ms_per_word`, log-sd
TIME_LOG_SD.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from statistics import NormalDist
from typing import Any

TIME_LOG_SD = 0.5
MAX_CLIENT_TIME_MS = 24 * 3600 * 1000
CLEAN_MS_PER_WORD = 250.0
SPAM_MS_PER_WORD = 15.0
# Quality gaps (on the 0..1 scale) from which a correct pairwise answer says better / much
# better; below the first, slightly better.
BETTER_GAP = 0.2
MUCH_BETTER_GAP = 0.5

_PROBABILITIES = ("accuracy", "position_bias", "length_bias", "tie_rate")


class TraitsInvalid(ValueError):
    """A trait set that cannot describe a rater."""


@dataclass(frozen=True)
class RaterTraits:
    """What a simulated rater does; see the module docstring for the exact behaviour."""

    accuracy: float = 0.85
    position_bias: float = 0.0
    length_bias: float = 0.0
    spam: bool = False
    tie_rate: float = 0.03
    ms_per_word: float = CLEAN_MS_PER_WORD
    bt_scale: float = 0.0  # > 0: Bradley-Terry noise on the quality (module docstring)

    def __post_init__(self) -> None:
        for name in _PROBABILITIES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TraitsInvalid(f"{name} must be a number, got {value!r}")
            if not 0.0 <= value <= 1.0:
                raise TraitsInvalid(f"{name} must be between 0 and 1, got {value!r}")
        if not isinstance(self.spam, bool):
            raise TraitsInvalid(f"spam must be true or false, got {self.spam!r}")
        speed = self.ms_per_word
        if isinstance(speed, bool) or not isinstance(speed, int | float) or not speed > 0:
            raise TraitsInvalid(f"ms_per_word must be a positive number, got {speed!r}")
        if not math.isfinite(speed):
            raise TraitsInvalid(f"ms_per_word must be finite, got {speed!r}")
        scale = self.bt_scale
        if isinstance(scale, bool) or not isinstance(scale, int | float):
            raise TraitsInvalid(f"bt_scale must be a number, got {scale!r}")
        if not (math.isfinite(scale) and scale >= 0):
            raise TraitsInvalid(f"bt_scale must be zero or a positive number, got {scale!r}")

    @classmethod
    def from_mapping(cls, raw: object, base: RaterTraits | None = None) -> RaterTraits:
        """Traits from a JSON object; keys left out keep `base`'s (default) values."""
        if not isinstance(raw, Mapping):
            raise TraitsInvalid(f"traits must be a JSON object, got {type(raw).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(key) for key in raw if key not in known)
        if unknown:
            raise TraitsInvalid(
                f"unknown trait {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return replace(base or cls(), **raw)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def seeded(seed: int, stream: str) -> random.Random:
    """A reproducible stream of the run's randomness (simulation, not secrets)."""
    return random.Random(f"{seed}:{stream}")  # noqa: S311


def spammer(base: RaterTraits) -> RaterTraits:
    """A spammer: random answers (so accuracy 0.5 in effect), read at a glance."""
    return replace(base, spam=True, accuracy=0.5, ms_per_word=SPAM_MS_PER_WORD)


def assign_traits(
    count: int,
    *,
    clean: RaterTraits,
    position_biased: int = 0,
    position_bias: float = 0.8,
    length_biased: int = 0,
    length_bias: float = 0.8,
    spammers: int = 0,
) -> list[RaterTraits]:
    """Traits for `count` raters: clean ones first, then the position-biased, the
    length-biased and the spammers, in that order, at the end of the list."""
    special = position_biased + length_biased + spammers
    if special > count:
        raise TraitsInvalid(
            f"{special} biased raters and spammers asked for, but only {count} raters"
        )
    return (
        [clean] * (count - special)
        + [replace(clean, position_bias=position_bias)] * position_biased
        + [replace(clean, length_bias=length_bias)] * length_biased
        + [spammer(clean)] * spammers
    )


# -- answering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownResponse:
    """A response as the rater sees it (label, text) plus its hidden true quality."""

    label: str
    text: str
    quality: float


@dataclass(frozen=True)
class Decision:
    """What the rater submits: tiers of labels best first, a strength (pairwise only)."""

    ranking: list[list[str]]
    strength: str
    client_time_ms: int


def decide(
    traits: RaterTraits,
    shown: Sequence[ShownResponse],
    *,
    pairwise: bool,
    prompt_words: int,
    rng: random.Random,
) -> Decision:
    """The rater's answer to one assignment, responses in display order."""
    words = prompt_words + sum(len(response.text.split()) for response in shown)
    time_ms = reading_time_ms(traits, words, rng)
    if pairwise:
        ranking, strength = _answer_pair(traits, shown[0], shown[1], rng)
        return Decision(ranking, strength, time_ms)
    return Decision([[r.label] for r in _rank(traits, shown, rng)], "", time_ms)


def reading_time_ms(traits: RaterTraits, words: int, rng: random.Random) -> int:
    median = max(words, 1) * traits.ms_per_word
    return min(MAX_CLIENT_TIME_MS, max(1, round(median * rng.lognormvariate(0.0, TIME_LOG_SD))))


def _answer_pair(
    traits: RaterTraits, first: ShownResponse, second: ShownResponse, rng: random.Random
) -> tuple[list[list[str]], str]:
    if rng.random() < traits.tie_rate:
        return [[first.label, second.label]], "about_same"
    chosen, strength = _choose(traits, first, second, rng)
    other = second if chosen is first else first
    return [[chosen.label], [other.label]], strength


def _choose(
    traits: RaterTraits, first: ShownResponse, second: ShownResponse, rng: random.Random
) -> tuple[ShownResponse, str]:
    """The chosen one of a pair and the strength the rater claims for it."""
    if rng.random() < traits.position_bias:
        return first, _careless_strength(rng)
    if rng.random() < traits.length_bias and len(first.text) != len(second.text):
        return max(first, second, key=lambda r: len(r.text)), _careless_strength(rng)
    if traits.spam:
        return rng.choice((first, second)), _careless_strength(rng)
    if traits.bt_scale > 0:
        return _bradley_terry_choice(traits.bt_scale, first, second, rng)
    if first.quality == second.quality:
        return rng.choice((first, second)), "slightly_better"
    better, worse = (first, second) if first.quality > second.quality else (second, first)
    if rng.random() < traits.accuracy:
        return better, _strength_for_gap(better.quality - worse.quality)
    return worse, "slightly_better"


def _bradley_terry_choice(
    scale: float, first: ShownResponse, second: ShownResponse, rng: random.Random
) -> tuple[ShownResponse, str]:
    """First with probability σ(scale (q1 - q2)); the strength says how sure the model was
    (the chosen one's probability: 0.9 much better, 0.7 better, else slightly)."""
    p_first = 1.0 / (1.0 + math.exp(-max(min(scale * (first.quality - second.quality), 50), -50)))
    chosen, p = (first, p_first) if rng.random() < p_first else (second, 1.0 - p_first)
    strength = "much_better" if p >= 0.9 else "better" if p >= 0.7 else "slightly_better"
    return chosen, strength


def plackett_luce(
    shown: Sequence[ShownResponse], scale: float, rng: random.Random
) -> list[ShownResponse]:
    """A ranking drawn with probability ∏ exp(s q_i) / Σ_{j left} exp(s q_j): sorted by
    s q + Gumbel(0, 1) noise (the Gumbel-max construction)."""

    def key(response: ShownResponse) -> float:
        uniform = max(rng.random(), 1e-300)
        return scale * response.quality - math.log(-math.log(uniform))

    return sorted(shown, key=key, reverse=True)


def _careless_strength(rng: random.Random) -> str:
    return rng.choice(("much_better", "better", "better", "slightly_better"))


def _strength_for_gap(gap: float) -> str:
    if gap >= MUCH_BETTER_GAP:
        return "much_better"
    return "better" if gap >= BETTER_GAP else "slightly_better"


def _rank(
    traits: RaterTraits, shown: Sequence[ShownResponse], rng: random.Random
) -> list[ShownResponse]:
    if rng.random() < traits.position_bias:
        return list(shown)
    if rng.random() < traits.length_bias:
        return sorted(shown, key=lambda r: -len(r.text))
    if traits.spam:
        return rng.sample(list(shown), len(shown))
    if traits.bt_scale > 0:
        return plackett_luce(shown, traits.bt_scale, rng)
    return noisy_sort(shown, traits.accuracy, rng)


def noisy_sort(
    shown: Sequence[ShownResponse], accuracy: float, rng: random.Random
) -> list[ShownResponse]:
    """Sort by true rank plus noise, so each truly adjacent pair keeps its true order with
    probability `accuracy` (see the module docstring)."""
    if accuracy == 0.5:
        return rng.sample(list(shown), len(shown))
    by_truth = sorted(shown, key=lambda r: -r.quality)
    follows = max(accuracy, 1.0 - accuracy)
    sigma = 0.0 if follows == 1.0 else 1.0 / (math.sqrt(2) * NormalDist().inv_cdf(follows))
    scored = sorted(
        enumerate(by_truth), key=lambda pair: pair[0] + (rng.gauss(0.0, sigma) if sigma else 0)
    )
    ranked = [response for _, response in scored]
    return ranked if accuracy >= 0.5 else ranked[::-1]
