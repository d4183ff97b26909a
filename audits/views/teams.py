from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audits import selectors, services
from audits.forms import MemberForm
from audits.models import Role
from audits.types import actor_of
from audits.views.common import add_service_errors


def team_list(request: HttpRequest) -> HttpResponse:
    return render(request, "audits/team_list.html", {"teams": selectors.team_list(user=request.user)})


def _team_page(request: HttpRequest, slug: str, form: MemberForm | None = None, status: int = 200) -> HttpResponse:
    team = selectors.team_for_user(user=request.user, slug=slug)
    is_manager = selectors.has_role(user=request.user, team=team, at_least=Role.MANAGER)
    context = {
        "team": team,
        "is_manager": is_manager,
        "role": selectors.team_role(user=request.user, team=team),
        "memberships": selectors.team_memberships(team=team),
        "projects": selectors.with_latest_scores(selectors.visible_projects(user=request.user).filter(team=team)),
        "form": form or (MemberForm() if is_manager else None),
        # With single sign-on on, each role says whether it was granted by hand or comes from provider groups.
        "sso": settings.MLAUDIT_OIDC is not None,
    }
    return render(request, "audits/team_detail.html", context, status=status)


def team_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _team_page(request, slug)


@require_POST
def member_set(request: HttpRequest, slug: str) -> HttpResponse:
    """Add a member by username or email, or change a member's role."""
    team = selectors.team_for_user(user=request.user, slug=slug)
    if not selectors.has_role(user=request.user, team=team, at_least=Role.MANAGER):
        raise PermissionDenied(_("Only team managers can manage members."))
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            membership = services.membership_set(actor=actor_of(request), team=team, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(user)s is now in the team.") % {"user": membership.user.get_username()})
            return redirect("audits:team-detail", slug=team.slug)
    return _team_page(request, slug, form=form, status=400)


@require_POST
def member_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    team = selectors.team_for_user(user=request.user, slug=slug)
    membership = selectors.team_memberships(team=team).filter(pk=membership_id).first()
    if membership is None:
        raise Http404("No such member.")
    try:
        services.membership_remove(actor=actor_of(request), membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(user)s left the team.") % {"user": membership.user.get_username()})
    return redirect("audits:team-detail", slug=team.slug)


def account(request: HttpRequest) -> HttpResponse:
    return render(request, "audits/account.html", {"memberships": selectors.user_memberships(user=actor_of(request))})
