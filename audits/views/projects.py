from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audits import selectors, services
from audits.campaigns.forms import ProjectTagsForm
from audits.campaigns.services import project_tags_set
from audits.forms import ProjectCreateForm, ProjectForm, ProjectSearchForm, StartAuditForm, reveal_confirmation
from audits.models import ROLE_RANK, Project, Role
from audits.types import actor_of
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
    if request.method == "POST" and form.is_valid() and not _warn_duplicate_name(form):
        fields = {k: v for k, v in form.cleaned_data.items() if k not in {"team", "confirm_duplicate"}}
        try:
            project = services.project_create(actor=actor_of(request), team=form.cleaned_data["team"], **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Project “%(name)s” created.") % {"name": project.name})
            return redirect("audits:project-detail", slug=project.slug)
    return render(request, "audits/project_form.html", {"form": form, "project": None})


def _warn_duplicate_name(form: ProjectCreateForm) -> bool:
    """True (with a warning on the form) when the team already has a project of that name and nobody confirmed."""
    twin = selectors.team_project_named(team=form.cleaned_data["team"], name=form.cleaned_data["name"])
    if twin is None or form.cleaned_data.get("confirm_duplicate"):
        return False
    reveal_confirmation(
        form,
        "confirm_duplicate",
        _("The team already has a project named “%(name)s” (%(url)s). Tick the box to create a second one.")
        % {"name": twin.name, "url": reverse("audits:project-detail", args=[twin.slug])},
    )
    return True


def _warn_second_draft(form: StartAuditForm, project: Project) -> bool:
    """True (with a warning on the form) when the project has an open draft and nobody confirmed another."""
    draft = selectors.open_drafts(project=project).first()
    if draft is None or form.cleaned_data.get("confirm_second_draft"):
        return False
    reveal_confirmation(
        form,
        "confirm_second_draft",
        _("This project already has an open draft, started on %(date)s (%(url)s). Tick the box to start another.")
        % {
            "date": date_format(timezone.localtime(draft.created_at), "DATE_FORMAT"),
            "url": reverse("audits:audit-detail", args=[draft.pk]),
        },
    )
    return True


@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_for_user(user=request.user, slug=slug)
    if not selectors.has_role(user=request.user, team=project.team, at_least=Role.MANAGER):
        raise PermissionDenied(_("Only team managers can edit projects."))
    # A copy, so a refused form does not alter the instance the page shows.
    form = ProjectForm(request.POST or None, instance=selectors.project_for_user(user=request.user, slug=slug))
    tags_form = ProjectTagsForm(request.POST or None, initial={"tags": ", ".join(t.name for t in project.tags.all())})
    if request.method == "POST" and form.is_valid() and tags_form.is_valid():
        try:
            with transaction.atomic():
                services.project_update(actor=actor_of(request), project=project, **form.cleaned_data)
                project_tags_set(actor=actor_of(request), project=project, names=tags_form.tag_names())
        except ValidationError as error:
            add_service_errors(tags_form if "tags" in getattr(error, "error_dict", {}) else form, error)
        else:
            messages.success(request, _("Project saved."))
            return redirect("audits:project-detail", slug=project.slug)
    return render(request, "audits/project_form.html", {"form": form, "project": project, "tags_form": tags_form})


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
    badge_url = request.build_absolute_uri(reverse("api-project-badge", args=[project.slug]))
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
            "badge_url": badge_url,
            "badge_markdown": f"![ML Test Score]({badge_url})",
        },
    )


@require_http_methods(["GET", "POST"])
def audit_start(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_for_user(user=request.user, slug=slug)
    if not selectors.has_role(user=request.user, team=project.team, at_least=Role.MANAGER):
        raise PermissionDenied(_("Only team managers can start audits."))
    form = _start_form(project, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and not _warn_second_draft(form, project):
        try:
            audit = services.audit_start(
                actor=actor_of(request),
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
