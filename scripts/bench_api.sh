#!/usr/bin/env bash
# make bench-api: the rater API under gunicorn on Postgres, simulated raters doing
# next -> submit cycles over HTTP, then an invariant check on the database. The last line of
# output is one JSON object with the headline figures.
#
# Knobs: BENCH_SECONDS (60), BENCH_RATERS (40 concurrent raters), BENCH_TASKS (20000),
# BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/rlhf_bench; that database is dropped
# and recreated on every run), BENCH_GUNICORN_ARGS (worker settings, default below).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
OUT=${RLHF_VAR_DIR:-var}/bench
RUN_SECONDS=${BENCH_SECONDS:-60}
RATERS=${BENCH_RATERS:-40}
TASKS=${BENCH_TASKS:-20000}
DB_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/rlhf_bench}
# Worker settings, measured on this 2-core machine (which also runs Postgres and the load
# generator): gthread, 2 workers x 4 threads. One process per core; 4 threads each because
# about a third of a request's wall time is spent waiting on Postgres, so a worker needs a few
# requests in flight to keep its core busy; and gthread keeps client connections alive, which
# sync workers do not (a TCP connect + accept per request). Alternating 15 s runs at 40
# raters, median of 3: gthread 2x4 40 cycles/s (21-23 ms gunicorn CPU per cycle), sync 3
# workers 33, gthread 3x4 35; sync 2/4/5/6 and gthread 2x8 / 4x2 were no better in single runs.
# The worker class is gthread's, answering gunicorn's own errors (414, 400) as JSON.
GUNICORN_ARGS=${BENCH_GUNICORN_ARGS:---worker-class config.gunicorn_workers.ThreadWorkerJsonErrors \
--workers 2 --threads 4}
# STATIC_ROOT must exist, or whitenoise warns from every worker in the middle of the output.
mkdir -p "$OUT" "${RLHF_VAR_DIR:-var}/static"

# shellcheck source=scripts/bench_db.sh
source scripts/bench_db.sh
recreate_bench_db "$DB_URL"
"$BIN/python" -m tests.benchmarks.seed_api --raters "$RATERS" --tasks "$TASKS" \
  --out "$OUT/raters.json"

PORT=$("$BIN/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); \
print(s.getsockname()[1])")
gunicorn_pid=""
stop_gunicorn() {
  if [[ -n "$gunicorn_pid" ]]; then
    kill -TERM "$gunicorn_pid" 2>/dev/null || true
    wait "$gunicorn_pid" 2>/dev/null || true
  fi
}
trap stop_gunicorn EXIT
trap 'exit 130' INT TERM

# No access log: writing one line per request costs the server CPU the benchmark measures.
# shellcheck disable=SC2086  # GUNICORN_ARGS is a list of options
"$BIN/gunicorn" config.wsgi --bind "127.0.0.1:$PORT" $GUNICORN_ARGS \
  --control-socket "$OUT/gunicorn.ctl" --log-level warning --error-logfile "$OUT/gunicorn.log" &
gunicorn_pid=$!
echo "gunicorn $GUNICORN_ARGS on port $PORT (pid $gunicorn_pid); log in $OUT/gunicorn.log"

for _ in $(seq 1 100); do
  kill -0 "$gunicorn_pid" 2>/dev/null || { echo "gunicorn exited; see $OUT/gunicorn.log" >&2; exit 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/me/" || true)
  [[ "$code" == "401" ]] && break
  sleep 0.2
done
[[ "$code" == "401" ]] || { echo "gunicorn did not answer (last status $code)" >&2; exit 1; }

echo "Running $RATERS simulated raters for $RUN_SECONDS s..."
"$BIN/python" -m tests.benchmarks.bench_api --url "http://127.0.0.1:$PORT" \
  --raters-file "$OUT/raters.json" --raters "$RATERS" --seconds "$RUN_SECONDS"
