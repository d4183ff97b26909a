"""The demo data: created once, lived in, and scored like any audit."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from audits.models import Audit, AuditStatus, Project, Team


@pytest.mark.django_db
def test_seed_demo_creates_a_lived_in_team_once(rubric, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    team = Team.objects.get(slug="demo")
    demo = get_user_model().objects.get(username="demo")
    assert demo.check_password("demo-manager-2026")
    roles = dict(team.memberships.values_list("user__username", "role"))
    assert roles == {"demo": "manager", "demo-editor": "editor", "demo-viewer": "viewer"}
    assert team.projects.count() == 3
    for project in team.projects.all():
        submitted = project.audits.filter(status=AuditStatus.SUBMITTED)
        assert 3 <= submitted.count() <= 5
        dates = sorted(a.submitted_at for a in submitted)
        assert (dates[-1] - dates[0]).days > 180
    bands = set(Audit.objects.filter(status=AuditStatus.SUBMITTED).values_list("band_label", flat=True))
    assert len(bands) >= 4
    assert Audit.objects.filter(project__team=team, status=AuditStatus.DRAFT).count() == 1
    counts = (Team.objects.count(), Project.objects.count(), Audit.objects.count(), get_user_model().objects.count())

    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "nothing seeded" in out.getvalue()
    assert counts == (
        Team.objects.count(),
        Project.objects.count(),
        Audit.objects.count(),
        get_user_model().objects.count(),
    )


@pytest.mark.django_db
def test_seed_demo_final_scores_match_the_scoring_of_their_answers(rubric, settings, tmp_path):
    from audits.selectors import audit_score

    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    for audit in Audit.objects.filter(status=AuditStatus.SUBMITTED):
        assert audit_score(audit=audit).final == audit.final_score
