from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audits.management.commands.seed_benchmark import BENCH_USERNAME
from audits.models import Answer, Audit, Project
from audits.selectors import audit_score

pytestmark = pytest.mark.django_db


def test_seed_benchmark_writes_projects_audits_and_answers_with_frozen_scores_from_the_scoring_function(rubric):
    call_command("seed_benchmark", projects=4, audits=3, teams=2, stdout=StringIO())

    assert Project.objects.filter(slug__startswith="bench-").count() == 4
    audits = Audit.objects.filter(project__slug__startswith="bench-", status="submitted")
    assert audits.count() == 12
    assert Answer.objects.filter(audit__in=audits).count() == 12 * 28
    for audit in audits[:5]:
        result = audit_score(audit=audit)
        assert audit.final_score == result.final
        assert audit.section_scores == {s.key: float(s.score) for s in result.sections}
    assert Project.objects.filter(team__memberships__user__username=BENCH_USERNAME).count() == 4
    answer = Answer.objects.filter(audit__in=audits, status="automated").select_related("audit__project").first()
    assert answer.evidence == [f"https://ci.example.com/{answer.audit.project.slug}/{answer.item.code}"]
    assert answer.answered_at == answer.audit.submitted_at and answer.version == 1


def test_seed_benchmark_stores_each_projects_latest_and_previous_audit_on_it(rubric):
    call_command("seed_benchmark", projects=3, audits=3, teams=1, stdout=StringIO())

    for project in Project.objects.filter(slug__startswith="bench-"):
        newest_first = list(project.audits.order_by("-submitted_at"))
        assert (project.last_audit, project.previous_audit) == (newest_first[0], newest_first[1])
        assert project.last_audit_final == newest_first[0].final_score


def test_seed_benchmark_skips_a_portfolio_already_there_and_refuses_a_different_one(rubric):
    call_command("seed_benchmark", projects=2, audits=1, teams=1, stdout=StringIO())
    call_command("seed_benchmark", projects=2, audits=1, teams=1, stdout=StringIO())

    assert Project.objects.filter(slug__startswith="bench-").count() == 2
    with pytest.raises(CommandError):
        call_command("seed_benchmark", projects=3, audits=1, teams=1, stdout=StringIO())
