"""Browser forms. They only parse and present input; the rules live in audits.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from audits.models import EVIDENCE_FRESH_MAX_DAYS, EVIDENCE_FRESH_MIN_DAYS, FRESHNESS_FIELDS, Project, Role, Team
from rubric.models import AnswerStatus, Rubric


class ProjectSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, team or description")}),
    )


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = [
            "name", "description", "owner_contact", "audit_cadence_days", "badge_public",
            "evidence_fresh_days_automated", "evidence_fresh_days_manual",
        ]  # fmt: skip
        labels = {
            "name": _("Name"),
            "description": _("Description"),
            "owner_contact": _("Contact"),
            "audit_cadence_days": _("Audit every (days)"),
            "badge_public": _("Public score badge"),
            "evidence_fresh_days_automated": _("Evidence holds an automated answer for (days)"),
            "evidence_fresh_days_manual": _("Evidence holds a manual answer for (days)"),
        }
        help_texts = {
            "owner_contact": _("Who to ask about this system."),
            "audit_cadence_days": _("The project counts as overdue when its last submitted audit is older than this."),
            "badge_public": _("Let anyone with the link see the score badge, without signing in."),
            "evidence_fresh_days_automated": format_lazy(
                _(
                    "An automated answer accepted from evidence is stale when its source has not confirmed it for "
                    "this long ({min} to {max} days)."
                ),
                min=EVIDENCE_FRESH_MIN_DAYS,
                max=EVIDENCE_FRESH_MAX_DAYS,
            ),
            "evidence_fresh_days_manual": format_lazy(
                _(
                    "A manual answer accepted from evidence is stale when its source has not confirmed it for this "
                    "long ({min} to {max} days)."
                ),
                min=EVIDENCE_FRESH_MIN_DAYS,
                max=EVIDENCE_FRESH_MAX_DAYS,
            ),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left out of a post (a form from before these settings, a script), a window keeps its value.
        for name in FRESHNESS_FIELDS.values():
            self.fields[name].required = False

    def _window(self, name: str) -> int:
        value = self.cleaned_data.get(name)
        return int(value) if value is not None else int(getattr(self.instance, name))

    def clean_evidence_fresh_days_automated(self) -> int:
        return self._window("evidence_fresh_days_automated")

    def clean_evidence_fresh_days_manual(self) -> int:
        return self._window("evidence_fresh_days_manual")


class ProjectCreateForm(ProjectForm):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), empty_label=None)
    # Shown only after a warning: a second project with a name the team already uses is allowed, never silent.
    confirm_duplicate = forms.BooleanField(
        label=_("Create it anyway (the team already has a project with this name)"),
        required=False,
        widget=forms.HiddenInput,
    )

    class Meta(ProjectForm.Meta):
        fields = ["team", *ProjectForm.Meta.fields]

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]


def reveal_confirmation(form: forms.BaseForm, field: str, message: str) -> None:
    """Turn a hidden confirmation box into a visible one, with the warning that explains it."""
    form.fields[field].widget = forms.CheckboxInput()
    form.add_error(field, message)


class StartAuditForm(forms.Form):
    BLANK = "blank"
    COPY = "copy"

    rubric = forms.ModelChoiceField(label=_("Rubric version"), queryset=Rubric.objects.none(), empty_label=None)
    start_from = forms.ChoiceField(
        label=_("Start"),
        widget=forms.RadioSelect,
        choices=[(BLANK, _("Blank")), (COPY, _("From the last submitted audit"))],
        initial=BLANK,
    )
    # Shown only after a warning: the project already has an open draft that a second one would compete with.
    confirm_second_draft = forms.BooleanField(
        label=_("Start another draft anyway"), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, rubrics: QuerySet[Rubric], can_copy: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rubric"].queryset = rubrics  # type: ignore[attr-defined]
        self.fields["rubric"].label_from_instance = lambda r: f"{r.localized('title')} ({r.version})"  # type: ignore[attr-defined]
        if not can_copy:
            self.fields["start_from"].choices = [(self.BLANK, _("Blank"))]  # type: ignore[attr-defined]


# The form's choices are the answer statuses with their long labels (rubric.models.AnswerStatus).
STATUS_LABELS = dict(AnswerStatus.choices)


class AnswerForm(forms.Form):
    """One questionnaire item, as posted by the no-JavaScript form (the script posts JSON)."""

    status = forms.ChoiceField(label=_("Answer"), choices=list(STATUS_LABELS.items()), widget=forms.RadioSelect)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=20000, widget=forms.Textarea)
    evidence = forms.CharField(
        label=_("Evidence links"),
        required=False,
        widget=forms.Textarea,
        help_text=_("One http or https link per line."),
    )
    base_version = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)
    # For not applicable (an exemption request); the limits are checked by the save service.
    expires_on = forms.DateField(label=_("Exemption expires on"), required=False)

    def evidence_links(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("evidence", "").splitlines() if line.strip()]


ROLE_LABELS = {Role.VIEWER: _("Viewer"), Role.EDITOR: _("Editor"), Role.MANAGER: _("Manager")}


class MemberForm(forms.Form):
    username_or_email = forms.CharField(label=_("Username or email"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=list(ROLE_LABELS.items()), initial=Role.VIEWER)
