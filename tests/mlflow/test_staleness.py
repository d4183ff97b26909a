"""Stale answers and the live score on a history written with MLflow's own client against a real server.

The team registers two versions of a model: v1 carries an approving validation_status tag, v2 does not. The
champion serves v1 when mlaudit syncs and someone accepts the infra-4 finding ("validated before serving");
then the champion moves to v2 (set_registered_model_alias), and a sync or a registry webhook sees it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.test import APIClient

from audits.models import Answer, Notification
from audits.notifications.digest import digest_for
from audits.services import answer_save, audit_start, audit_submit
from audits.staleness.selectors import live_score, stale_answers, stale_answers_for_team
from integrations.mlflow import services, webhooks
from integrations.mlflow.models import AcceptedFinding, SyncRun
from integrations.mlflow.selectors import latest_findings
from tests.mlflow.test_webhooks import delivery, post
from tests.web.test_browser import choose_status, sign_in

pytestmark = pytest.mark.django_db

MODEL = "stale-churn"
ITEM = "infra-4"
AUDITED = Decimal("6.5")  # every item automated but infra-4, accepted as manual: the infra section is 6.5


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.MLAUDIT_MLFLOW_HTTP_RETRIES = 1
    settings.MLAUDIT_MLFLOW_HTTP_BACKOFF = 0.05


@pytest.fixture(scope="module")
def registry(mlflow_server):
    """The MLflow client of a registered model with v1 (validated before serving) and v2 (not validated)."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(mlflow_server.url)
    mlflow.set_experiment("stale-answers")
    client = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    client.create_registered_model(MODEL)
    for approved in (True, False):
        with mlflow.start_run() as run:
            mlflow.log_text("flavors: {}\n", "model/MLmodel")
        version = client.create_model_version(MODEL, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
        if approved:
            client.set_model_version_tag(MODEL, version.version, "validation_status", "approved")
    return client


def run_sync(manager, connection) -> SyncRun:
    sync = services.sync_request(actor=manager, connection=connection)
    services.sync_execute(sync_id=sync.pk, final_attempt=True)
    sync.refresh_from_db()
    assert sync.state == "succeeded", sync.error
    return sync


@pytest.fixture
def audited(registry, mlflow_server, connect, project, manager, editor, rubric):
    """Champion on v1, synced, infra-4 accepted from the finding, every other item automated, submitted."""
    registry.set_registered_model_alias(MODEL, "champion", "1")
    connection = connect(project, mlflow_server, registered_models=[MODEL], schedule="off")
    run_sync(manager, connection)
    assert latest_findings(project=project)[ITEM].result == "pass"
    audit = audit_start(actor=manager, project=project)
    for code in rubric.items.exclude(code=ITEM).values_list("code", flat=True):
        answer_save(actor=editor, audit=audit, item_code=code, status="automated")
    services.finding_accept(actor=editor, audit=audit, item_code=ITEM)
    audit_submit(actor=manager, audit=audit)
    project.refresh_from_db()
    return connection, audit


def drops(project) -> list[Notification]:
    return list(Notification.objects.filter(event="live_score_drop", project=project))


def test_an_accepted_finding_records_its_evidence_and_the_version_it_was_about(audited):
    connection, audit = audited
    accepted = AcceptedFinding.objects.get(answer__audit=audit, item_code=ITEM)
    sync = SyncRun.objects.filter(connection=connection).latest("finished_at")
    assert (accepted.source, accepted.evidence_key, accepted.accepted_status) == ("mlflow", f"sync:{sync.pk}", "manual")
    assert accepted.observed_at == latest_findings(project=audit.project)[ITEM].synced_at
    assert (accepted.model_name, accepted.model_alias, accepted.model_version) == (MODEL, "champion", 1)


def test_before_anything_changes_the_live_score_is_the_audited_one(audited, project):
    live = live_score(project)
    assert live is not None and live.stale == []
    assert live.final == live.audited_final == AUDITED and not live.dropped
    assert drops(project) == []


def test_moving_the_champion_makes_the_answer_stale_and_drops_the_live_score_once(audited, registry, project, manager):
    connection, audit = audited
    registry.set_registered_model_alias(MODEL, "champion", "2")
    try:
        run_sync(manager, connection)
        live = live_score(project)
        assert latest_findings(project=project)[ITEM].result == "fail"  # v2 was never validated
        assert [item.code for item in live.stale] == [ITEM]
        reason = live.stale[0].reason
        assert "answered for champion v1; champion is now v2" in reason
        assert "latest evidence no longer supports manual" in reason
        assert live.stale[0].supported == "not_done"
        assert live.final == Decimal("6") < live.audited_final == AUDITED and live.dropped

        [notification] = drops(project)
        assert notification.key == f"live:{project.pk}:{audit.pk}:6" and notification.audit == audit
        assert notification.context["final"] == "6" and notification.context["previous_final"] == "6.5"
        assert notification.context["stale"][0]["item"] == ITEM
        run_sync(manager, connection)  # the same drop seen again is not announced again
        assert len(drops(project)) == 1
    finally:
        registry.set_registered_model_alias(MODEL, "champion", "1")


def test_the_project_page_shows_the_live_score_beside_the_audited_one_with_the_reason(
    audited, registry, project, manager, viewer
):
    connection, _audit = audited
    registry.set_registered_model_alias(MODEL, "champion", "2")
    try:
        run_sync(manager, connection)
    finally:
        registry.set_registered_model_alias(MODEL, "champion", "1")
    client = Client()
    client.force_login(viewer)
    page = client.get(reverse("audits:project-detail", args=[project.slug])).content.decode()
    assert 'data-testid="latest-score">6.5<' in page
    assert 'data-testid="live-score">6<' in page
    assert 'data-stale-item="infra-4"' in page
    assert "answered for champion v1; champion is now v2" in page
    with_language = client.get(reverse("audits:project-detail", args=[project.slug]), HTTP_ACCEPT_LANGUAGE="es")
    assert with_language.status_code == 200


def test_a_registry_webhook_makes_the_answer_stale_before_the_queued_sync_runs(
    audited, registry, project, manager, django_capture_on_commit_callbacks
):
    connection, audit = audited
    secret = webhooks.webhook_secret_rotate(actor=manager, connection=connection)
    registry.set_registered_model_alias(MODEL, "champion", "2")
    try:
        body, headers = delivery(
            secret, "model_version_alias.created", {"name": MODEL, "alias": "champion", "version": "2"}
        )
        with django_capture_on_commit_callbacks() as after_commit:
            assert post(connection, body, headers).status_code == 200
        # Run the queued live score check (a task, eager here) but not the queued sync: it has not run yet.
        [check] = [f for f in after_commit if f.__qualname__.startswith("live_score_check_after_commit")]
        check()
    finally:
        registry.set_registered_model_alias(MODEL, "champion", "1")
    stale = stale_answers(audit=audit)
    # The finding is still v1's (no sync yet): it speaks for a version that no longer serves.
    assert stale[ITEM].reason == "answered for champion v1; champion is now v2"
    assert stale[ITEM].supported == "not_done"
    assert live_score(project).final == Decimal("6")
    assert [n.key for n in drops(project)] == [f"live:{project.pk}:{audit.pk}:6"]


def test_an_answer_is_stale_once_its_source_has_not_confirmed_it_within_the_window(audited, project):
    _connection, audit = audited
    later = timezone.now() + timedelta(days=91)
    stale = stale_answers(audit=audit, now=later)
    assert stale[ITEM].reason == "last confirmed 91 days ago (window: 90 days)"
    assert not stale_answers(audit=audit, now=timezone.now() + timedelta(days=89))
    project.evidence_fresh_days_manual = 120
    project.save()
    assert not stale_answers(audit=audit, now=later)
    # The live score counts what a finding that old still supports: nothing, past the manual window.
    assert live_score(project, now=timezone.now() + timedelta(days=121)).final == Decimal("6")


def test_a_new_audit_from_the_last_one_marks_the_stale_carried_over_answer(audited, registry, project, manager, editor):
    connection, _audit = audited
    registry.set_registered_model_alias(MODEL, "champion", "2")
    try:
        run_sync(manager, connection)
    finally:
        registry.set_registered_model_alias(MODEL, "champion", "1")
    draft = audit_start(actor=manager, project=project, copy_from_latest=True)
    assert Answer.objects.get(audit=draft, item__code=ITEM).carried_over
    client = Client()
    client.force_login(editor)
    page = client.get(reverse("audits:audit-detail", args=[draft.pk]), {"show": "stale"}).content.decode()
    assert 'data-filter-count="stale">1<' in page
    assert "answered for champion v1; champion is now v2" in page
    items = dict(re.findall(r'<article class="item" id="item-([\w-]+)"([^>]*)>', page))
    assert "data-stale" in items[ITEM] and "data-carried" in items[ITEM]
    assert [code for code, flags in items.items() if " hidden" not in flags] == [ITEM]

    # Changing the answer by hand ends its tie to the evidence; it is no longer stale.
    answer_save(actor=editor, audit=draft, item_code=ITEM, status="not_done")
    assert stale_answers(audit=draft) == {}


def test_the_api_shows_the_live_score_and_each_answers_staleness(audited, registry, project, manager, viewer):
    connection, audit = audited
    registry.set_registered_model_alias(MODEL, "champion", "2")
    try:
        run_sync(manager, connection)
    finally:
        registry.set_registered_model_alias(MODEL, "champion", "1")
    api = APIClient()
    api.force_authenticate(viewer)
    body = api.get(f"/api/v1/projects/{project.slug}/live-score/").json()
    assert (body["audit"], body["audited_final"], body["final"], body["dropped"]) == (audit.pk, 6.5, 6.0, True)
    [item] = body["stale"]
    assert (item["item"], item["status"], item["supported"]) == (ITEM, "manual", "not_done")
    assert "champion is now v2" in item["reason"]
    answers = {a["item"]: a for a in api.get(f"/api/v1/audits/{audit.pk}/").json()["answers"]}
    assert answers[ITEM]["stale"] is True and "champion is now v2" in answers[ITEM]["stale_reason"]
    assert answers["data-1"]["stale"] is False and answers["data-1"]["stale_reason"] is None


def test_the_team_digest_selector_lists_projects_with_stale_answers(audited, registry, project, manager, team):
    connection, _audit = audited
    assert stale_answers_for_team(team) == []
    registry.set_registered_model_alias(MODEL, "champion", "2")
    try:
        run_sync(manager, connection)
    finally:
        registry.set_registered_model_alias(MODEL, "champion", "1")
    [score] = stale_answers_for_team(team)
    assert score.project == project and [item.code for item in score.stale] == [ITEM]
    [section] = [s for s in digest_for(team, today=timezone.now().date()) if s.key == "stale"]
    assert section.lines == [f"{project.name}: live score 6 (audited 6.5); stale: {ITEM}"]


def test_the_project_page_and_the_questionnaire_read_as_many_rows_with_one_acceptance_as_with_many_stale_answers(
    audited, registry, scenario, project, manager, editor, django_assert_max_num_queries
):
    """The live score and the stale marks cost the same queries whatever the number of acceptances and stale answers."""
    connection, _audit = audited
    client = Client()
    client.force_login(editor)
    page = reverse("audits:project-detail", args=[project.slug])

    def questionnaire_of_a_new_draft() -> str:
        draft = audit_start(actor=manager, project=project, copy_from_latest=True)
        return reverse("audits:audit-detail", args=[draft.pk])

    first_draft = questionnaire_of_a_new_draft()
    client.get(page), client.get(first_draft)  # fill the per-process rubric caches
    with django_assert_max_num_queries(100) as one_page:
        client.get(page)
    with django_assert_max_num_queries(100) as one_questionnaire:
        client.get(first_draft)
    # The connection also reads the team's experiment (the session's churn history): many items pass.
    services.connection_update(actor=manager, connection=connection, experiments=[scenario.experiment])
    run_sync(manager, connection)
    # A second audit, carried over, with every passing finding of the sync accepted.
    draft = audit_start(actor=manager, project=project, copy_from_latest=True)
    passing = [code for code, f in latest_findings(project=project).items() if f.result == "pass"]
    for code in passing:
        services.finding_accept(actor=editor, audit=draft, item_code=code, confirm_lower=True)
    audit_submit(actor=manager, audit=draft)
    registry.set_registered_model_alias(MODEL, "champion", "2")
    try:
        run_sync(manager, connection)
    finally:
        registry.set_registered_model_alias(MODEL, "champion", "1")
    project.refresh_from_db()
    assert len(live_score(project).stale) >= 3
    with django_assert_max_num_queries(len(one_page.captured_queries)):
        client.get(page)
    second_draft = questionnaire_of_a_new_draft()
    with django_assert_max_num_queries(len(one_questionnaire.captured_queries)):
        response = client.get(second_draft)
    assert response.content.decode().count("data-stale-reason") >= 3


def test_acceptances_made_before_provenance_was_recorded_get_it_from_their_snapshots(audited):
    backfill = import_module("integrations.mlflow.migrations.0005_accepted_finding_provenance").backfill
    _connection, audit = audited
    recorded = AcceptedFinding.objects.get(answer__audit=audit, item_code=ITEM)
    fields = (
        "source",
        "evidence_key",
        "observed_at",
        "accepted_status",
        "connection_id",
        "model_name",
        "model_alias",
        "model_version",
    )
    expected = [getattr(recorded, f) for f in fields]
    AcceptedFinding.objects.filter(pk=recorded.pk).update(
        source="mlflow", evidence_key="", observed_at=None, accepted_status="", connection=None, model_name="",
        model_alias="", model_version=None,
    )  # fmt: skip
    backfill(apps, None)
    recorded.refresh_from_db()
    assert [getattr(recorded, f) for f in fields] == expected


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_in_chromium_the_stale_filter_shows_only_the_stale_item_and_changing_it_clears_the_mark(
    page, live_server, audited, registry, project, manager, editor
):
    expect.set_options(timeout=10_000)
    connection, _audit = audited
    registry.set_registered_model_alias(MODEL, "champion", "2")
    try:
        run_sync(manager, connection)
    finally:
        registry.set_registered_model_alias(MODEL, "champion", "1")
    draft = audit_start(actor=manager, project=project, copy_from_latest=True)
    sign_in(page, live_server, editor.username)
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    expect(page.get_by_test_id("live-score")).to_have_text("6")
    expect(page.locator("[data-stale-item='infra-4']")).to_contain_text("champion is now v2")

    page.goto(f"{live_server.url}/audits/{draft.pk}/")
    page.click("a[data-filter='stale']")
    visible = page.locator("article.item:visible")
    expect(visible).to_have_count(1)
    expect(visible.first).to_have_attribute("id", f"item-{ITEM}")
    expect(visible.first.locator("[data-stale-reason]")).to_contain_text("answered for champion v1; champion is now v2")
    choose_status(page, ITEM, "not_done")
    expect(page.locator(f"#item-{ITEM} [data-stale-reason]")).to_be_hidden()
    expect(page.locator("[data-filter-count='stale']")).to_have_text("0")
