"""Helpers for the dashboards tests: submitted audits with chosen answers at chosen dates, bulk portfolios, and the
four chart pages with the figures they embed."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audits.models import Answer, Audit, AuditStatus, Project, Team
from audits.services import answers_bulk_upsert, audit_start, audit_submit, project_refresh_latest_audits
from rubric.models import Item, Rubric
from rubric.scoring import score_answers
from rubric.selectors import rubric_spec

AUTOMATED, MANUAL, NOT_DONE = "automated", "manual", "not_done"
_serial = itertools.count(1)


def item_codes(rubric: Rubric) -> list[str]:
    return list(Item.objects.filter(rubric=rubric).order_by("section__order", "order").values_list("code", flat=True))


def submit_audit(
    *, project: Project, actor, statuses: dict[str, str], when: datetime | None = None, rubric: Rubric | None = None
) -> Audit:
    """A submitted audit answering exactly `statuses` (other items stay unanswered), dated `when`."""
    audit = audit_start(actor=actor, project=project, rubric=rubric)
    if statuses:
        answers_bulk_upsert(
            actor=actor,
            audit=audit,
            entries=[
                {"item": code, "status": status, "notes": f"note on {code}", "evidence": []}
                for code, status in statuses.items()
            ],
        )
    audit = audit_submit(actor=actor, audit=audit)
    if when is not None:
        Audit.objects.filter(pk=audit.pk).update(submitted_at=when)
        project_refresh_latest_audits(Project.objects.filter(pk=project.pk))  # the dates changed
        audit.refresh_from_db()
    return audit


def bulk_portfolio(*, team: Team, rubric: Rubric, user, projects: int, audits: int = 2) -> list[Project]:
    """Many projects with submitted audits, written in bulk (scores frozen by the scoring function)."""
    items = list(Item.objects.filter(rubric=rubric).order_by("section__order", "order"))
    spec = rubric_spec(rubric)
    now = timezone.now()
    created = Project.objects.bulk_create(
        Project(team=team, name=f"Bulk {n:03d}", slug=f"bulk-{n:03d}") for n in (next(_serial) for _ in range(projects))
    )
    audit_rows, statuses_list = [], []
    for index, project in enumerate(created):
        for number in range(audits):
            statuses = {
                item.code: (AUTOMATED, MANUAL, NOT_DONE)[(index + number + pos) % 3] for pos, item in enumerate(items)
            }
            result = score_answers(spec, statuses)
            audit_rows.append(
                Audit(
                    project=project,
                    rubric=rubric,
                    status=AuditStatus.SUBMITTED,
                    submitted_by=user,
                    submitted_at=now - timedelta(days=30 * (audits - number)),
                    final_score=result.final,
                    section_scores={s.key: float(s.score) for s in result.sections},
                    band_label=result.band.label if result.band else "",
                )
            )
            statuses_list.append(statuses)
    saved = Audit.objects.bulk_create(audit_rows)
    Answer.objects.bulk_create(
        Answer(audit=audit, item=item, status=statuses[item.code], answered_by=user)
        for audit, statuses in zip(saved, statuses_list, strict=True)
        for item in items
    )
    project_refresh_latest_audits(Project.objects.filter(pk__in=[project.pk for project in created]))
    return created


def days_ago(days: float) -> datetime:
    return timezone.now() - timedelta(days=days)


def texts_marked(html: str, testid: str) -> list[str]:
    """The text inside every element marked data-testid=<testid> (tags stripped)."""
    pattern = re.compile(rf'data-testid="{re.escape(testid)}"[^>]*>(.*?)</(?:td|p|span|th)>', re.S)
    return [re.sub(r"<[^>]+>", "", match).strip() for match in pattern.findall(html)]


@pytest.fixture
def codes(rubric) -> list[str]:
    return item_codes(rubric)


@pytest.fixture
def known_statuses(codes) -> dict[str, str]:
    """data 7 automated = 7; model 3 automated + 2 manual = 4; infra 1 automated + 1 manual = 1.5;
    monitoring 2 automated = 2. Final 1.5 (infra is the weakest), band "First steps"."""
    data, model, infra, monitoring = codes[0:7], codes[7:14], codes[14:21], codes[21:28]
    statuses = {code: AUTOMATED for code in data}
    statuses.update({code: AUTOMATED for code in model[:3]})
    statuses.update({code: MANUAL for code in model[3:5]})
    statuses.update({infra[0]: AUTOMATED, infra[1]: MANUAL})
    statuses.update({code: AUTOMATED for code in monitoring[:2]})
    return statuses


# The `browser` fixture (real headless Chromium) lives in tests/conftest.py; here `page` also enforces
# the content security policy as production does (tests send it report-only), so charts must draw under it.


@pytest.fixture
def page(page, live_server):
    def enforce_policy(route):
        if route.request.url.startswith(live_server.url) and route.request.resource_type == "document":
            response = route.fetch()
            headers = dict(response.headers)
            policy = headers.pop("content-security-policy-report-only", None)
            if policy:
                headers["content-security-policy"] = policy
            route.fulfill(response=response, headers=headers)
        else:
            route.fallback()

    page.context.route("**/*", enforce_policy)
    return page


def sign_in_browser(page, live_server, user) -> None:
    """Give the tab a signed-in session cookie for `user` (the sign-in form has its own tests)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def pages(client, manager, project, codes, known_statuses):
    first = submit_audit(project=project, actor=manager, statuses={codes[0]: MANUAL}, when=days_ago(30))
    second = submit_audit(project=project, actor=manager, statuses=known_statuses, when=days_ago(2))
    client.force_login(manager)
    return {
        "portfolio": client.get(reverse("dashboards:portfolio")),
        "trend": client.get(reverse("dashboards:project-trend", args=[project.slug])),
        "result": client.get(reverse("dashboards:audit-result", args=[second.pk])),
        "compare": client.get(reverse("dashboards:compare", args=[project.slug]) + f"?a={first.pk}&b={second.pk}"),
    }


def embedded_figures(html: str) -> list[dict]:
    blobs = re.findall(r'<script id="[^"]+-spec" type="application/json">(.*?)</script>', html, re.S)
    return [json.loads(blob) for blob in blobs]
