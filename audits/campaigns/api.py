"""/api/v1/campaigns/: thin views on the shared API base; errors go through the one envelope."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from audits.api import schema as docs
from audits.api.views import ApiView
from audits.campaigns import selectors, services
from audits.campaigns.serializers import CampaignInput, CampaignOutput, ProgressOutput
from audits.models import Campaign, Team
from audits.selectors import visible_teams
from audits.types import actor_of

E = docs.error_responses
CAMPAIGN_EXAMPLE = {
    "id": 3,
    "name": "Production models reasonably tested",
    "description": "Every production model at Reasonably tested by the end of Q2.",
    "target": "Reasonably tested",
    "teams": ["ranking", "ads"],
    "tags": ["production"],
    "starts_on": "2026-04-01",
    "due_on": "2026-06-30",
    "created_at": "2026-04-01T09:00:00Z",
    "updated_at": "2026-04-01T09:00:00Z",
}
CAMPAIGN_REQUEST_EXAMPLE = {
    key: CAMPAIGN_EXAMPLE[key] for key in ("name", "description", "target", "teams", "tags", "starts_on", "due_on")
}
PROGRESS_EXAMPLE = {
    "projects": [
        {"project": "search-ranking", "final": 2.5, "met": True, "next_steps_count": 0},
        {"project": "bidder", "final": 1.5, "met": False, "next_steps_count": 2},
    ],
    "total": 2,
    "met": 1,
}


class CampaignApiView(ApiView):
    queryset = Campaign.objects.none()
    serializer_class: Any = CampaignInput

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if kwargs.get("campaign_id", 0) > docs.MAX_DATABASE_ID:
            raise Http404(_("No such campaign."))


def _input(request: Request, *, partial: bool = False) -> dict[str, Any]:
    serializer = CampaignInput(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    if "teams" in data:
        slugs = list(dict.fromkeys(data["teams"]))
        teams = {team.slug: team for team in visible_teams(user=request.user).filter(slug__in=slugs)}
        unknown = [slug for slug in slugs if slug not in teams]
        if unknown:
            raise ValidationError(
                {"teams": [_("You are not a member of a team with the slug “%(slug)s”.") % {"slug": unknown[0]}]}
            )
        data["teams"] = [teams[slug] for slug in slugs]
    return data


def _output(campaign: Campaign) -> dict[str, Any]:
    fresh = Campaign.objects.select_related("rubric").prefetch_related("teams", "tags").get(pk=campaign.pk)
    return dict(CampaignOutput(fresh).data)


class CampaignListApi(CampaignApiView):
    @extend_schema(
        operation_id="campaigns_list",
        summary="The campaigns you can see",
        examples=[docs.response(docs.paginated(CAMPAIGN_EXAMPLE))],
        responses={200: CampaignOutput(many=True), **E(*docs.COMMON_ERRORS, 404)},
    )
    def get(self, request: Request) -> Response:
        campaigns = selectors.visible_campaigns(user=request.user).prefetch_related("teams", "tags")
        page = self.paginate_queryset(campaigns)
        return self.get_paginated_response(CampaignOutput(page, many=True).data)

    @extend_schema(
        operation_id="campaigns_create",
        summary="Start a campaign (staff, or a manager of every team named)",
        request=CampaignInput,
        examples=[docs.request(CAMPAIGN_REQUEST_EXAMPLE), docs.response(CAMPAIGN_EXAMPLE, status=201)],
        responses={201: CampaignOutput, **E(*docs.COMMON_ERRORS, 400, 403)},
    )
    def post(self, request: Request) -> Response:
        campaign = services.campaign_create(actor=actor_of(request), **_input(request))
        return Response(_output(campaign), status=status.HTTP_201_CREATED)


class CampaignDetailApi(CampaignApiView):
    @extend_schema(
        operation_id="campaigns_retrieve",
        summary="A campaign",
        examples=[docs.response(CAMPAIGN_EXAMPLE)],
        responses={200: CampaignOutput, **E(*docs.COMMON_ERRORS, 404)},
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        return Response(_output(selectors.campaign_for_user(user=request.user, campaign_id=campaign_id)))

    @extend_schema(
        operation_id="campaigns_partial_update",
        summary="Change a campaign (staff, or a manager of every team in it)",
        request=CampaignInput(partial=True),
        examples=[docs.request({"due_on": "2026-07-31"}), docs.response({**CAMPAIGN_EXAMPLE, "due_on": "2026-07-31"})],
        responses={200: CampaignOutput, **E(*docs.COMMON_ERRORS, 400, 403, 404)},
    )
    def patch(self, request: Request, campaign_id: int) -> Response:
        campaign = selectors.campaign_for_user(user=request.user, campaign_id=campaign_id)
        data = _input(request, partial=True)
        teams: list[Team] | None = data.pop("teams", None)
        tags = data.pop("tags", None)
        campaign = services.campaign_update(actor=actor_of(request), campaign=campaign, teams=teams, tags=tags, **data)
        return Response(_output(campaign))

    @extend_schema(
        operation_id="campaigns_destroy",
        summary="Delete a campaign (staff, or a manager of every team in it)",
        examples=[docs.response(None, status=204)],
        responses={204: None, **E(*docs.COMMON_ERRORS, 403, 404)},
    )
    def delete(self, request: Request, campaign_id: int) -> Response:
        campaign = selectors.campaign_for_user(user=request.user, campaign_id=campaign_id)
        services.campaign_delete(actor=actor_of(request), campaign=campaign)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CampaignProgressApi(CampaignApiView):
    serializer_class = ProgressOutput
    pagination_class = None  # one row per project in scope, read whole like the campaign page

    @extend_schema(
        operation_id="campaigns_progress",
        summary="Each project in scope: latest final score, whether it meets the target, next steps to it",
        examples=[docs.response(PROGRESS_EXAMPLE)],
        responses={200: ProgressOutput, **E(*docs.COMMON_ERRORS, 404)},
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = selectors.campaign_for_user(user=request.user, campaign_id=campaign_id)
        progress = selectors.campaign_progress(campaign=campaign, user=request.user)
        return Response(ProgressOutput(progress).data)
