"""Fixtures for exemptions: a draft audit, a second manager, and a helper that asks for an exemption."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import Audit, Membership, Role
from audits.services import answer_save, audit_start
from tests.conftest import make_user

JUSTIFICATION = "A single global model: there are no data slices to compare."


@pytest.fixture
def second_manager(team):
    user = make_user("magnus")
    Membership.objects.create(team=team, user=user, role=Role.MANAGER)
    return user


@pytest.fixture
def draft(project, manager, rubric) -> Audit:
    return audit_start(actor=manager, project=project, rubric=rubric)


def load_rubric_disallowing(code: str):
    """The built-in rubric loaded as another version whose item `code` does not allow not applicable (a new
    content hash, so the per-process rubric caches see it as the new rubric it is)."""
    import copy

    from rubric.loader import parse_rubric, save_rubric
    from tests.test_rubric_loader import BUILTIN

    data = copy.deepcopy(BUILTIN)
    data["version"] = f"2017-no-na-{code}"
    for section in data["sections"]:
        for item in section["items"]:
            if item["code"] == code:
                item["allows_not_applicable"] = False
    return save_rubric(parse_rubric(data))[0]


@pytest.fixture
def rubric_without_na_on_data_1(db):
    return load_rubric_disallowing("data-1")


def in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


def request_exemption(actor, audit, code="model-6", notes=JUSTIFICATION, expires_on=None):
    return answer_save(
        actor=actor, audit=audit, item_code=code, status="not_applicable", notes=notes, expires_on=expires_on
    )


def answer_all(actor, audit, status="automated", except_codes=()):
    """Answer every item of the audit's rubric with `status`, except the given codes."""
    from audits.services import answers_bulk_upsert

    codes = audit.rubric.items.values_list("code", flat=True)
    entries = [{"item": code, "status": status} for code in codes if code not in except_codes]
    answers_bulk_upsert(actor=actor, audit=audit, entries=entries)
