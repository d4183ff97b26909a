"""Browser forms for campaigns and project tags; they parse input, the rules are in audits.campaigns.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from audits.models import CAMPAIGN_DESCRIPTION_MAX_LENGTH, CAMPAIGN_NAME_MAX_LENGTH, TAG_MAX_LENGTH, Tag, Team


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=CAMPAIGN_NAME_MAX_LENGTH)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=CAMPAIGN_DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    target = forms.CharField(
        label=_("Target"),
        max_length=100,
        help_text=_("A band (e.g. “Reasonably tested”: that band or a better one) or a minimum final score (e.g. 2)."),
    )
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"), queryset=Team.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"),
        queryset=Tag.objects.none(),
        required=False,
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only projects with one of these tags (all projects of the teams when none is ticked)."),
    )
    starts_on = forms.DateField(label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"}))
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, teams: QuerySet[Team], tags: QuerySet[Tag], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = teams  # type: ignore[attr-defined]
        self.fields["tags"].queryset = tags  # type: ignore[attr-defined]


class ProjectTagsForm(forms.Form):
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=(TAG_MAX_LENGTH + 2) * 25,
        help_text=_("Comma-separated, e.g. “production, fraud”. Campaigns and the portfolio filter by them."),
    )

    def tag_names(self) -> list[str]:
        return [name for name in self.cleaned_data["tags"].split(",") if name.strip()]
