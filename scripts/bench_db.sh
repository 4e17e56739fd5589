# Sourced by the benchmark scripts: recreate_bench_db URL drops and recreates the throwaway
# database the URL names (refusing the test and system databases), then points
# DATABASE_URL at it and migrates. Expects BIN (the venv's bin folder).

recreate_bench_db() {
  local DB_URL=$1
  # Database name, host, port, user and password from the URL, for psql.
  read -r DB_NAME DB_HOST DB_PORT DB_USER DB_PASSWORD < <("$BIN/python" - "$DB_URL" <<'PY'
import sys
from urllib.parse import unquote, urlparse
url = urlparse(sys.argv[1])
print(url.path.lstrip("/"), url.hostname or "127.0.0.1", url.port or 5432,
      unquote(url.username or "postgres"), unquote(url.password or "-"))
PY
  )
  case "$DB_NAME" in
    test | test_test | postgres | template0 | template1 | "")
      echo "Refusing to drop the database '$DB_NAME': pick another BENCH_DATABASE_URL." >&2
      exit 2 ;;
  esac
  if [[ ! "$DB_NAME" =~ ^[a-z][a-z0-9_]*$ ]]; then
    echo "Benchmark database name must be lower-case letters, digits and _: '$DB_NAME'." >&2
    exit 2
  fi
  [[ "$DB_PASSWORD" == "-" ]] || export PGPASSWORD="$DB_PASSWORD"

  echo "Recreating database $DB_NAME on $DB_HOST:$DB_PORT"
  # template1 as the maintenance database: the postgres database is left alone.
  psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d template1 -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" -c "CREATE DATABASE \"$DB_NAME\""

  export DATABASE_URL="$DB_URL"
  export DJANGO_SECRET_KEY
  DJANGO_SECRET_KEY=$("$BIN/python" -c "import secrets; print(secrets.token_urlsafe(50))")
  unset DJANGO_DEBUG
  "$BIN/python" manage.py migrate --no-input -v 0
}
