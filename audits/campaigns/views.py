"""Campaign pages: the list, the create / edit form and a campaign's progress. Thin: selectors read,
services write, figures come from audits.dashboards.history_charts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audits.campaigns import selectors, services
from audits.campaigns.forms import CampaignForm
from audits.dashboards import history_charts
from audits.dashboards.selectors import rubric_labels
from audits.models import Campaign, Tag
from audits.selectors import managed_teams, visible_projects
from audits.types import Actor, actor_of
from audits.views.common import add_service_errors
from rubric.models import status_label


def _can_create(user: Actor) -> bool:
    return managed_teams(user=user).exists()


def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = selectors.visible_campaigns(user=request.user).prefetch_related("teams", "tags")
    return render(
        request,
        "campaigns/campaign_list.html",
        {
            "campaigns": [(c, selectors.campaign_target(c)) for c in campaigns],
            "can_create": _can_create(request.user),
        },
    )


def _form(request: HttpRequest, data: Any = None, initial: dict[str, Any] | None = None) -> CampaignForm:
    tags = Tag.objects.filter(projects__in=visible_projects(user=request.user)).distinct().order_by("slug")
    return CampaignForm(data, teams=managed_teams(user=request.user).order_by("name"), tags=tags, initial=initial)


def _fields(form: CampaignForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data["teams"] = list(data["teams"])
    data["tags"] = [tag.slug for tag in data["tags"]]
    return data


@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    if not _can_create(request.user):
        raise PermissionDenied(_("Only staff and team managers can start campaigns."))
    form = _form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(actor=actor_of(request), **_fields(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Campaign “%(name)s” created.") % {"name": campaign.name})
            return redirect("campaigns:detail", campaign_id=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": None})


def _manageable(request: HttpRequest, campaign: Campaign) -> None:
    if not services.can_manage_campaign_teams(user=request.user, teams=list(campaign.teams.all())):
        raise PermissionDenied(_("Only staff and managers of every team in a campaign may change it."))


@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_for_user(user=request.user, campaign_id=campaign_id)
    _manageable(request, campaign)
    initial = {
        "name": campaign.name,
        "description": campaign.description,
        "target": selectors.campaign_target(campaign).label,
        "teams": list(campaign.teams.all()),
        "tags": list(campaign.tags.all()),
        "starts_on": campaign.starts_on,
        "due_on": campaign.due_on,
    }
    form = _form(request, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(actor=actor_of(request), campaign=campaign, **_fields(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("campaigns:detail", campaign_id=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign})


@require_POST
def campaign_delete(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_for_user(user=request.user, campaign_id=campaign_id)
    services.campaign_delete(actor=actor_of(request), campaign=campaign)
    messages.success(request, _("Campaign “%(name)s” deleted.") % {"name": campaign.name})
    return redirect("campaigns:list")


def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_for_user(user=request.user, campaign_id=campaign_id)
    progress = selectors.campaign_progress(campaign=campaign, user=request.user)
    titles = {item.code: str(item.localized("title")) for item in rubric_labels(campaign.rubric).items}
    rows = [
        {
            "row": row,
            "steps": [
                {
                    "code": change.item,
                    "title": titles.get(change.item, change.item),
                    "to": status_label(change.to_status, short=True),
                }
                for change in row.plan.changes
            ],
        }
        for row in progress.projects
    ]
    context = {
        "campaign": campaign,
        "progress": progress,
        "rows": rows,
        "can_manage": services.can_manage_campaign_teams(user=request.user, teams=list(campaign.teams.all())),
        "chart": history_charts.burnup_chart(progress.burnup, progress.total, campaign.due_on),
    }
    return render(request, "campaigns/campaign_detail.html", context)
