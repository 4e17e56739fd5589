"""`Estimate`, what every quality metric returns: a value with its interval and the number of
units it rests on. Plain Python (no numpy), so the report's typed figures can be imported by
the web process without loading the array stack.

Fields are `None` (never NaN) when the quantity is undefined, so nothing downstream ever shows
NaN to a user.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Estimate:
    """A statistic with its confidence interval and the number of units it rests on.

    `value`, `ci_low` and `ci_high` are `None` when undefined (no data, no variation); the
    interval alone is `None` when it was not computed (`n_boot=0`) or cannot be.
    """

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int

    @classmethod
    def undefined(cls, n: int = 0) -> Estimate:
        return cls(value=None, ci_low=None, ci_high=None, n=n)

    def as_dict(self) -> dict[str, float | int | None]:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high, "n": self.n}


def finite_or_none(value: float | None) -> float | None:
    """A Python float, or `None` for None, NaN and infinities."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def make_estimate(value: float, interval: tuple[float | None, float | None], n: int) -> Estimate:
    """An Estimate from a possibly-NaN value: an undefined value carries no interval."""
    defined = finite_or_none(value)
    if defined is None:
        return Estimate.undefined(n)
    return Estimate(value=defined, ci_low=interval[0], ci_high=interval[1], n=n)


_Z95 = 1.959963984540054


def wilson_estimate(k: float, n: float) -> Estimate:
    """A share k/n with its 95 % Wilson interval (the formula of stats.wilson_interval, in
    plain Python: the report makes thousands of these)."""
    if n <= 0:
        return Estimate.undefined()
    k, n = float(min(k, n)), float(n)
    share = k / n
    z2 = _Z95 * _Z95
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # clamped: at k = 0 or k = n rounding would put the bound a hair past the share
    low, high = min(max(0.0, centre - half), share), max(min(1.0, centre + half), share)
    return Estimate(value=share, ci_low=low, ci_high=high, n=int(n))
