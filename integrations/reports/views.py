"""Pages for CI reports: a project's reports, findings, mapping rules and push tokens; the coverage table.

Thin: forms parse, services write, selectors read.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audits.api.tokens import api_token_create
from audits.models import Role
from audits.selectors import has_role, project_for_user
from audits.types import actor_of
from evidence.sources import SOURCE_LABELS
from integrations.mlflow.selectors import item_titles
from integrations.reports import selectors, services
from integrations.reports.coverage import coverage
from integrations.reports.mapping import Rule, map_checks
from integrations.reports.models import ReportKind


class MappingForm(forms.Form):
    pattern = forms.CharField(label=gettext_lazy("Check names like"), max_length=200)
    item = forms.CharField(label=gettext_lazy("Back the item"), max_length=50)
    kind = forms.ChoiceField(
        label=gettext_lazy("In reports of kind"),
        choices=[("", gettext_lazy("any kind")), *ReportKind.choices],
        required=False,
    )


def _preview(project, rule: Rule | None) -> list[dict]:
    """What the latest report of each kind maps, and what it would map with `rule` added (without a rule: the
    checks that map nowhere). Each report is mapped in one pass per rule set, as on receipt."""
    rows = []
    known = selectors.item_codes()
    rules = selectors.mapping_rules(project=project)
    for report in selectors.latest_report_per_kind(project=project):
        checks = selectors.parsed_checks(report)
        now = map_checks(checks, kind=report.kind, rules=rules, known=known)
        after = map_checks(checks, kind=report.kind, rules=[*rules, rule], known=known) if rule else now
        for index, check in enumerate(checks):
            mapped_now, mapped_after = now.get(index, ()), after.get(index, ())
            if (rule is None and mapped_now) or (rule is not None and mapped_after == mapped_now):
                continue
            rows.append(
                {"kind": report.get_kind_display(), "name": check.name, "now": mapped_now, "after": mapped_after}
            )
    return rows[:200]


def project_reports(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for_user(user=request.user, slug=slug)
    can_manage = has_role(user=request.user, team=project.team, at_least=Role.MANAGER)
    form = MappingForm(request.GET if "preview" in request.GET else None)
    rule = None
    if form.is_bound and form.is_valid():
        rule = Rule(pattern=form.cleaned_data["pattern"], item_code=form.cleaned_data["item"].lower(),
                    kind=form.cleaned_data["kind"])  # fmt: skip
    titles = item_titles()
    context = {
        "project": project,
        "can_manage": can_manage,
        "reports": selectors.project_reports(project=project)[:20],
        "findings": [(f, titles.get(f.item, "")) for f in selectors.project_findings(project=project)],
        "mappings": selectors.project_mappings(project=project),
        "form": form if form.is_bound else MappingForm(),
        "preview_rule": rule,
        "preview": _preview(project, rule),
        "push_key": request.session.pop(f"push-key-{project.pk}", None),
    }
    return render(request, "reports/project_reports.html", context)


@require_POST
def mapping_add(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for_user(user=request.user, slug=slug)
    form = MappingForm(request.POST)
    if form.is_valid():
        try:
            services.mapping_add(actor=actor_of(request), project=project, pattern=form.cleaned_data["pattern"],
                                 item_code=form.cleaned_data["item"], kind=form.cleaned_data["kind"])  # fmt: skip
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Mapping rule added; the next reports use it."))
    else:
        messages.error(request, _("Give a pattern and an item code."))
    return redirect("reports:project", slug=project.slug)


@require_POST
def mapping_delete(request: HttpRequest, slug: str, mapping_id: int) -> HttpResponse:
    project = project_for_user(user=request.user, slug=slug)
    services.mapping_delete(actor=actor_of(request), project=project, mapping_id=mapping_id)
    messages.success(request, _("Mapping rule removed."))
    return redirect("reports:project", slug=project.slug)


@require_POST
def push_token_create(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for_user(user=request.user, slug=slug)
    if not has_role(user=request.user, team=project.team, at_least=Role.MANAGER):
        raise PermissionDenied(_("Only team managers can create push tokens."))
    name = (request.POST.get("name") or "").strip() or _("CI push")
    try:
        _token, key = api_token_create(user=actor_of(request), name=name, push_project=project)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        # Shown once, on the next page view only; never stored in clear.
        request.session[f"push-key-{project.pk}"] = key
    return redirect("reports:project", slug=project.slug)


def coverage_page(request: HttpRequest) -> HttpResponse:
    table = coverage()
    titles = item_titles()
    sources = list(SOURCE_LABELS)
    rows = [
        {"code": code, "title": titles.get(code, ""), "cells": [table.get(code, {}).get(s, "") for s in sources]}
        for code in titles
    ]
    backed = sum(1 for row in rows if any(row["cells"]))
    return render(
        request,
        "reports/coverage.html",
        {"rows": rows, "sources": [SOURCE_LABELS[s] for s in sources], "backed": backed, "total": len(rows)},
    )
