"""A run's dataset as asked: filters over the annotation data, stored on the run as JSON and
turned into an `annotation.selectors.preferences.PreferenceFilter` when the snapshot is frozen."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from annotation.models import Campaign, RaterPool
from annotation.selectors.preferences import PreferenceFilter
from annotation.selectors.safety import UNSAFE_TREATMENTS
from common.errors import InvalidInput
from training.models import DatasetMode

DATASET_DEFAULTS: dict[str, Any] = {
    "mode": DatasetMode.CONSENSUS.value,
    "campaign_ids": [],
    "since": None,
    "until": None,
    "pool_ids": [],
    "min_rater_quality": None,
    "exclude_paused": True,
    "exclude_gold": True,
    # A ranking of answers the rater flagged "all responses are bad" is no preference.
    "exclude_all_bad": True,
    # A response flagged unsafe goes below every safe response of its judgment (or the pairs
    # it is in are dropped, or the flag is ignored, or only such pairs are kept: the safety
    # set); annotation.selectors.safety says exactly how.
    "unsafe": "below",
    # Pairs the reward model labelled under a campaign's uncertainty routing: never unless asked.
    "model_labels": False,
}


def _moment(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        moment = value
    else:
        moment = parse_datetime(str(value))
        if moment is None:
            raise ValueError("Not an ISO 8601 date and time.")
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _ids(value: object) -> list[int]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        raise ValueError("Must be a list of ids.")
    return sorted(set(value))


def _unknown_ids(model: type[Campaign] | type[RaterPool], ids: list[int]) -> list[int]:
    found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    return [i for i in ids if i not in found]


def _parse(merged: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    parsers: dict[str, Any] = {
        "mode": lambda v: DatasetMode(v).value,
        "campaign_ids": _ids,
        "pool_ids": _ids,
        "since": _moment,
        "until": _moment,
        "min_rater_quality": lambda v: None if v is None else _quality(v),
        "exclude_paused": _flag,
        "exclude_gold": _flag,
        "exclude_all_bad": _flag,
        "unsafe": _treatment,
        "model_labels": _flag,
    }
    parsed = {}
    for name, parse in parsers.items():
        try:
            parsed[name] = parse(merged[name])
        except ValueError as error:
            errors[name] = [str(error) or "Invalid value."]
    return parsed


def _quality(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError("Must be a number from 0 to 1.")
    return float(value)


def _treatment(value: object) -> str:
    if value not in UNSAFE_TREATMENTS:
        raise ValueError(f"Must be one of {', '.join(UNSAFE_TREATMENTS)}.")
    return str(value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("Must be true or false.")
    return value


def _check(parsed: dict[str, Any], errors: dict[str, list[str]]) -> None:
    for name, model in (("campaign_ids", Campaign), ("pool_ids", RaterPool)):
        if name in parsed and (unknown := _unknown_ids(model, parsed[name])):
            errors[name] = [f"Unknown ids: {', '.join(map(str, unknown))}."]
    if parsed.get("unsafe") == "safety" and parsed.get("mode") == DatasetMode.CONSENSUS.value:
        # a consensus fit ranks every answer of a task: its pairs cannot stay safe-vs-unsafe
        errors["unsafe"] = ["The safety set is made of single judgments' pairs: use mode all."]
    since, until = parsed.get("since"), parsed.get("until")
    if since is not None and until is not None and since >= until:
        errors["until"] = ["Must be after since."]


def normalize_dataset(*, dataset: Mapping[str, Any], campaign: Campaign | None) -> dict[str, Any]:
    """The dataset with defaults filled, ids sorted, times in ISO 8601, and the run's campaign
    as the only campaign when none was named; InvalidInput lists every bad field."""
    errors: dict[str, list[str]] = {
        name: ["Unknown dataset field."] for name in dataset if name not in DATASET_DEFAULTS
    }
    parsed = _parse({**DATASET_DEFAULTS, **dataset}, errors)
    _check(parsed, errors)
    if errors:
        raise InvalidInput("The dataset filters are invalid.", errors={"dataset": errors})
    if not parsed["campaign_ids"] and campaign is not None:
        parsed["campaign_ids"] = [campaign.pk]
    for name in ("since", "until"):
        parsed[name] = parsed[name].isoformat() if parsed[name] else None
    return parsed


def dataset_filter(dataset: Mapping[str, Any]) -> PreferenceFilter:
    """The annotation filter of a normalized dataset (repeats are never training data)."""
    return PreferenceFilter(
        campaign_ids=tuple(dataset["campaign_ids"]),
        since=_moment(dataset["since"]),
        until=_moment(dataset["until"]),
        pool_ids=tuple(dataset["pool_ids"]),
        min_rater_quality=dataset["min_rater_quality"],
        exclude_paused=dataset["exclude_paused"],
        exclude_gold=dataset["exclude_gold"],
        exclude_repeats=True,
        # datasets stored before the option existed kept every judgment
        exclude_all_bad=dataset.get("exclude_all_bad", False),
        unsafe=dataset.get("unsafe", "ignore"),
    )
