"""Hyperparameters each run kind takes, as the app checks them: read from the pipeline's own
declarations (training/pipeline/options.py), so a default, a range or a help line is written
once, there.

Keys are the declared field names (`batch_size` is `--batch-size` on the command line); the
worker turns a run's config into flags with each option's own `Option.as_arguments`. The
worker's own settings (`prompts`: how many of the campaign's prompts
the worker writes to the prompts file) are declared beside them and never become options.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.errors import InvalidInput
from training.pipeline.declarations import Option
from training.pipeline.options import RUN_KINDS, run_kind_options
from training.registry import DEFAULT_BASE

Value = int | float | bool | str

PARAMS: dict[str, dict[str, Option]] = {
    kind: {option.name: option for option in run_kind_options(kind)} for kind in RUN_KINDS
}

_TYPE_NAMES = {bool: "boolean", int: "integer", float: "number", str: "choice"}


def defaults_for(kind: str) -> dict[str, Value | None]:
    """The default hyperparameters of a run kind."""
    return {name: param.default for name, param in PARAMS[kind].items()}


def help_for(kind: str) -> dict[str, str]:
    return {name: param.help for name, param in PARAMS[kind].items()}


def limits_for(kind: str) -> dict[str, dict[str, Any]]:
    """What the form checks before sending: each hyperparameter's type (JSON cannot tell 1.0
    from 1, so whole numbers are marked), its range and its choices."""
    return {
        name: {
            "type": _TYPE_NAMES[param.type],
            "minimum": param.minimum,
            "maximum": param.maximum,
            "choices": list(param.choices) if param.choices else None,
        }
        for name, param in PARAMS[kind].items()
    }


def run_options() -> dict[str, Any]:
    """Defaults and help for each run kind's hyperparameters, and the bases offered."""
    return {
        "defaults": {kind: defaults_for(kind) for kind in PARAMS},
        "help": {kind: help_for(kind) for kind in PARAMS},
        "bases": [DEFAULT_BASE],
    }


def hyperparameter_limits() -> dict[str, dict[str, dict[str, Any]]]:
    return {kind: limits_for(kind) for kind in PARAMS}


def _problem(param: Option, value: Any) -> str | None:
    if param.type is bool:
        return None if isinstance(value, bool) else "Must be true or false."
    if param.choices is not None:
        return None if value in param.choices else f"Must be one of: {', '.join(param.choices)}."
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "Must be a number."
    if param.type is int and not float(value).is_integer():
        return "Must be a whole number."
    if param.minimum is not None and value < param.minimum:
        return f"Must be at least {param.minimum:g}."
    if param.maximum is not None and value > param.maximum:
        return f"Must be at most {param.maximum:g}."
    return None


def resolve_hyperparameters(*, kind: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults with `overrides` merged over them; unknown names and values of the wrong
    type or out of range are refused (InvalidInput, every problem listed)."""
    params = PARAMS[kind]
    errors: dict[str, list[str]] = {}
    for name, value in overrides.items():
        param = params.get(name)
        problem = (
            "Unknown hyperparameter for this kind." if param is None else _problem(param, value)
        )
        if problem:
            errors[name] = [problem]
    if errors:
        raise InvalidInput(
            "Some hyperparameters are unknown or out of range.",
            code="invalid_hyperparameters",
            errors={"hyperparameters": errors},
        )
    merged = {**defaults_for(kind), **overrides}
    return {
        name: int(value) if params[name].type is int else value for name, value in merged.items()
    }
