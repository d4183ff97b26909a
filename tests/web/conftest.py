"""Fixtures for the browser pages: a draft audit, a submitted one, and a signed-in client per role."""

from __future__ import annotations

import pytest
from django.test import Client

from audits import services
from audits.models import Audit


@pytest.fixture
def draft(project, manager, rubric) -> Audit:
    return services.audit_start(actor=manager, project=project, rubric=rubric)


@pytest.fixture
def submitted(project, manager, rubric) -> Audit:
    audit = services.audit_start(actor=manager, project=project, rubric=rubric)
    services.answer_save(actor=manager, audit=audit, item_code=first_item_code(rubric), status="automated")
    return services.audit_submit(actor=manager, audit=audit)


def first_item_code(rubric) -> str:
    return rubric.items.order_by("section__order", "order").values_list("code", flat=True).first()


@pytest.fixture
def item_code(rubric) -> str:
    return first_item_code(rubric)


@pytest.fixture
def signed_in(db):
    """signed_in(user) -> a client with that user signed in (None: anonymous)."""

    def make(user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def users(manager, editor, viewer, outsider, staff) -> dict:
    return {
        "anonymous": None,
        "outsider": outsider,
        "viewer": viewer,
        "editor": editor,
        "manager": manager,
        "staff": staff,
    }
