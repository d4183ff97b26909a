#!/usr/bin/env bash
# Back up mlaudit's PostgreSQL database into one file, in pg_dump's custom format.
#
#   scripts/backup.sh [FILE]        FILE defaults to backups/mlaudit-<UTC date and time>.dump
#
# Which database: see scripts/_db.sh (DATABASE_URL, or the docker compose service `db`).
# The backup is consistent while mlaudit keeps running; it is checked readable before it
# gets its final name, so a FILE that exists is a complete backup.
set -euo pipefail
. "$(dirname "$0")/_db.sh"

file="${1:-backups/mlaudit-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p "$(dirname "$file")"
partial="$file.partial"
trap 'rm -f "$partial"' EXIT
dump_options=(--format=custom --no-owner --no-privileges)

if [ "$use_compose" = true ]; then
  compose exec -T db sh -c 'pg_dump "$@" -U "$POSTGRES_USER" "$POSTGRES_DB"' sh "${dump_options[@]}" >"$partial"
  compose exec -T db pg_restore --list <"$partial" >/dev/null
else
  pg_dump "${dump_options[@]}" --dbname="$db_url" --file="$partial"
  pg_restore --list "$partial" >/dev/null
fi
mv "$partial" "$file"
echo "Backed up $db_label to $file ($(du -h "$file" | cut -f1))."
