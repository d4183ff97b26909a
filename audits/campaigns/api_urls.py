"""/api/v1/campaigns/ — see README "Campaigns"."""

from django.urls import URLPattern, URLResolver, path

from audits.campaigns import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("campaigns/", api.CampaignListApi.as_view(), name="api-campaign-list"),
    path("campaigns/<int:campaign_id>/", api.CampaignDetailApi.as_view(), name="api-campaign-detail"),
    path("campaigns/<int:campaign_id>/progress/", api.CampaignProgressApi.as_view(), name="api-campaign-progress"),
]
