from django.urls import URLPattern, URLResolver, path

from audits.notifications import api

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "teams/<slug:slug>/notification-channels/",
        api.TeamChannelsApi.as_view(),
        name="api-notification-channels",
    ),
    path(
        "teams/<slug:slug>/notification-channels/<int:channel_id>/",
        api.TeamChannelApi.as_view(),
        name="api-notification-channel",
    ),
]
