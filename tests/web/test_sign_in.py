"""Signing in and out, lockout, password reset mails and refusal pages."""

from __future__ import annotations

from tests.conftest import PASSWORD


def test_sign_in_with_the_form_lands_on_the_portfolio(client, manager):
    response = client.post("/account/login/", {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_sign_in_is_locked_after_repeated_wrong_passwords(client, manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/account/login/", {"username": manager.username, "password": "wrong"})
    response = client.post("/account/login/", {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_and_ends_the_session(manager, signed_in):
    client = signed_in(manager)
    assert client.post("/account/logout/").status_code == 302
    assert client.get("/projects/").status_code == 302


def test_password_reset_mails_a_link_that_opens_the_new_password_form(
    client, manager, mailoutbox, django_capture_on_commit_callbacks
):
    # The mail is sent by a task queued when the request's transaction commits (eager in the test settings).
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/password_reset/", {"email": manager.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert manager.username in body
    link = next(line for line in body.splitlines() if "/account/reset/" in line)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    assert "Choose a new password" in form.content.decode()


def test_refusals_explain_themselves_in_the_apps_look(project, viewer, outsider, signed_in):
    refused = signed_in(viewer).get(f"/projects/{project.slug}/edit/")
    assert refused.status_code == 403
    assert "Only team managers can edit projects." in refused.content.decode()
    assert 'class="site-header"' in refused.content.decode()
    hidden = signed_in(outsider).get(f"/projects/{project.slug}/")
    assert hidden.status_code == 404
    assert "belongs to a team you are not in" in hidden.content.decode()
