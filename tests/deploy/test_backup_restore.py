"""scripts/backup.sh and scripts/restore.sh against the CI PostgreSQL, on a migrated mlaudit database."""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.deploy.conftest import ROOT, create_database, drop_database, query, server_url

# Stands in for `docker compose exec -T db CMD...`: runs CMD here, with the db container's variables.
FAKE_DOCKER = """#!/usr/bin/env bash
[ "$1 $2" = "compose version" ] && exit 0
[ "$1 $2 $3 $4" = "compose exec -T db" ] || { echo "unexpected: docker $*" >&2; exit 97; }
shift 4
export POSTGRES_USER="$FAKE_DB_USER" POSTGRES_DB="$FAKE_DB_NAME" PGHOST="$FAKE_DB_HOST" PGPORT="$FAKE_DB_PORT"
exec "$@"
"""


def run_script(
    name: str, *args: str, database: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = env or {**os.environ, "DATABASE_URL": server_url(database)}
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / name), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def add_team(database: str, slug: str) -> None:
    query(database, "INSERT INTO audits_team (name, slug, created_at) VALUES (%s, %s, now())", (slug, slug))


def team_slugs(database: str) -> set[str]:
    return {slug for (slug,) in query(database, "SELECT slug FROM audits_team")}


def content_summary(database: str) -> tuple:
    """What must survive: the rubric the migrations loaded and the migration history."""
    return (
        query(database, "SELECT count(*) FROM rubric_item")[0][0],
        query(database, "SELECT count(*) FROM django_migrations")[0][0],
    )


@pytest.fixture(scope="module")
def backup(production_database, tmp_path_factory) -> tuple[str, str, Path]:
    """A backup of a migrated database holding one extra team; yields (database, team slug, file)."""
    source, _ = production_database
    marker = f"backup-{secrets.token_hex(3)}"
    add_team(source, marker)
    file = tmp_path_factory.mktemp("backups") / "nightly" / "mlaudit.dump"
    made = run_script("backup.sh", str(file), database=source)
    assert made.returncode == 0, made.stderr
    return source, marker, file


@pytest.fixture
def scratch_database():
    name = create_database("restore")
    yield name
    drop_database(name)


def test_backup_writes_one_complete_file_in_pg_dump_custom_format(backup):
    _, _, file = backup
    assert file.read_bytes().startswith(b"PGDMP")
    assert not Path(f"{file}.partial").exists()


def test_a_backup_restored_into_an_empty_database_has_the_same_data(backup, scratch_database):
    source, marker, file = backup

    restored = run_script("restore.sh", str(file), "--yes", database=scratch_database)

    assert restored.returncode == 0, restored.stderr
    assert marker in team_slugs(scratch_database)
    assert content_summary(scratch_database) == content_summary(source)
    assert content_summary(scratch_database)[0] > 0
    # Restoring again over the restored copy drops whatever was written after the backup.
    add_team(scratch_database, "written-after-the-backup")
    assert run_script("restore.sh", str(file), "--yes", database=scratch_database).returncode == 0
    assert team_slugs(scratch_database) == team_slugs(source) - {"written-after-the-backup"}


def test_a_truncated_backup_is_refused_and_the_database_is_left_as_it_was(backup, tmp_path):
    source, _, file = backup
    before = (team_slugs(source), content_summary(source))
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(file.read_bytes()[: file.stat().st_size * 2 // 3])

    restored = run_script("restore.sh", str(truncated), "--yes", database=source)

    assert restored.returncode != 0
    assert (team_slugs(source), content_summary(source)) == before


def test_restore_without_confirmation_refuses_to_touch_the_database(backup):
    source, marker, file = backup

    refused = run_script("restore.sh", str(file), database=source)

    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert marker in team_slugs(source)


def test_without_database_url_the_scripts_work_through_the_compose_db_service(backup, scratch_database, tmp_path):
    source, marker, _ = backup
    shim = tmp_path / "bin" / "docker"
    shim.parent.mkdir()
    shim.write_text(FAKE_DOCKER)
    shim.chmod(0o755)
    server = urlsplit(server_url(source))

    def via_compose(database: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        return {
            **env,
            "PATH": f"{shim.parent}:{env['PATH']}",
            "FAKE_DB_USER": server.username or "postgres",
            "FAKE_DB_NAME": database,
            "FAKE_DB_HOST": server.hostname or "127.0.0.1",
            "FAKE_DB_PORT": str(server.port or 5432),
        }

    file = tmp_path / "compose.dump"
    made = run_script("backup.sh", str(file), database=source, env=via_compose(source))
    assert made.returncode == 0, made.stderr
    assert "docker compose service 'db'" in made.stdout
    restored = run_script(
        "restore.sh", str(file), "--yes", database=scratch_database, env=via_compose(scratch_database)
    )
    assert restored.returncode == 0, restored.stderr
    assert marker in team_slugs(scratch_database)
