"""The arena's leaderboard, for admins and ML engineers: a Bradley-Terry fit over the models
with bootstrap intervals, its length-controlled variant, and the comparison it asks next."""

from __future__ import annotations

import math
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.arena import Leaderboard, win_probability
from annotation.models import Campaign
from annotation.services.arena import ArenaBoards, arena_boards
from common.permissions import IsAdminOrMLEngineer


class ArenaStandingSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="The model's name (a version's, or an external one).")
    score = serializers.FloatField(help_text="Bradley-Terry log-strength, centred on the mean.")
    low = serializers.FloatField(allow_null=True, help_text="95 % interval (see resamples).")
    high = serializers.FloatField(allow_null=True)
    comparisons = serializers.IntegerField()
    win_probability_vs_leader = serializers.FloatField(
        help_text="P(this model's answer beats the leader's) under the fit (0.5 for the leader)."
    )
    lead_low = serializers.FloatField(help_text="The leader's lead over it: 95 % interval.")
    lead_high = serializers.FloatField()


class ArenaBoardSerializer(serializers.Serializer):
    standings = ArenaStandingSerializer(many=True, help_text="Best first.")
    comparisons = serializers.IntegerField(help_text="Judgments between two models' answers.")
    length_controlled = serializers.BooleanField()
    length_coefficient = serializers.FloatField(
        allow_null=True, help_text="Log-odds per unit log length ratio (length-controlled fit)."
    )
    top_separated = serializers.BooleanField(
        help_text="The leader beats every other model in 97.5 % of the resamples, every lead's "
        "interval is above 0, and at least min_tasks tasks were judged."
    )
    tasks = serializers.IntegerField(
        help_text="Pairs of answers compared: a task judged by several raters counts once."
    )
    resamples = serializers.IntegerField(
        help_text="Bootstrap resamples of the tasks behind the intervals; 0 past 10,000 "
        "comparisons: the fit's Wald intervals, widened for tasks judged by several raters."
    )


class ArenaSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    models = serializers.ListField(child=serializers.CharField())
    plain = ArenaBoardSerializer()
    length_controlled = ArenaBoardSerializer()
    next_pair = serializers.ListField(
        child=serializers.CharField(), help_text="The two models the next new task compares."
    )
    open_tasks = serializers.IntegerField()
    min_tasks = serializers.IntegerField(
        help_text="Tasks judged before the top can be called separated."
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _board(board: Leaderboard, models: tuple[str, ...]) -> dict[str, Any]:
    leader = board.standings[0].model
    return {
        "standings": [
            {
                "model": models[s.model],
                "score": s.score,
                "low": _finite(s.low),
                "high": _finite(s.high),
                "comparisons": s.comparisons,
                "win_probability_vs_leader": win_probability(board, s.model, leader),
                "lead_low": s.lead_low,
                "lead_high": s.lead_high,
            }
            for s in board.standings
        ],
        "comparisons": board.comparisons,
        "length_controlled": board.length_controlled,
        "length_coefficient": board.length_coefficient,
        "top_separated": board.top_separated,
        "resamples": board.resamples,
        "tasks": board.tasks,
    }


def arena_payload(campaign: Campaign, boards: ArenaBoards) -> dict[str, Any]:
    return {
        "campaign": campaign.pk,
        "models": list(boards.models),
        "plain": _board(boards.plain, boards.models),
        "length_controlled": _board(boards.length_controlled, boards.models),
        "next_pair": list(boards.next_pair),
        "open_tasks": boards.open_tasks,
        "min_tasks": boards.min_tasks,
    }


class ArenaView(APIView):
    """The arena's leaderboards. A campaign that is not an arena, or an arena with fewer than
    two models, is a 400 that says so."""

    permission_classes = [IsAdminOrMLEngineer]

    @extend_schema(responses=ArenaSerializer)
    def get(self, request: Request, pk: int) -> Response:
        campaign = generics.get_object_or_404(Campaign, pk=pk)
        return Response(ArenaSerializer(arena_payload(campaign, arena_boards(campaign))).data)
