#!/usr/bin/env bash
# Replace everything in mlaudit's PostgreSQL database with a backup made by backup.sh.
#
#   scripts/restore.sh FILE [--yes]
#
# Which database: see scripts/_db.sh (DATABASE_URL, or the docker compose service `db`).
# The old contents are dropped and the backup loaded in one transaction: if anything fails,
# the database is left exactly as it was. Stop the web, worker and beat services first
# (`docker compose stop web worker beat`) and start them afterwards; if the backup comes
# from an older mlaudit, run the migrations before starting them.
# Without --yes the script asks for confirmation (and refuses when it cannot ask).
set -euo pipefail
. "$(dirname "$0")/_db.sh"

file=""
confirmed=false
for argument in "$@"; do
  case "$argument" in
    --yes) confirmed=true ;;
    -*) echo "Unknown option $argument. Usage: scripts/restore.sh FILE [--yes]" >&2; exit 2 ;;
    *) file="$argument" ;;
  esac
done
if [ -z "$file" ] || [ ! -r "$file" ]; then
  echo "Usage: scripts/restore.sh FILE [--yes]; FILE must be a readable backup made by backup.sh." >&2
  exit 2
fi
if [ "$confirmed" != true ]; then
  if [ ! -t 0 ]; then
    echo "Restoring replaces all data in $db_label; pass --yes to confirm." >&2
    exit 2
  fi
  read -r -p "Replace all data in $db_label with $file? Type yes to go on: " answer
  [ "$answer" = yes ] || { echo "Nothing restored." >&2; exit 1; }
fi

# The SQL stream ends with COMMIT only when pg_restore read the whole backup; otherwise it
# ends with a statement that fails, so psql stops and the transaction is rolled back.
reset='BEGIN; DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;'
abort="DO \$\$ BEGIN RAISE EXCEPTION 'the backup could not be read completely; nothing was restored'; END \$\$;"
restore_options=(--no-owner --no-privileges --file=-)
if [ "$use_compose" = true ]; then
  # shellcheck disable=SC2016  # expanded inside the container
  compose exec -T db sh -c '
    reset="$1"; abort="$2"; shift 2
    { echo "$reset"; if pg_restore "$@"; then echo "COMMIT;"; else echo "$abort"; fi; } |
      psql --quiet --no-psqlrc -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" >/dev/null
  ' sh "$reset" "$abort" "${restore_options[@]}" <"$file"
else
  { echo "$reset"; if pg_restore "${restore_options[@]}" "$file"; then echo "COMMIT;"; else echo "$abort"; fi; } |
    psql --quiet --no-psqlrc -v ON_ERROR_STOP=1 --dbname="$db_url" >/dev/null
fi
echo "Restored $file into $db_label."
