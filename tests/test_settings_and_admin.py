import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_mode_without_secret_key_refuses_to_start_with_a_sentence():
    result = run_check({"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("x" * 60)
    result = run_check({"DEBUG": "false", "SECRET_KEY_FILE": str(secret), "ALLOWED_HOSTS": "example.com"})
    assert result.returncode == 0, result.stderr


def test_admin_login_page_answers(client):
    assert client.get("/admin/login/").status_code == 200


def test_admin_lists_every_model(admin_client, rubric):
    for url in [
        "/admin/rubric/rubric/",
        "/admin/rubric/section/",
        "/admin/rubric/item/",
        "/admin/rubric/scoreband/",
        "/admin/audits/team/",
        "/admin/audits/membership/",
        "/admin/audits/project/",
        "/admin/audits/audit/",
        "/admin/audits/answer/",
        "/admin/audits/answerchange/",
        "/admin/audits/tag/",
        "/admin/audits/campaign/",
        f"/admin/rubric/rubric/{rubric.pk}/change/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_admin_cannot_change_a_submitted_audit(admin_client, project, manager, rubric):
    from audits.services import audit_start, audit_submit

    audit = audit_submit(actor=manager, audit=audit_start(actor=manager, project=project, rubric=rubric))
    response = admin_client.post(f"/admin/audits/audit/{audit.pk}/change/", {"status": "draft"})
    assert response.status_code == 403
    audit.refresh_from_db()
    assert audit.status == "submitted"
