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
DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-schema-generation-only} \
  "${PYTHON:-.venv/bin/python}" manage.py spectacular --format openapi-json --file "$schema_out"
# From frontend/, as `npm run types` runs it, so the same configuration applies.
(cd frontend && node_modules/.bin/openapi-typescript "$schema_out" --output "$types_out")
