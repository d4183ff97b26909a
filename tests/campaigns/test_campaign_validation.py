"""A campaign is refused with the field named: unknown band, a score above the rubric's maximum, an empty
scope, a due date before the start; a manager campaigns only for teams they manage."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits.campaigns.services import campaign_create, campaign_update, project_tags_set
from audits.campaigns.targets import max_final, parse_target, score_step, target_of
from audits.models import Campaign, Tag
from rubric.selectors import rubric_spec
from tests.campaigns.conftest import today

pytestmark = pytest.mark.django_db


def fields(**overrides):
    base = {
        "name": "Readiness",
        "target": "Reasonably tested",
        "starts_on": today(),
        "due_on": today() + timedelta(days=30),
    }
    return {**base, **overrides}


def refused_field(call) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        call()
    return set(caught.value.message_dict)


def test_the_ml_test_score_allows_a_final_score_of_at_most_seven_in_half_points(rubric):
    spec = rubric_spec(rubric)
    assert max_final(spec) == Decimal(7)
    assert score_step(spec) == Decimal("0.5")


def test_a_target_is_a_band_label_in_any_case_or_a_score(rubric):
    spec = rubric_spec(rubric)
    assert parse_target(spec, "reasonably TESTED") == ("Reasonably tested", None)
    assert parse_target(spec, "2.5") == ("", Decimal("2.5"))
    assert parse_target(spec, "3") == ("", Decimal(3))


def test_a_band_is_met_above_its_lower_bound_and_a_score_at_or_above_it(rubric):
    spec = rubric_spec(rubric)
    band = target_of(spec, band_label="Reasonably tested", score=None)
    score = target_of(spec, band_label="", score=Decimal(2))
    assert [band.met(Decimal(v)) for v in ("2", "2.5")] == [False, True]
    assert [score.met(Decimal(v)) for v in ("1.5", "2")] == [False, True]
    assert band.met(None) is False


def test_an_unknown_band_is_refused_naming_target(manager, team, rubric):
    assert refused_field(lambda: campaign_create(actor=manager, teams=[team], **fields(target="Bulletproof"))) == {
        "target"
    }


def test_a_target_above_the_rubrics_maximum_is_refused_naming_target(manager, team, rubric):
    assert refused_field(lambda: campaign_create(actor=manager, teams=[team], **fields(target="7.5"))) == {"target"}
    assert refused_field(lambda: campaign_create(actor=manager, teams=[team], **fields(target="-1"))) == {"target"}
    assert Campaign.objects.count() == 0


def test_an_empty_scope_is_refused_naming_teams(manager, rubric):
    assert refused_field(lambda: campaign_create(actor=manager, **fields())) == {"teams"}


def test_a_due_date_before_the_start_is_refused_naming_due_on(manager, team, rubric):
    bad = fields(starts_on=today(), due_on=today() - timedelta(days=1))
    assert refused_field(lambda: campaign_create(actor=manager, teams=[team], **bad)) == {"due_on"}


def test_every_problem_is_named_at_once(manager, rubric):
    bad = fields(target="Bulletproof", due_on=today() - timedelta(days=1))
    assert refused_field(lambda: campaign_create(actor=manager, **bad)) == {"target", "teams", "due_on"}


def test_a_manager_campaigns_only_for_teams_they_manage(manager, editor, outsider, team, rubric):
    with pytest.raises(PermissionDenied):
        campaign_create(actor=editor, teams=[team], **fields())
    with pytest.raises(PermissionDenied):
        campaign_create(actor=outsider, teams=[team], **fields())
    campaign = campaign_create(actor=manager, teams=[team], **fields())
    assert list(campaign.teams.all()) == [team]


def test_only_staff_run_a_campaign_over_tags_of_every_team(manager, staff, project, rubric):
    project_tags_set(actor=manager, project=project, names=["Production"])
    assert refused_field(lambda: campaign_create(actor=manager, tags=["production"], **fields())) == {"teams"}
    campaign = campaign_create(actor=staff, tags=["production"], **fields())
    assert [tag.slug for tag in campaign.tags.all()] == ["production"]


def test_an_unknown_tag_is_refused_naming_tags(staff, rubric):
    assert refused_field(lambda: campaign_create(actor=staff, tags=["nowhere"], **fields())) == {"tags"}


def test_a_refused_change_keeps_the_campaign_as_it_was(manager, team, rubric):
    campaign = campaign_create(actor=manager, teams=[team], **fields())
    with pytest.raises(ValidationError):
        campaign_update(actor=manager, campaign=campaign, due_on=campaign.starts_on - timedelta(days=1))
    campaign.refresh_from_db()
    assert campaign.due_on == today() + timedelta(days=30)
    changed = campaign_update(actor=manager, campaign=campaign, target="3")
    assert (changed.target_band, changed.target_score) == ("", Decimal(3))


def test_tags_are_slugged_once_deduplicated_and_limited(manager, viewer, project):
    tags = project_tags_set(actor=manager, project=project, names=["Production", " production ", "Fraud  team"])
    assert [tag.slug for tag in tags] == ["production", "fraud-team"]
    assert Tag.objects.get(slug="fraud-team").name == "Fraud team"
    assert refused_field(lambda: project_tags_set(actor=manager, project=project, names=["x" * 51])) == {"tags"}
    assert refused_field(lambda: project_tags_set(actor=manager, project=project, names=["!!!"])) == {"tags"}
    assert refused_field(lambda: project_tags_set(actor=manager, project=project, names=[f"t{n}" for n in range(21)]))
    with pytest.raises(PermissionDenied):
        project_tags_set(actor=viewer, project=project, names=["mine"])
    assert sorted(project.tags.values_list("slug", flat=True)) == ["fraud-team", "production"]
