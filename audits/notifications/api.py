"""REST API for a team's notification channels: thin views over channels.py and selectors.py."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from audits.api import schema as docs
from audits.api.views import ApiView
from audits.models import ChannelKind, NotificationChannel, NotificationEvent, WebhookPayload
from audits.models.notifications import CHANNEL_URL_MAX_LENGTH
from audits.notifications import channels, selectors
from audits.types import actor_of

TAG = ["Notifications"]
E = docs.error_responses


class ChannelUpdateInput(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=NotificationEvent.values), allow_empty=False, max_length=20
    )
    address = serializers.CharField(max_length=254, allow_blank=True, help_text="Email channels.")
    url = serializers.CharField(max_length=CHANNEL_URL_MAX_LENGTH, allow_blank=True, help_text="Webhook channels.")
    payload = serializers.ChoiceField(choices=WebhookPayload.values, help_text="Webhook channels; default json.")
    paused = serializers.BooleanField(help_text="false resumes a paused channel; true pauses it.")


class ChannelCreateInput(ChannelUpdateInput):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("address", "url", "payload"):
            self.fields[name].required = False
        self.fields.pop("paused")


class ChannelOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    events = serializers.ListField(child=serializers.ChoiceField(choices=NotificationEvent.values))
    address = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    payload = serializers.ChoiceField(choices=WebhookPayload.values, allow_null=True)
    paused = serializers.BooleanField(source="is_paused")
    paused_at = serializers.DateTimeField(allow_null=True)
    paused_reason = serializers.CharField()
    consecutive_failures = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def to_representation(self, instance: NotificationChannel) -> dict[str, Any]:
        data = dict(super().to_representation(instance))
        email = instance.kind == ChannelKind.EMAIL
        data["address"] = instance.address if email else None
        data["url"] = None if email else instance.url
        data["payload"] = None if email else instance.payload
        return data


class ChannelCreatedOutput(ChannelOutput):
    secret = serializers.CharField(
        allow_null=True,
        help_text="Webhooks: the signing secret, shown only in this answer (stored encrypted). Null for email.",
    )


class TeamChannelsApi(ApiView):
    queryset = NotificationChannel.objects.none()
    serializer_class = ChannelOutput

    @extend_schema(
        tags=TAG,
        operation_id="notification_channels_list",
        summary="A team's notification channels (managers)",
        responses={200: ChannelOutput(many=True), **E(*docs.COMMON_ERRORS, 403, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        team = selectors.team_for_manager(user=request.user, slug=slug)
        return Response(ChannelOutput(selectors.team_channels(team=team), many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="notification_channels_create",
        summary="Add an email or webhook channel (managers); a webhook's secret is in this answer only",
        request=ChannelCreateInput,
        responses={201: ChannelCreatedOutput, **E(*docs.COMMON_ERRORS, 400, 403, 404)},
    )
    def post(self, request: Request, slug: str) -> Response:
        team = selectors.team_for_manager(user=request.user, slug=slug)
        data = ChannelCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        channel, secret = channels.channel_create(actor=actor_of(request), team=team, **data.validated_data)
        channel.secret = secret or None  # type: ignore[attr-defined]
        return Response(ChannelCreatedOutput(channel).data, status=status.HTTP_201_CREATED)


class TeamChannelApi(ApiView):
    queryset = NotificationChannel.objects.none()
    serializer_class = ChannelOutput

    @extend_schema(
        tags=TAG,
        operation_id="notification_channels_partial_update",
        summary="Change a channel's events or target, or resume it (paused: false)",
        request=ChannelUpdateInput,
        responses={200: ChannelOutput, **E(*docs.COMMON_ERRORS, 400, 403, 404)},
    )
    def patch(self, request: Request, slug: str, channel_id: int) -> Response:
        team = selectors.team_for_manager(user=request.user, slug=slug)
        channel = selectors.channel_of_team(team=team, channel_id=channel_id)
        data = ChannelUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        channel = channels.channel_update(actor=actor_of(request), channel=channel, **data.validated_data)
        return Response(ChannelOutput(channel).data)

    @extend_schema(
        tags=TAG,
        operation_id="notification_channels_destroy",
        summary="Remove a channel",
        responses={204: None, **E(*docs.COMMON_ERRORS, 403, 404)},
    )
    def delete(self, request: Request, slug: str, channel_id: int) -> Response:
        team = selectors.team_for_manager(user=request.user, slug=slug)
        channel = selectors.channel_of_team(team=team, channel_id=channel_id)
        channels.channel_delete(actor=actor_of(request), channel=channel)
        return Response(status=status.HTTP_204_NO_CONTENT)
