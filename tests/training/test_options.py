"""One declaration per hyperparameter (training/pipeline/options.py): the command line, the
API's validation and the options endpoint the dashboard reads all offer the same options,
with the same defaults, ranges and choices."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from common.errors import InvalidInput
from common.roles import Role
from training.hyperparameters import PARAMS, resolve_hyperparameters
from training.models import RunKind
from training.pipeline.cli import build_parser
from training.pipeline.declarations import Stage, options_of
from training.pipeline.options import RUN_KINDS, STAGES, cli_options

OPTIONS = "/api/v1/training/options/"


@pytest.fixture
def options(client_for: Callable[..., APIClient]) -> dict[str, Any]:
    response = client_for(Role.ML_ENGINEER).get(OPTIONS)
    assert response.status_code == 200
    return dict(response.json())


def stage_parser(stage: Stage) -> argparse.ArgumentParser:
    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    return subparsers.choices[stage.command]


def cli_names(stage: Stage) -> set[str]:
    """Every option of the stage's command line, by its destination name."""
    return {a.dest for a in stage_parser(stage)._actions if a.dest != "help"}


def scoped(stage: Stage, *scopes: str) -> set[str]:
    declared = options_of(stage.config)
    if stage.worker_settings is not None:
        declared += options_of(stage.worker_settings)
    return {o.name for o in declared if o.scope in scopes}


def test_every_run_kind_has_a_stage() -> None:
    assert set(RUN_KINDS) == set(RunKind.values) == set(PARAMS)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.command)
def test_the_command_line_takes_exactly_the_declared_options(stage: Stage) -> None:
    files = {f.name for f in stage.files}
    assert cli_names(stage) == files | scoped(stage, "input", "hyperparameter", "pipeline")
    assert not (scoped(stage, "worker", "internal") - files) & cli_names(stage)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(RUN_KINDS))
def test_no_option_exists_in_one_layer_only(kind: str, options: dict[str, Any]) -> None:
    """The command line's hyperparameters, the API's and the endpoint's are the same set;
    the worker's own settings are the API's alone."""
    stage = RUN_KINDS[kind]
    files = {f.name for f in stage.files}
    cli = cli_names(stage) - files - scoped(stage, "input", "pipeline")
    worker = scoped(stage, "worker")
    assert set(PARAMS[kind]) - worker == cli
    for part in ("defaults", "help", "limits"):
        assert set(options[part][kind]) == set(PARAMS[kind]), part


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(RUN_KINDS))
def test_defaults_and_limits_agree_across_dashboard_api_and_cli(
    kind: str, options: dict[str, Any]
) -> None:
    stage = RUN_KINDS[kind]
    resolved = resolve_hyperparameters(kind=kind, overrides={})
    actions = {a.dest: a for a in stage_parser(stage)._actions}
    for name, param in PARAMS[kind].items():
        assert options["defaults"][kind][name] == resolved[name] == param.default, name
        if param.scope == "hyperparameter":  # not the worker's own settings
            assert actions[name].default == param.default, name
            assert actions[name].choices == param.choices, name
        limits = options["limits"][kind][name]
        assert (limits["minimum"], limits["maximum"]) == (param.minimum, param.maximum), name
        assert limits["choices"] == (list(param.choices) if param.choices else None), name
        assert options["help"][kind][name] == param.help != "", name


@pytest.mark.parametrize("kind", sorted(RUN_KINDS))
def test_the_api_refuses_just_past_each_limit_and_takes_the_limit(kind: str) -> None:
    for name, param in PARAMS[kind].items():
        for bound, step in ((param.minimum, -1), (param.maximum, 1)):
            if bound is None:
                continue
            edge = int(bound) if param.type is int else bound
            assert resolve_hyperparameters(kind=kind, overrides={name: edge})[name] == edge
            past = edge + step if param.type is int else edge + step * max(abs(edge), 1e-9)
            with pytest.raises(InvalidInput):
                resolve_hyperparameters(kind=kind, overrides={name: past})


def test_a_boolean_on_by_default_is_turned_off_with_no_flag() -> None:
    parser = build_parser()
    ppo = ["ppo", "--reward", "r", "--prompts", "p", "--out", "o"]
    assert parser.parse_args(ppo).adaptive_kl is True
    assert parser.parse_args([*ppo, "--no-adaptive-kl"]).adaptive_kl is False
    reward = ["reward", "--data", "d", "--out", "o"]
    assert parser.parse_args([*reward, "--no-bucket-by-length"]).bucket_by_length is False
    assert parser.parse_args([*reward, "--head-init", "probe"]).head_init == "probe"
    with pytest.raises(SystemExit):
        parser.parse_args([*reward, "--head-init", "zeros"])


def test_stored_configs_move_to_the_one_name_and_back() -> None:
    migration = importlib.import_module("training.migrations.0002_one_name_per_hyperparameter")
    old = {"lr": 2e-5, "value_lr": 1e-5, "probe_head": True, "epochs": 2.0}
    new = {"learning_rate": 2e-5, "value_learning_rate": 1e-5, "head_init": "probe", "epochs": 2.0}
    assert migration._forward(old) == new
    assert migration._backward(new) == old
    assert migration._forward({"probe_head": False}) == {"head_init": "random"}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.command)
def test_every_option_renders_arguments_its_parser_reads_back(stage: Stage) -> None:
    """What the worker writes for a value is what the command line parses to that value: a
    boolean on by default is switched off by `--no-...`, not by leaving its flag out."""
    files = [word for f in stage.files for word in (f"--{f.name}", "x")]
    files += [word for o in cli_options(stage) if o.required for word in (o.flag, "x")]
    for option in options_of(stage.config):
        if option.scope not in ("hyperparameter", "pipeline"):
            continue
        value = (not option.default) if option.type is bool else option.default
        parsed = stage_parser(stage).parse_args([*files, *option.as_arguments(value)])
        assert getattr(parsed, option.name) == value, option.name
