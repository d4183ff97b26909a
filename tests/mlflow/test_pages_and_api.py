"""Pages, API and the questionnaire hooks: roles, write-only secrets, accepting findings, query counts."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection as db_connection
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audits.models import Answer
from audits.services import audit_start, audit_submit
from integrations.mlflow import services
from integrations.mlflow.models import AcceptedFinding, Finding, MlflowConnection, SyncRun, SyncState, SyncTrigger
from integrations.mlflow.ruleset import RULES
from integrations.mlflow.selectors import findings_for_audit
from tests.conftest import PASSWORD
from tests.mlflow.server import ADMIN_PASSWORD, ADMIN_USER

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick(settings):
    settings.MLAUDIT_MLFLOW_HTTP_RETRIES = 1
    settings.MLAUDIT_MLFLOW_HTTP_BACKOFF = 0.05
    cache.clear()


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web_as(user) -> Client:
    client = Client()
    client.login(username=user.get_username(), password=PASSWORD)
    return client


def make_finding(connection, sync, code: str, result: str = "pass", suggested: str = "manual") -> Finding:
    return Finding.objects.create(
        connection=connection, project=connection.project, sync=sync, item_code=code, result=result,
        reason=f"{code} looks fine", links=[f"http://mlflow.example/#/experiments/1/runs/{code}"],
        suggested_status=suggested if result == "pass" else "", synced_at=timezone.now(),
    )  # fmt: skip


def offline_connection(project, manager) -> MlflowConnection:
    return services.connection_create(
        actor=manager, project=project, tracking_uri="http://127.0.0.1:9", experiments=["churn"], schedule="off"
    )


def test_api_creates_a_connection_and_never_returns_the_secret(manager, project, scenario):
    body = {
        "tracking_uri": scenario.server.url, "ui_url": None, "experiments": [scenario.experiment],
        "registered_models": [scenario.model], "serving_alias": "champion", "schedule": "nightly",
        "auth": {"type": "basic", "username": ADMIN_USER, "password": ADMIN_PASSWORD, "token": None},
    }  # fmt: skip
    response = api_as(manager).post(f"/api/v1/projects/{project.slug}/mlflow-connections/", body, format="json")
    assert response.status_code == 201, response.content
    assert ADMIN_PASSWORD not in response.content.decode()
    assert response.json()["auth"] == {"type": "basic", "username": ADMIN_USER, "has_secret": True}
    stored = MlflowConnection.objects.get(pk=response.json()["id"])
    assert ADMIN_PASSWORD not in stored.secret_encrypted
    listed = api_as(manager).get(f"/api/v1/projects/{project.slug}/mlflow-connections/")
    assert [c["id"] for c in listed.json()] == [stored.pk] and ADMIN_PASSWORD not in listed.content.decode()
    tested = api_as(manager).post(f"/api/v1/mlflow-connections/{stored.pk}/test/")
    assert tested.status_code == 200 and tested.json()["ok"] is True


def test_api_sync_answers_202_and_the_sync_can_be_followed(
    manager, viewer, project, connect, scenario, django_capture_on_commit_callbacks
):
    connect(project, scenario.server, experiments=[scenario.experiment], registered_models=[scenario.model])
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_as(manager).post(f"/api/v1/projects/{project.slug}/evidence/sync/")
    assert response.status_code == 202, response.content
    sync_id = response.json()["sync"]
    assert response.json()["syncs"][0]["state"] == "queued"
    assert len(callbacks) == 1  # the request only queued the task; it runs after the commit
    services.sync_execute(sync_id=sync_id, final_attempt=True)  # what the worker does
    detail = api_as(viewer).get(f"/api/v1/evidence-syncs/{sync_id}/")
    assert detail.status_code == 200
    assert detail.json()["state"] == "succeeded", detail.json()
    assert detail.json()["runs_read"] >= 9 and detail.json()["versions_read"] == 2
    evidence = api_as(viewer).get(f"/api/v1/projects/{project.slug}/evidence/").json()
    assert {"item", "result", "reason", "links", "suggested_status", "synced_at", "source"} <= set(evidence[0])
    assert {finding["source"] for finding in evidence} == {"mlflow"}
    assert len(evidence) == len(RULES)


def test_viewers_and_editors_cannot_change_connections_or_start_syncs(editor, viewer, manager, project):
    connection = offline_connection(project, manager)
    for user in (viewer, editor):
        client = api_as(user)
        assert client.post(f"/api/v1/projects/{project.slug}/evidence/sync/").status_code == 403
        assert (
            client.patch(f"/api/v1/mlflow-connections/{connection.pk}/", {"name": "x"}, format="json").status_code
            == 403
        )
        assert client.delete(f"/api/v1/mlflow-connections/{connection.pk}/").status_code == 403
        assert client.get(f"/api/v1/mlflow-connections/{connection.pk}/").status_code == 200


def test_outsiders_cannot_see_connections_or_syncs(outsider, manager, project):
    connection = offline_connection(project, manager)
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    client = api_as(outsider)
    assert client.get(f"/api/v1/mlflow-connections/{connection.pk}/").status_code == 404
    assert client.get(f"/api/v1/evidence-syncs/{sync.pk}/").status_code == 404
    assert client.get(f"/api/v1/projects/{project.slug}/evidence/").status_code == 404


def test_patch_without_auth_keeps_the_stored_secret(manager, project):
    connection = services.connection_create(
        actor=manager, project=project, tracking_uri="http://127.0.0.1:9", auth={"type": "token", "token": "tkn-123"}
    )
    before = connection.secret_encrypted
    response = api_as(manager).patch(f"/api/v1/mlflow-connections/{connection.pk}/", {"name": "renamed"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "renamed"
    connection.refresh_from_db()
    assert connection.secret_encrypted == before
    assert services.client_for(connection).session.headers["Authorization"] == "Bearer tkn-123"


def test_bad_input_is_refused_with_the_field_named(manager, project):
    client = api_as(manager)
    url = f"/api/v1/projects/{project.slug}/mlflow-connections/"
    refused = client.post(url, {"tracking_uri": "http://169.254.169.254/"}, format="json")
    assert refused.status_code == 400 and "tracking_uri" in refused.json()["error"]["fields"]
    local = client.post(url, {"tracking_uri": "sqlite:///tmp/x.db"}, format="json")
    assert local.status_code == 400
    thresholds = client.post(
        url, {"tracking_uri": "http://127.0.0.1:9", "thresholds": {"max_serving_age_days": "old"}}, format="json"
    )
    assert thresholds.status_code == 400 and "thresholds" in thresholds.json()["error"]["fields"]


def test_the_browser_form_refuses_what_the_api_refuses_with_the_field_named(manager, project):
    client = web_as(manager)
    form = {
        "tracking_uri": "http://127.0.0.1:9", "auth_type": "none", "serving_alias": "champion", "schedule": "off",
        "registered_models": "\n".join(f"model-{n}" for n in range(21)),
        "thresholds": '{"max_serving_age_days": "old"}',
    }  # fmt: skip
    response = client.post(reverse("mlflow:connection-create", args=[project.slug]), form)
    assert response.status_code == 200 and not MlflowConnection.objects.filter(project=project).exists()
    errors = response.context["form"].errors
    assert "registered_models" in errors or "thresholds" in errors
    api = api_as(manager).post(
        f"/api/v1/projects/{project.slug}/mlflow-connections/",
        {"tracking_uri": "http://127.0.0.1:9", "registered_models": [f"model-{n}" for n in range(21)]},
        format="json",
    )
    assert api.status_code == 400 and "registered_models" in api.json()["error"]["fields"]
    form["thresholds"] = ""
    again = client.post(reverse("mlflow:connection-create", args=[project.slug]), form)
    assert "20" in " ".join(again.context["form"].errors["registered_models"])


def test_manager_creates_tests_and_syncs_a_connection_in_the_browser(manager, project, scenario):
    client = web_as(manager)
    form = {
        "name": "prod", "tracking_uri": scenario.server.url, "auth_type": "basic", "username": ADMIN_USER,
        "password": ADMIN_PASSWORD, "experiments": scenario.experiment, "registered_models": scenario.model,
        "serving_alias": "champion", "schedule": "nightly", "verify_tls": "on",
    }  # fmt: skip
    response = client.post(reverse("mlflow:connection-create", args=[project.slug]), form)
    assert response.status_code == 302
    connection = MlflowConnection.objects.get(project=project)
    edit_page = client.get(reverse("mlflow:connection-edit", args=[connection.pk])).content.decode()
    assert ADMIN_PASSWORD not in edit_page and connection.secret_encrypted not in edit_page
    tested = client.post(reverse("mlflow:connection-test", args=[connection.pk]), HTTP_ACCEPT="application/json")
    assert tested.json()["ok"] is True
    client.post(reverse("mlflow:sync-trigger", args=[project.slug]))
    history = client.get(reverse("mlflow:sync-history", args=[project.slug]))
    assert history.status_code == 200 and b"data-sync-poll-url" in history.content
    state = client.get(reverse("mlflow:sync-history-json", args=[project.slug])).json()
    assert state["syncs"][0]["connection"] == connection.pk


def test_viewer_sees_sync_history_but_not_the_manager_buttons(viewer, manager, project):
    offline_connection(project, manager)
    page = web_as(viewer).get(reverse("mlflow:project-evidence", args=[project.slug]))
    assert page.status_code == 200
    assert reverse("mlflow:sync-trigger", args=[project.slug]).encode() not in page.content
    assert web_as(viewer).post(reverse("mlflow:sync-trigger", args=[project.slug])).status_code == 403


def test_accepting_a_finding_copies_a_frozen_snapshot_into_the_answer(manager, editor, project, rubric):
    connection = offline_connection(project, manager)
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.SCHEDULE)
    finding = make_finding(connection, sync, "data-1", suggested="automated")
    audit = audit_start(actor=manager, project=project)
    answer = services.finding_accept(actor=editor, audit=audit, item_code="data-1")
    assert answer.status == "automated"
    assert finding.links[0] in answer.evidence and finding.reason in answer.notes
    accepted = AcceptedFinding.objects.get(answer=answer)
    Finding.objects.filter(pk=finding.pk).update(result="fail", reason="changed later")
    accepted.refresh_from_db()
    assert accepted.snapshot["result"] == "pass" and accepted.snapshot["reason"] == "data-1 looks fine"


def test_only_passing_findings_can_be_accepted_and_only_by_editors(manager, viewer, editor, project, rubric):
    from django.core.exceptions import PermissionDenied, ValidationError

    connection = offline_connection(project, manager)
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    make_finding(connection, sync, "model-1", result="fail")
    make_finding(connection, sync, "data-1")
    audit = audit_start(actor=manager, project=project)
    with pytest.raises(ValidationError):
        services.finding_accept(actor=editor, audit=audit, item_code="model-1")
    with pytest.raises(PermissionDenied):
        services.finding_accept(actor=viewer, audit=audit, item_code="data-1")
    assert not Answer.objects.filter(audit=audit).exists()  # nothing is answered without a person


def test_a_submitted_audit_cannot_accept_findings(manager, project, rubric):
    connection = offline_connection(project, manager)
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    make_finding(connection, sync, "data-1")
    audit = audit_start(actor=manager, project=project)
    audit_submit(actor=manager, audit=audit)
    response = web_as(manager).post(reverse("mlflow:finding-accept", args=[audit.pk, "data-1"]))
    assert response.status_code == 302
    assert not Answer.objects.filter(audit=audit).exists()


def test_findings_for_a_whole_questionnaire_cost_one_query(manager, project, rubric):
    connection = offline_connection(project, manager)
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    for code in ("data-1", "model-1", "infra-1", "monitoring-4"):
        make_finding(connection, sync, code)
    audit = audit_start(actor=manager, project=project)
    template = Template(
        "{% load mlflow_evidence %}{% for code in codes %}"
        "{% mlflow_finding audit code as f %}{{ f.result|default:'-' }} {% endfor %}"
    )
    codes = [item.code for item in rubric.items.all()]
    with CaptureQueriesContext(db_connection) as queries:
        rendered = template.render(Context({"audit": audit, "codes": codes}))
    assert len(queries) == 1
    assert rendered.split().count("pass") == 4
    assert set(findings_for_audit(audit=audit)) == {"data-1", "model-1", "infra-1", "monitoring-4"}


def test_item_and_panel_includes_render_with_accept_button_for_editors(manager, editor, project, rubric):
    connection = offline_connection(project, manager)
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    make_finding(connection, sync, "data-1")
    audit = audit_start(actor=manager, project=project)
    item = Template('{% include "mlflow/_item_finding.html" with item_code="data-1" %}')
    html = item.render(Context({"audit": audit, "user": editor}))
    assert "data-1 looks fine" in html and reverse("mlflow:finding-accept", args=[audit.pk, "data-1"]) in html
    panel = Template('{% include "mlflow/_project_panel.html" %}').render(
        Context({"project": project, "user": manager})
    )
    assert connection.name in panel and reverse("mlflow:sync-trigger", args=[project.slug]) in panel


def test_a_scheduled_sync_suggests_the_level_its_evidence_shows_not_automated_for_being_scheduled(
    manager, project, scenario, connect
):
    connection = connect(
        project, scenario.server, experiments=[scenario.experiment], registered_models=[scenario.model]
    )
    connection.next_sync_at = timezone.now() - timezone.timedelta(minutes=1)
    connection.save()
    queued = services.syncs_dispatch_due()
    assert len(queued) == 1
    services.sync_execute(sync_id=queued[0], final_attempt=True)
    sync = SyncRun.objects.get(pk=queued[0])
    assert sync.trigger == SyncTrigger.SCHEDULE and sync.state == SyncState.SUCCEEDED, sync.error
    suggestions = set(
        Finding.objects.filter(connection=connection, result="pass").values_list("suggested_status", flat=True)
    )
    # Two releases a few days apart, started by hand: done and recorded, no recurrence by a system.
    assert suggestions == {"manual"}
    connection.refresh_from_db()
    assert connection.next_sync_at > timezone.now()
    assert services.syncs_dispatch_due() == []  # not due again until the next night


def test_requesting_a_sync_while_one_is_queued_returns_the_same_sync(manager, project):
    connection = offline_connection(project, manager)
    queued = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    assert services.sync_request(actor=manager, connection=connection).pk == queued.pk


def test_the_item_include_costs_the_same_queries_for_four_items_as_for_all(manager, editor, project, rubric):
    connection = offline_connection(project, manager)
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    for code in ("data-1", "model-1"):
        make_finding(connection, sync, code)
    template = Template(
        '{% for code in codes %}{% include "mlflow/_item_finding.html" with item_code=code %}{% endfor %}'
    )
    codes = [item.code for item in rubric.items.all()]
    # Once, unmeasured: the first render fills the per-process rubric caches (rubric_spec and its kin).
    template.render(Context({"audit": audit_start(actor=manager, project=project), "codes": codes, "user": editor}))
    counts = []
    for subset in (codes[:4], codes):
        audit = audit_start(actor=manager, project=project)  # a fresh object: nothing memoised yet
        with CaptureQueriesContext(db_connection) as queries:
            html = template.render(Context({"audit": audit, "codes": subset, "user": editor}))
        counts.append(len(queries))
        assert html.count("Accept this evidence") == (2 if "model-1" in subset else 1)
    assert counts[0] == counts[1] <= 4
