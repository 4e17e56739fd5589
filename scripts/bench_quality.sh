#!/usr/bin/env bash
# make bench-quality: the quality report over a campaign of BENCH_JUDGMENTS (1,000,000)
# bulk-generated judgments on Postgres. The last line of output is one JSON object.
#
# Knobs: BENCH_JUDGMENTS (1000000), BENCH_RATERS (300), BENCH_QUALITY_DATABASE_URL
# (postgres://postgres@127.0.0.1:5432/rlhf_bench_quality; dropped and recreated every run).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# shellcheck source=scripts/bench_db.sh
source scripts/bench_db.sh
recreate_bench_db "${BENCH_QUALITY_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/rlhf_bench_quality}"
exec "$BIN/python" -m tests.benchmarks.bench_quality \
  --judgments "${BENCH_JUDGMENTS:-1000000}" --raters "${BENCH_RATERS:-300}"
