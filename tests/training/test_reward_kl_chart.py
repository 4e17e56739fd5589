"""The reward-against-KL chart as an SVG (training/charts.py, `manage.py reward_kl_chart`): the
points it draws are the run's stored steps, in KL order, each series on its own scale, the KL
budget marked; bad ids and runs without steps get a clear error."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from training.charts import HEIGHT, CurvePoint, reward_kl_svg
from training.models import RunMetric, TrainingRun

SVG = "{http://www.w3.org/2000/svg}"


def series(svg: str) -> dict[str, list[tuple[float, float]]]:
    """Each labelled polyline's points, in pixels."""
    root = ET.fromstring(svg)  # noqa: S314 (our own output, not untrusted input)
    found = {}
    for group in root.iter(f"{SVG}g"):
        line = group.find(f"{SVG}polyline")
        assert line is not None
        pairs = [point.split(",") for point in line.attrib["points"].split()]
        found[group.attrib["aria-label"]] = [(float(x), float(y)) for x, y in pairs]
    return found


def test_proxy_and_gold_are_drawn_in_kl_order_each_on_its_own_scale() -> None:
    points = [
        CurvePoint(step=1, kl=0.1, proxy=0.0, gold=5.0),
        CurvePoint(step=3, kl=2.0, proxy=2.0, gold=3.0),  # the gold falls as the proxy rises
        CurvePoint(step=2, kl=1.0, proxy=1.0, gold=5.5),
    ]
    svg = reward_kl_svg(points, title="Round 7 <ppo>", budget=1.5)

    drawn = series(svg)
    assert set(drawn) == {"proxy reward", "gold reward"}
    proxy, gold = drawn["proxy reward"], drawn["gold reward"]
    assert [x for x, _ in proxy] == sorted(x for x, _ in proxy)
    assert len(proxy) == len(gold) == 3
    # SVG y grows downwards: the proxy climbs step by step, the gold peaks at KL 1 then falls.
    assert proxy[0][1] > proxy[1][1] > proxy[2][1]
    assert gold[1][1] < gold[0][1] < gold[2][1]
    # Each series spans most of the plot's height on its own scale, though 5.5 and 2.0 differ.
    for line in (proxy, gold):
        ys = [y for _, y in line]
        assert max(ys) - min(ys) > HEIGHT / 2
    assert "KL budget" in svg
    assert "Round 7 &lt;ppo&gt;" in svg


def test_without_a_second_model_only_the_proxy_is_drawn() -> None:
    svg = reward_kl_svg([CurvePoint(step=1, kl=0.5, proxy=1.0)], title="one", budget=None)
    assert set(series(svg)) == {"proxy reward"}
    assert "gold reward" not in svg
    assert "KL budget" not in svg
    with pytest.raises(ValueError, match="No steps"):
        reward_kl_svg([], title="none", budget=None)


@pytest.mark.django_db
def test_the_command_draws_a_stored_round_and_refuses_what_it_cannot_draw(
    tmp_path: Path,
) -> None:
    ppo = TrainingRun.objects.create(kind="ppo", config={"target_kl": 6.0})
    for step, (kl, proxy, gold) in enumerate([(0.2, 0.1, 1.0), (0.9, 0.4, 1.2)], start=1):
        for name, value in (
            ("train/kl", kl),
            ("train/reward_mean", proxy),
            ("train/check_reward_mean", gold),
        ):
            RunMetric.objects.create(run=ppo, step=step, name=name, value=value)
    out = tmp_path / "charts" / "round.svg"
    err = io.StringIO()

    call_command("reward_kl_chart", str(ppo.pk), f"--out={out}", stderr=err)

    assert set(series(out.read_text())) == {"proxy reward", "gold reward"}
    assert "2 steps (proxy and gold)" in err.getvalue()
    reward = TrainingRun.objects.create(kind="reward")
    empty = TrainingRun.objects.create(kind="ppo")
    for run_id, message in (
        (reward.pk, "is a reward run"),
        (empty.pk, "no steps"),
        (10**9, "No run"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("reward_kl_chart", str(run_id), f"--out={out}")
