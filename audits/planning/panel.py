"""The next steps as the questionnaire's score panel shows them: how many more items in which section reach
the next band. Built from statuses the page or the save has already read, so it costs no query; rendered
by the one include, `audits/_next_steps_panel.html`, on the page and in each save's JSON (the page's
script swaps it in with the rest of the score)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from audits.models import Audit
from audits.planning.selectors import AuditPlan, plan_for_statuses

PANEL_TEMPLATE = "audits/_next_steps_panel.html"


def panel_context(audit: Audit, statuses: Mapping[str, str]) -> AuditPlan:
    return plan_for_statuses(audit, statuses)


def panel_html(request: HttpRequest, audit: Audit, statuses: Mapping[str, str]) -> str:
    context: dict[str, Any] = {"next_steps": panel_context(audit, statuses)}
    return render_to_string(PANEL_TEMPLATE, context, request)
