"""Writes for project tags and campaigns; pages, the API and the reminder task call these."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audits.campaigns.targets import parse_target
from audits.models import (
    CAMPAIGN_DESCRIPTION_MAX_LENGTH,
    CAMPAIGN_NAME_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TAGS_PER_PROJECT,
    Campaign,
    Project,
    Role,
    Tag,
    Team,
)
from audits.selectors import has_role, managed_teams
from audits.types import Actor, User
from config.validators import reject_nul
from rubric.selectors import default_rubric, rubric_spec

# Tags -------------------------------------------------------------------------


def clean_tag_names(values: Iterable[Any], field: str = "tags") -> list[tuple[str, str]]:
    """(slug, name) for each distinct tag typed; the one place a tag's shape is checked."""
    cleaned: dict[str, str] = {}
    for value in values:
        name = " ".join(str(value).split())
        reject_nul(name, field)
        if not name:
            continue
        slug = slugify(name)
        if not slug:
            raise ValidationError({field: [_("“%(tag)s” has no letters or digits to make a tag of.") % {"tag": name}]})
        if len(slug) > TAG_MAX_LENGTH or len(name) > TAG_MAX_LENGTH:
            raise ValidationError(
                {field: [_("A tag has at most %(n)s characters: “%(tag)s”.") % {"n": TAG_MAX_LENGTH, "tag": name}]}
            )
        cleaned.setdefault(slug, name)
    return list(cleaned.items())


def project_tags_set(*, actor: User, project: Project, names: Iterable[Any]) -> list[Tag]:
    """Replace the project's tags (a manager of its team); unknown tags are created."""
    if not has_role(user=actor, team=project.team, at_least=Role.MANAGER):
        raise PermissionDenied(_("Your role in this team does not allow this."))
    wanted = clean_tag_names(names)
    if len(wanted) > TAGS_PER_PROJECT:
        raise ValidationError({"tags": [_("A project has at most %(n)s tags.") % {"n": TAGS_PER_PROJECT}]})
    with transaction.atomic():
        existing = {tag.slug: tag for tag in Tag.objects.filter(slug__in=[slug for slug, _name in wanted])}
        for slug, name in wanted:
            if slug not in existing:
                existing[slug], _created = Tag.objects.get_or_create(slug=slug, defaults={"name": name})
        tags = [existing[slug] for slug, _name in wanted]
        project.tags.set(tags)
    return tags


# Campaigns --------------------------------------------------------------------


def can_manage_campaign_teams(*, user: Actor, teams: Sequence[Team]) -> bool:
    """Staff manage any campaign; a team manager those whose teams they all manage (and that name teams)."""
    if user.is_active and user.is_staff:
        return True
    if not teams:
        return False
    managed = set(managed_teams(user=user).filter(pk__in=[team.pk for team in teams]).values_list("pk", flat=True))
    return all(team.pk in managed for team in teams)


CAMPAIGN_FIELDS = ("name", "description", "target", "teams", "tags", "starts_on", "due_on")


def _tags_by_slug(values: Iterable[Any]) -> list[Tag]:
    slugs = [slug for slug, _name in clean_tag_names(values)]
    found = {tag.slug: tag for tag in Tag.objects.filter(slug__in=slugs)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise ValidationError({"tags": [_("No project has the tag “%(tag)s”.") % {"tag": unknown[0]}]})
    return [found[slug] for slug in slugs]


def _validated(actor: User, campaign: Campaign, fields: dict[str, Any], teams: list[Team], tags: list[Tag]) -> None:
    errors: dict[str, list[str]] = {}
    name = " ".join(str(fields.get("name", campaign.name) or "").split())
    if not name:
        errors["name"] = [_("A campaign needs a name.")]
    elif len(name) > CAMPAIGN_NAME_MAX_LENGTH:
        errors["name"] = [_("At most %(n)s characters.") % {"n": CAMPAIGN_NAME_MAX_LENGTH}]
    description = str(fields.get("description", campaign.description) or "")
    if len(description) > CAMPAIGN_DESCRIPTION_MAX_LENGTH:
        errors["description"] = [_("At most %(n)s characters.") % {"n": CAMPAIGN_DESCRIPTION_MAX_LENGTH}]
    for field in ("name", "description"):
        try:
            reject_nul(fields.get(field, ""), field)
        except ValidationError as error:
            errors.update(error.message_dict)
    if "target" in fields:
        try:
            campaign.target_band, campaign.target_score = parse_target(rubric_spec(campaign.rubric), fields["target"])
        except ValidationError as error:
            errors.update(error.message_dict)
    if not teams and not tags:
        errors["teams"] = [_("Name at least one team or one tag: the campaign needs projects.")]
    elif not can_manage_campaign_teams(user=actor, teams=teams):
        if not teams:
            errors["teams"] = [_("Name the teams you manage; only staff run campaigns across every team.")]
        else:
            raise PermissionDenied(_("Only staff and managers of every team in a campaign may change it."))
    starts_on: date | None = fields.get("starts_on", campaign.starts_on)
    due_on: date | None = fields.get("due_on", campaign.due_on)
    if starts_on is None:
        errors["starts_on"] = [_("Give the day the campaign starts.")]
    if due_on is None:
        errors["due_on"] = [_("Give the day the campaign is due.")]
    elif starts_on is not None and due_on < starts_on:
        errors["due_on"] = [_("The due date cannot be before the start date.")]
    if errors:
        raise ValidationError(errors)
    campaign.name, campaign.description = name, description
    campaign.starts_on, campaign.due_on = starts_on, due_on  # type: ignore[assignment]  # checked above


def campaign_create(*, actor: User, teams: Sequence[Team] = (), tags: Iterable[Any] = (), **fields: Any) -> Campaign:
    """A new campaign; refused with the field named (target, teams, due_on, …) when it cannot work."""
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValueError(f"Unknown campaign fields: {sorted(unknown)}")
    rubric = default_rubric()
    if rubric is None:
        raise ValidationError({"target": [_("No rubric is loaded; run manage.py load_rubric first.")]})
    campaign = Campaign(rubric=rubric, created_by=actor if actor.pk else None)
    tag_list = _tags_by_slug(tags)
    _validated(actor, campaign, {"target": fields.get("target"), **fields}, list(teams), tag_list)
    with transaction.atomic():
        campaign.save()
        campaign.teams.set(teams)
        campaign.tags.set(tag_list)
    return campaign


def campaign_update(
    *,
    actor: User,
    campaign: Campaign,
    teams: Sequence[Team] | None = None,
    tags: Iterable[Any] | None = None,
    **fields: Any,
) -> Campaign:
    """Change some fields; the actor must manage the campaign before and after the change."""
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValueError(f"Unknown campaign fields: {sorted(unknown)}")
    current_teams = list(campaign.teams.all())
    if not can_manage_campaign_teams(user=actor, teams=current_teams):
        raise PermissionDenied(_("Only staff and managers of every team in a campaign may change it."))
    new_teams = list(teams) if teams is not None else current_teams
    new_tags = _tags_by_slug(tags) if tags is not None else list(campaign.tags.all())
    # Validate on a copy, so a refused change leaves the instance the caller holds as it was.
    draft = Campaign.objects.get(pk=campaign.pk)
    _validated(actor, draft, fields, new_teams, new_tags)
    with transaction.atomic():
        draft.save()
        if teams is not None:
            draft.teams.set(new_teams)
        if tags is not None:
            draft.tags.set(new_tags)
    return draft


def campaign_delete(*, actor: User, campaign: Campaign) -> None:
    if not can_manage_campaign_teams(user=actor, teams=list(campaign.teams.all())):
        raise PermissionDenied(_("Only staff and managers of every team in a campaign may change it."))
    campaign.delete()
