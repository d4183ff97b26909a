"""The connection form. Secrets are never rendered back: an empty password or token keeps the stored one."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.mlflow.models import AuthType, MlflowConnection, Schedule, connection_limit


class ConnectionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=connection_limit("name"), required=False)
    tracking_uri = forms.CharField(
        label=_("Tracking URI"),
        max_length=connection_limit("tracking_uri"),
        help_text=_("For example https://mlflow.example.com"),
    )
    ui_url = forms.CharField(
        label=_("MLflow UI address"),
        max_length=connection_limit("ui_url"),
        required=False,
        help_text=_("Only if links should use another address."),
    )
    auth_type = forms.ChoiceField(label=_("Authentication"), choices=AuthType.choices, initial=AuthType.NONE)
    username = forms.CharField(label=_("User name"), max_length=connection_limit("username"), required=False)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    token = forms.CharField(
        label=_("Bearer token"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    verify_tls = forms.BooleanField(label=_("Verify TLS certificates"), required=False, initial=True)
    experiments = forms.CharField(
        label=_("Experiments"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Names or ids, one per line."),
    )
    registered_models = forms.CharField(
        label=_("Registered models"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line."),
    )
    serving_alias = forms.CharField(
        label=_("Serving alias"), max_length=connection_limit("serving_alias"), initial="champion"
    )
    schedule = forms.ChoiceField(label=_("Automatic sync"), choices=Schedule.choices, initial=Schedule.NIGHTLY)
    thresholds = forms.CharField(
        label=_("Thresholds (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_('Overrides of the defaults, e.g. {"quality_metric": "roc_auc", "max_serving_age_days": 60}.'),
    )

    @classmethod
    def for_connection(cls, connection: MlflowConnection) -> ConnectionForm:
        return cls(
            initial={
                "name": connection.name,
                "tracking_uri": connection.tracking_uri,
                "ui_url": connection.ui_url,
                "auth_type": connection.auth_type,
                "username": connection.username,
                "verify_tls": connection.verify_tls,
                "experiments": "\n".join(connection.experiments),
                "registered_models": "\n".join(connection.registered_models),
                "serving_alias": connection.serving_alias,
                "schedule": connection.schedule,
                "thresholds": json.dumps(connection.thresholds, indent=2) if connection.thresholds else "",
            }
        )

    def clean_thresholds(self) -> Any:
        # Only the JSON syntax is the form's; which names and kinds are allowed is the service's rule.
        raw = (self.cleaned_data.get("thresholds") or "").strip()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise forms.ValidationError(_("This is not valid JSON.")) from None

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {
            key: data[key]
            for key in (
                "name", "tracking_uri", "ui_url", "verify_tls", "experiments", "registered_models", "serving_alias",
                "schedule", "thresholds",
            )
        }  # fmt: skip
        fields["auth"] = {
            "type": data["auth_type"],
            "username": data.get("username", ""),
            "password": data.get("password", ""),
            "token": data.get("token", ""),
        }
        return fields
