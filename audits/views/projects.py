from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audits import selectors, services
from audits.forms import ProjectCreateForm, ProjectForm, ProjectSearchForm, StartAuditForm
from audits.models import ROLE_RANK, Project, Role
from audits.views.common import add_service_errors
from rubric.models import Rubric
from rubric.selectors import band_labels_localized, default_rubric

PROJECTS_PER_PAGE = 25


def project_list(request: HttpRequest) -> HttpResponse:
    search_form = ProjectSearchForm(request.GET)
    search = search_form.cleaned_data["q"] if search_form.is_valid() else ""
    page = Paginator(selectors.project_list(user=request.user, search=search), PROJECTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "audits/project_list.html",
        {
            "search_form": search_form,
            "search": search,
            "page": page,
            "bands": band_labels_localized(),
            "can_create": selectors.managed_teams(user=request.user).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    teams = selectors.managed_teams(user=request.user)
    if not teams.exists():
        raise PermissionDenied(_("Only team managers can create projects."))
    form = ProjectCreateForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "team"}
        try:
            project = services.project_create(actor=request.user, team=form.cleaned_data["team"], **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Project “%(name)s” created.") % {"name": project.name})
            return redirect("audits:project-detail", slug=project.slug)
    return render(request, "audits/project_form.html", {"form": form, "project": None})


@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_for_user(user=request.user, slug=slug)
    if not selectors.has_role(user=request.user, team=project.team, at_least=Role.MANAGER):
        raise PermissionDenied(_("Only team managers can edit projects."))
    # A copy, so a refused form does not alter the instance the page shows.
    form = ProjectForm(request.POST or None, instance=selectors.project_for_user(user=request.user, slug=slug))
    if request.method == "POST" and form.is_valid():
        try:
            services.project_update(actor=request.user, project=project, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Project saved."))
            return redirect("audits:project-detail", slug=project.slug)
    return render(request, "audits/project_form.html", {"form": form, "project": project})


def _start_form(project: Project, data: QueryDict | None = None) -> StartAuditForm:
    return StartAuditForm(
        data,
        rubrics=Rubric.objects.order_by("slug", "-loaded_at"),
        can_copy=selectors.latest_submitted_audit(project=project) is not None,
        initial={"rubric": default_rubric()},
    )


def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_for_user(user=request.user, slug=slug)
    role = selectors.team_role(user=request.user, team=project.team)
    is_manager = selectors.has_role(user=request.user, team=project.team, at_least=Role.MANAGER)
    audits = list(selectors.project_audits(project=project))
    scores = selectors.draft_scores(audits=audits)
    for audit in audits:
        audit.current_score = scores.get(audit.pk)  # type: ignore[attr-defined]  # drafts: the score so far
    return render(
        request,
        "audits/project_detail.html",
        {
            "project": project,
            "role": role,
            "is_manager": is_manager,
            "latest": selectors.latest_submitted_audit(project=project),
            "audits": audits,
            "can_edit": role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role.EDITOR],
            "bands": band_labels_localized(),
            "start_form": _start_form(project) if is_manager else None,
        },
    )


@require_http_methods(["GET", "POST"])
def audit_start(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_for_user(user=request.user, slug=slug)
    if not selectors.has_role(user=request.user, team=project.team, at_least=Role.MANAGER):
        raise PermissionDenied(_("Only team managers can start audits."))
    form = _start_form(project, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            audit = services.audit_start(
                actor=request.user,
                project=project,
                rubric=form.cleaned_data["rubric"],
                copy_from_latest=form.cleaned_data["start_from"] == StartAuditForm.COPY,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Audit started. Every answer is saved as soon as you give it."))
            return redirect("audits:audit-detail", audit_id=audit.pk)
    return render(request, "audits/audit_start.html", {"project": project, "form": form})
