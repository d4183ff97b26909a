"""The connection form. Secrets are never rendered back: an empty password or token keeps the stored one."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from integrations.mlflow.models import AuthType, MlflowConnection, Schedule
from integrations.mlflow.services import validate_thresholds


class ConnectionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    tracking_uri = forms.CharField(
        label=_("Tracking URI"), max_length=500, help_text=_("For example https://mlflow.example.com")
    )
    ui_url = forms.CharField(
        label=_("MLflow UI address"),
        max_length=500,
        required=False,
        help_text=_("Only if links should use another address."),
    )
    auth_type = forms.ChoiceField(label=_("Authentication"), choices=AuthType.choices, initial=AuthType.NONE)
    username = forms.CharField(label=_("User name"), max_length=200, required=False)
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
    serving_alias = forms.CharField(label=_("Serving alias"), max_length=100, initial="champion")
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

    def clean_thresholds(self) -> dict[str, Any]:
        raw = (self.cleaned_data.get("thresholds") or "").strip()
        if not raw:
            return {}
        try:
            return validate_thresholds(json.loads(raw))
        except ValueError:
            raise forms.ValidationError(_("This is not valid JSON.")) from None
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None

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
