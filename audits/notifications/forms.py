from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from audits.models import ChannelKind, NotificationEvent, WebhookPayload
from audits.models.notifications import CHANNEL_URL_MAX_LENGTH


class ChannelForm(forms.Form):
    """A new channel; the service validates the address or URL (through the address guard) and the events."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=ChannelKind.choices, widget=forms.RadioSelect, initial=ChannelKind.EMAIL
    )
    address = forms.CharField(label=_("Email address"), required=False, max_length=254)
    url = forms.CharField(
        label=_("Webhook URL"),
        required=False,
        max_length=CHANNEL_URL_MAX_LENGTH,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    payload = forms.ChoiceField(
        label=_("Webhook body"), choices=WebhookPayload.choices, required=False, initial=WebhookPayload.JSON
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=NotificationEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[NotificationEvent.REGRESSION, NotificationEvent.AUDIT_OVERDUE],
    )


class PreferenceForm(forms.Form):
    email_opt_out = forms.BooleanField(
        label=_("Send me no notification email"),
        required=False,
        help_text=_("Team channels that mail your address and mail addressed to you are skipped."),
    )
