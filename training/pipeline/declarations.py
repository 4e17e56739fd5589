"""How a stage's option is declared, and read back: the field helpers each config dataclass in
options.py uses (`model_input`, `hyperparameter`, `pipeline_switch`, `internal`,
`worker_setting`), the scope each gives its field, and `Option`, one field as the command line,
the app and the dashboard see it. Torch-free and Django-free."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from types import UnionType
from typing import Any, Literal, get_args, get_type_hints

Scope = Literal["input", "hyperparameter", "pipeline", "internal", "worker"]


def model_input(help: str, *, default: Any = MISSING, cli_required: bool = False) -> Any:
    """A model or folder. `cli_required`: the command line insists on it although the config
    can go without (PPO takes a reward function in place of a reward model in tests)."""
    return field(
        default=default, metadata={"scope": "input", "help": help, "cli_required": cli_required}
    )


def hyperparameter(
    default: Any,
    help: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] | None = None,
) -> Any:
    metadata = {
        "scope": "hyperparameter",
        "help": help,
        "minimum": minimum,
        "maximum": maximum,
        "choices": choices,
    }
    return field(default=default, metadata=metadata)


def pipeline_switch(default: bool, help: str) -> Any:
    return field(default=default, metadata={"scope": "pipeline", "help": help})


def internal(default: Any = MISSING, *, default_factory: Any = MISSING) -> Any:
    return field(default=default, default_factory=default_factory, metadata={"scope": "internal"})


def worker_setting(default: int, help: str, *, minimum: float, maximum: float) -> Any:
    metadata = {"scope": "worker", "help": help, "minimum": minimum, "maximum": maximum}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Option:
    """One declared field, as the command line, the app and the dashboard see it."""

    name: str
    scope: Scope
    type: type
    default: Any  # MISSING when the field must be given
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    cli_required: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def required(self) -> bool:
        return self.default is MISSING or self.cli_required

    def as_arguments(self, value: Any) -> list[str]:
        """The command-line words that set this option to `value` (the parser's view of it: a
        boolean is its bare flag, or `--no-...` when it is on by default; None leaves the
        option at its default)."""
        if value is None:
            return []
        if self.type is bool:
            if bool(value) == bool(self.default):
                return []
            return ["--no-" + self.flag.removeprefix("--")] if self.default is True else [self.flag]
        return [self.flag, str(value)]


def _scalar(annotation: Any) -> type:
    """int, float, bool, str or Path; `X | None` is X."""
    if isinstance(annotation, UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    return annotation if isinstance(annotation, type) else object


def options_of(config: type) -> list[Option]:
    """The fields of a config dataclass in their declared order."""
    hints = get_type_hints(config)
    declared = []
    for item in fields(config):
        meta = item.metadata
        declared.append(
            Option(
                name=item.name,
                scope=meta["scope"],
                type=_scalar(hints[item.name]),
                default=item.default,
                help=meta.get("help", ""),
                minimum=meta.get("minimum"),
                maximum=meta.get("maximum"),
                choices=meta.get("choices"),
                cli_required=meta.get("cli_required", False),
            )
        )
    return declared


@dataclass(frozen=True)
class FileArgument:
    """A file a stage reads or writes that is not part of its config."""

    name: str
    help: str
    required: bool = True


@dataclass(frozen=True)
class Stage:
    """A command-line stage: its config, its files, and the app's run kind that runs it."""

    command: str
    help: str
    config: type
    files: tuple[FileArgument, ...]
    kind: str | None = None
    worker_settings: type | None = None
