"""`make lint` fails when the committed OpenAPI schema or TypeScript types are stale:
scripts/check_generated.sh, run on a fresh copy and on copies made stale on purpose."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TYPE_GENERATOR = ROOT / "frontend" / "node_modules" / ".bin" / "openapi-typescript"
SCHEMA = "frontend/openapi.json"
TYPES = "frontend/src/api/schema.d.ts"
REFRESH = "refresh with `make frontend-types` and commit the result"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(
        ["bash", *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like the checkout, holding what the code generates now."""
    if not TYPE_GENERATOR.exists():
        reason = "needs the front end's packages: make frontend"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("generated")
    made = _run("scripts/generate_api_types.sh", root / SCHEMA, root / TYPES)
    assert made.returncode == 0, made.stderr
    return root


def copy_of(fresh: Path, where: Path) -> Path:
    shutil.copytree(fresh, where / "checkout")
    return where / "checkout"


def check(root: Path) -> tuple[int, list[str]]:
    """The check's exit status and the lines it writes about stale files."""
    result = _run("scripts/check_generated.sh", root)
    said = [line for line in result.stderr.splitlines() if line.startswith(("stale:", "refresh"))]
    return result.returncode, said


def test_files_as_the_code_generates_them_pass(fresh: Path) -> None:
    assert check(fresh) == (0, [])


def test_a_stale_schema_fails_and_names_the_file_and_the_refresh(
    fresh: Path, tmp_path: Path
) -> None:
    checkout = copy_of(fresh, tmp_path)
    schema = json.loads((checkout / SCHEMA).read_text())
    del schema["paths"][sorted(schema["paths"])[0]]  # an endpoint the code still has
    (checkout / SCHEMA).write_text(json.dumps(schema, indent=2))

    assert check(checkout) == (
        1,
        [f"stale: {SCHEMA} differs from what the code generates now", REFRESH],
    )


def test_stale_types_fail_and_name_the_file(fresh: Path, tmp_path: Path) -> None:
    checkout = copy_of(fresh, tmp_path)
    with (checkout / TYPES).open("a") as types:
        types.write("export type WrittenByHand = string;\n")

    assert check(checkout) == (
        1,
        [f"stale: {TYPES} differs from what the code generates now", REFRESH],
    )


def test_a_missing_file_is_stale(fresh: Path, tmp_path: Path) -> None:
    checkout = copy_of(fresh, tmp_path)
    (checkout / TYPES).unlink()

    status, said = check(checkout)

    assert (status, said[0]) == (1, f"stale: {TYPES} differs from what the code generates now")


def test_the_schema_does_not_depend_on_the_database_the_generator_sees(fresh: Path) -> None:
    """Generated with DATABASE_URL pointing at Postgres (as in CI) or at nothing, the schema is
    the same: Postgres reports other integer bounds for the same fields, so the generator
    always uses the embedded settings and a committed file made on either machine checks."""
    postgres = {**os.environ, "PYTHON": sys.executable}
    postgres["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/test"
    out = fresh.parent / "with-postgres.json"
    made = subprocess.run(
        ["bash", "scripts/generate_api_types.sh", str(out), str(out.with_suffix(".d.ts"))],
        cwd=ROOT,
        env=postgres,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert out.read_text() == (fresh / SCHEMA).read_text()
