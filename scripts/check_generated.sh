#!/usr/bin/env bash
# `make lint`: fail when the committed OpenAPI schema or TypeScript types are not what the code
# makes now. Generates into a temporary folder and compares, so nothing committed is touched;
# nothing else rewrites these files silently (`make frontend` and `make test` build with the
# committed types), so on a clean clone (CI) the files compared are the committed ones.
#   scripts/check_generated.sh [ROOT]   ROOT holds the files to check (default: this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-.}
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
bash scripts/generate_api_types.sh "$fresh/openapi.json" "$fresh/schema.d.ts" >/dev/null

stale=0
for pair in "frontend/openapi.json:openapi.json" "frontend/src/api/schema.d.ts:schema.d.ts"; do
  committed=${pair%%:*}
  if ! cmp -s "$root/$committed" "$fresh/${pair#*:}"; then
    echo "stale: $committed differs from what the code generates now" >&2
    stale=1
  fi
done
if [[ $stale -ne 0 ]]; then
  echo "refresh with \`make frontend-types\` and commit the result" >&2
  exit 1
fi
echo "generated API schema and types are up to date"
