"""The reward-against-KL chart (the over-optimisation curve of Gao et al., 2022) as a standalone
SVG, for the docs and for reports: the dashboard draws the same data live (RewardKlChart).
Each step of a policy round (PPO, GRPO, RLOO) is a point: its KL from the parent (x, nats per
answer), its mean proxy reward (left axis) and, when the round had a second (gold) reward
model, that model's mean reward (right axis, its own scale: the two models' units differ, so
shapes are compared, not values)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 64, 40, 48
PROXY_COLOUR, GOLD_COLOUR, BUDGET_COLOUR = "#2563eb", "#d97706", "#6b7280"


@dataclass(frozen=True)
class CurvePoint:
    step: int
    kl: float
    proxy: float
    gold: float | None = None


def _span(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or max(abs(high), 1.0) * 0.1
    return low - pad, high + pad


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    return [low + (high - low) * i / (count - 1) for i in range(count)]


class _Frame:
    """Maps data to pixels for one x-range and one y-range."""

    def __init__(self, x: tuple[float, float], y: tuple[float, float]) -> None:
        self.x, self.y = x, y

    def px(self, value: float) -> float:
        low, high = self.x
        return LEFT + (value - low) / (high - low) * (WIDTH - LEFT - RIGHT)

    def py(self, value: float) -> float:
        low, high = self.y
        return HEIGHT - BOTTOM - (value - low) / (high - low) * (HEIGHT - TOP - BOTTOM)


def _series(frame: _Frame, points: list[tuple[float, float]], colour: str, label: str) -> str:
    ordered = sorted(points)
    path = " ".join(f"{frame.px(x):.1f},{frame.py(y):.1f}" for x, y in ordered)
    dots = "".join(
        f'<circle cx="{frame.px(x):.1f}" cy="{frame.py(y):.1f}" r="3" fill="{colour}"/>'
        for x, y in ordered
    )
    return (
        f'<g aria-label="{escape(label)}"><polyline points="{path}" fill="none" '
        f'stroke="{colour}" stroke-width="2"/>{dots}</g>'
    )


def _axes(proxy: _Frame, gold: _Frame | None, budget: float | None) -> list[str]:
    parts = [
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#111"/>'
    ]
    for value in _ticks(*proxy.x):
        parts.append(
            f'<text x="{proxy.px(value):.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{value:.2f}</text>'
        )
    for frame, x, anchor, colour in (
        (proxy, LEFT - 6, "end", PROXY_COLOUR),
        (gold, WIDTH - RIGHT + 6, "start", GOLD_COLOUR),
    ):
        if frame is None:
            continue
        for value in _ticks(*frame.y):
            parts.append(
                f'<text x="{x}" y="{frame.py(value) + 4:.1f}" text-anchor="{anchor}" '
                f'fill="{colour}">{value:.2f}</text>'
            )
    if budget is not None and proxy.x[0] <= budget <= proxy.x[1]:
        parts.append(
            f'<line x1="{proxy.px(budget):.1f}" y1="{TOP}" x2="{proxy.px(budget):.1f}" '
            f'y2="{HEIGHT - BOTTOM}" stroke="{BUDGET_COLOUR}" stroke-dasharray="6 4"/>'
            f'<text x="{proxy.px(budget) - 4:.1f}" y="{TOP + 12}" text-anchor="end" '
            f'fill="{BUDGET_COLOUR}">KL budget</text>'
        )
    return parts


def reward_kl_svg(points: Sequence[CurvePoint], *, title: str, budget: float | None) -> str:
    """The chart as an SVG document; at least one point is needed."""
    if not points:
        raise ValueError("No steps to draw.")
    kls = [p.kl for p in points]
    x_range = _span([*kls, *([budget] if budget is not None and budget <= max(kls) * 2 else [])])
    proxy = _Frame(x_range, _span([p.proxy for p in points]))
    golds = [(p.kl, p.gold) for p in points if p.gold is not None]
    gold = _Frame(x_range, _span([g for _, g in golds])) if golds else None
    body = [
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-weight="bold">'
        f"{escape(title)}</text>",
        *_axes(proxy, gold, budget),
        _series(proxy, [(p.kl, p.proxy) for p in points], PROXY_COLOUR, "proxy reward"),
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 10}" text-anchor="middle">'
        "KL from the parent (nats per answer), one point per step</text>",
        f'<text x="{LEFT}" y="{TOP - 6}" fill="{PROXY_COLOUR}">proxy reward (trained)</text>',
    ]
    if gold is not None:
        body.append(_series(gold, golds, GOLD_COLOUR, "gold reward"))
        body.append(
            f'<text x="{WIDTH - RIGHT}" y="{TOP - 6}" text-anchor="end" '
            f'fill="{GOLD_COLOUR}">gold reward (second model)</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12" role="img">'
        f"<title>{escape(title)}</title>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>' + "".join(body) + "</svg>\n"
    )
