#!/usr/bin/env bash
# The OpenAPI schema from the serializers, then the TypeScript types from the schema: the one
# recipe behind `make frontend-types` (which writes the committed files) and the staleness check
# of `make lint` (which writes elsewhere and compares).
#   scripts/generate_api_types.sh SCHEMA_OUT TYPES_OUT
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -ne 2 ]]; then
  echo "usage: $0 SCHEMA_OUT TYPES_OUT" >&2
  exit 2
fi
schema_out=$(realpath -m "$1")
types_out=$(realpath -m "$2")
mkdir -p "$(dirname "$schema_out")" "$(dirname "$types_out")"
# Always on the embedded settings: with DATABASE_URL set to Postgres, Django reports other
# integer ranges for the same fields (int64 bounds instead of SQLite's), and the committed
# schema must not depend on which database the machine that made it had.
env -u DATABASE_URL -u REDIS_URL DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-schema-generation-only}" \
  "${PYTHON:-.venv/bin/python}" manage.py spectacular --format openapi-json --file "$schema_out"
# From frontend/, as `npm run types` runs it, so the same configuration applies.
(cd frontend && node_modules/.bin/openapi-typescript "$schema_out" --output "$types_out")
