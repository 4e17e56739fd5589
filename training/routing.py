"""Which reward model routes a generation round's new tasks, under a campaign's uncertainty
routing (annotation/routing.py decides per task): the one the run names, or the campaign's
newest reward model when it is an ensemble. A generation run records it as its
`reward_version`; the stage scores every answer under each of its heads."""

from __future__ import annotations

from annotation.models import Campaign, RoutingMode
from common.errors import InvalidInput
from training.models import ModelVersion, VersionKind


def version_heads(version: ModelVersion) -> int:
    """The score heads of a reward version: its run's `ensemble` (1 for a base or imported
    model, and for runs from before ensembles)."""
    config = version.produced_by.config if version.produced_by is not None else {}
    return int(config.get("ensemble") or 1)


def routes_by_uncertainty(campaign: Campaign | None) -> bool:
    return campaign is not None and campaign.routing == RoutingMode.UNCERTAINTY


def routing_reward(*, campaign: Campaign | None, asked: ModelVersion | None) -> ModelVersion | None:
    """The reward model a generation run routes by, or None (every task then goes to raters).
    One asked for must be an ensemble and the campaign must route by uncertainty."""
    if asked is not None:
        if not routes_by_uncertainty(campaign):
            raise InvalidInput(
                "Only a campaign that routes by uncertainty uses a reward model in a generation "
                "run: set its routing to uncertainty first, or leave the reward model out.",
                errors={"reward_version_id": ["The campaign does not route by uncertainty."]},
            )
        if version_heads(asked) < 2:
            raise InvalidInput(
                f"{asked.name} has one score head; routing needs an ensemble's spread.",
                errors={
                    "reward_version_id": [
                        "Routing needs an ensemble: train a reward run with ensemble 2 or more."
                    ]
                },
            )
        return asked
    if not routes_by_uncertainty(campaign):
        return None
    newest = _newest_reward(campaign)
    return newest if newest is not None and version_heads(newest) >= 2 else None


def _newest_reward(campaign: Campaign | None) -> ModelVersion | None:
    versions = ModelVersion.objects.filter(kind=VersionKind.REWARD, campaign=campaign)
    return versions.select_related("produced_by").first()


def why_not_routed(campaign: Campaign) -> str:
    """Why a generation run of a routing campaign had no reward model to route by."""
    newest = _newest_reward(campaign)
    if newest is None:
        return "No reward model for this campaign yet: every task went to raters."
    if version_heads(newest) < 2:
        return (
            f"The campaign's newest reward model, {newest.name}, has one score head: every "
            "task went to raters. Train reward runs with ensemble 2 or more to route."
        )
    return (
        "Routing was switched on after this run was created, so it had no reward model to "
        "route by: every task went to raters."
    )
