"""docker-compose.yml as compose reads it: the YAML with its merge keys, and the variable
interpolation of the Compose specification (`$$`, `${NAME}`, `${NAME:-default}`,
`${NAME-default}`, `${NAME:?message}`, `${NAME?message}`, `$NAME`), so tests can check what a
service would really be given."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(ValueError):
    """A required variable (`${NAME:?message}`) is not set: compose refuses to start."""


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def interpolate(text: str, env: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["name"] or match["bare"]
        value, op = env.get(name), match["op"]
        unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":?", "?") and unset:
            raise MissingVariable(f"{name}: {match['arg']}")
        if op in (":-", "-") and unset:
            return str(match["arg"])
        return value or ""

    return VARIABLE.sub(replace, text)


def variables(text: str) -> dict[str, str | None]:
    """Every variable the text reads, with its operator (None for a plain reference)."""
    found: dict[str, str | None] = {}
    for match in VARIABLE.finditer(text):
        if not match["escaped"]:
            found[match["name"] or match["bare"]] = match["op"]
    return found


def service_environment(name: str, env: dict[str, str]) -> dict[str, str]:
    raw = compose()["services"][name].get("environment", {})
    return {key: interpolate(str(value), env) for key, value in raw.items()}
