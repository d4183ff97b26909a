"""The evidence tags and includes on the questionnaire and project pages: what they show and their query cost."""

from __future__ import annotations

import pytest
from django.db import connection as db_connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.services import audit_start
from integrations.mlflow.models import SyncRun, SyncTrigger
from integrations.mlflow.selectors import findings_for_audit
from tests.mlflow.conftest import make_finding, offline_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick")]


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
