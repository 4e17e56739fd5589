#!/usr/bin/env bash
# Start RLHF Studio: migrate, load the demo, then the web server, Celery workers (queues
# default and gpu) and beat.
# Ctrl-C stops every process this script started. Embedded defaults (SQLite + filesystem
# broker under var/) unless DATABASE_URL / REDIS_URL are set.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
VAR=${RLHF_VAR_DIR:-var}
PORT=${PORT:-8000}
mkdir -p "$VAR/celery/queue" "$VAR/celery/processed" "$VAR/log" "$VAR/artifacts"

if [[ -z "${DJANGO_SECRET_KEY:-}" ]]; then
  if [[ ! -s "$VAR/secret_key" ]]; then
    (umask 077 && "$BIN/python" -c "import secrets; print(secrets.token_urlsafe(50))" > "$VAR/secret_key")
  fi
  export DJANGO_SECRET_KEY=$(cat "$VAR/secret_key")
fi

echo "Database: ${DATABASE_URL:+Postgres (DATABASE_URL)}${DATABASE_URL:-SQLite file $VAR/rlhf-studio.sqlite3}"
echo "Broker:   ${REDIS_URL:+Redis (REDIS_URL)}${REDIS_URL:-filesystem queue under $VAR/celery}"
"$BIN/python" manage.py migrate --no-input -v 0
"$BIN/python" manage.py collectstatic --no-input -v 0
# The demo's logins are shown last, after the services are up, so they stay on screen.
"$BIN/python" manage.py seed_demo > "$VAR/log/seed.txt"

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping ${#pids[@]} processes..."
  kill -TERM "${pids[@]}" 2>/dev/null || true
  # A warm shutdown gets a few seconds (a training run's state is in the database, and the
  # reconciler re-queues it); then whatever is left is killed, so Ctrl-C stops in seconds.
  for _ in $(seq 1 25); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.2
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  echo "Stopped."
}
trap stop INT TERM EXIT

"$BIN/gunicorn" config.wsgi --bind "127.0.0.1:$PORT" --workers 2 --threads 4 \
  --worker-class config.gunicorn_workers.ThreadWorkerJsonErrors --graceful-timeout 3 \
  --control-socket "$VAR/gunicorn.ctl" \
  --access-logfile "$VAR/log/access.log" --error-logfile "$VAR/log/web.log" &
pids+=($!)
"$BIN/celery" -A config worker --queues default --concurrency 1 --pool solo \
  --hostname "default@%h" --loglevel INFO --logfile "$VAR/log/worker.log" \
  > "$VAR/log/worker.out" 2>&1 &
pids+=($!)
# Training runs: one at a time, one message prefetched, in the worker's own process (solo) so
# the pipeline it starts dies with it. Without the ML extra a run fails with a clear error.
"$BIN/celery" -A config worker --queues gpu --concurrency 1 --prefetch-multiplier 1 --pool solo \
  --hostname "gpu@%h" --loglevel INFO --logfile "$VAR/log/gpu-worker.log" \
  > "$VAR/log/gpu-worker.out" 2>&1 &
pids+=($!)
# Exactly one beat per deployment: this script is the only one that starts it here.
"$BIN/celery" -A config beat --schedule "$VAR/celery/beat-schedule" \
  --pidfile "$VAR/celery/beat.pid" --loglevel INFO --logfile "$VAR/log/beat.log" \
  > "$VAR/log/beat.out" 2>&1 &
pids+=($!)

for _ in $(seq 1 50); do
  if "$BIN/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/api/v1/auth/csrf/', timeout=1)" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
echo
cat "$VAR/log/seed.txt"
cat <<MSG

RLHF Studio is running at http://127.0.0.1:$PORT/
  API docs:   http://127.0.0.1:$PORT/api/v1/docs/ (after signing in)
  Logs:       $VAR/log/   (web, worker, gpu-worker, beat)
  Logins:     above (also in $VAR/demo-logins.json)
  Commands:   .venv/bin/python manage.py <command> works as is (the key is in $VAR/secret_key)
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "A process exited; stopping the rest." >&2
