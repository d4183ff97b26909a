# Shared by backup.sh and restore.sh (sourced, not run).
#
# With DATABASE_URL set, the local PostgreSQL client connects to it; DATABASE_PASSWORD or
# DATABASE_PASSWORD_FILE override its password, as in mlaudit's settings. Without it, the
# client runs inside the `db` service of docker compose (run the script from the directory
# holding docker-compose.yml), so the host needs no PostgreSQL client matching the server.

if [ -n "${DATABASE_URL:-}" ]; then
  use_compose=false
  # libpq reads postgres:// and postgresql://; django-environ also accepts these aliases.
  db_url="$(printf '%s' "$DATABASE_URL" | sed -E 's#^(pgsql|postgis|postgresql)://#postgres://#')"
  if [ -n "${DATABASE_PASSWORD_FILE:-}" ]; then
    PGPASSWORD="$(cat "$DATABASE_PASSWORD_FILE")"
    export PGPASSWORD
  elif [ -n "${DATABASE_PASSWORD:-}" ]; then
    export PGPASSWORD="$DATABASE_PASSWORD"
  fi
  db_label="the database of DATABASE_URL"
else
  use_compose=true
  if docker compose version >/dev/null 2>&1; then
    compose() { docker compose "$@"; }
  elif command -v docker-compose >/dev/null 2>&1; then
    compose() { docker-compose "$@"; }
  else
    echo "Set DATABASE_URL, or run this next to docker-compose.yml on a host with docker compose." >&2
    exit 2
  fi
  db_label="the database of the docker compose service 'db'"
fi
