"""The Django admin: it answers, lists every model, and refuses to change a submitted audit."""


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
