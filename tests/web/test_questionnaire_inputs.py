"""The questionnaire's JSON save answers odd bodies with a 4xx the page's script can show, never a 500."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from audits import services
from audits.models import Answer

pytestmark = pytest.mark.django_db


def post_raw(client, audit, code, body: str):
    return client.post(f"/audits/{audit.pk}/answers/{code}/", body, content_type="application/json")


@pytest.mark.parametrize(
    "body",
    [
        '{"status": "manual", "base_version": 1e400}',
        '{"status": "manual", "base_version": [1]}',
        '{"status": "manual", "base_version": true}',
        '{"status": "manual", "base_version": "' + "9" * 5000 + '"}',
        "[" * 1000 + "]" * 1000,
        '{"status": "manual", "notes": NaN}',
    ],
    ids=["overflowing-number", "list", "boolean", "too-many-digits", "nested-brackets", "nan"],
)
def test_an_unreadable_body_is_a_400_and_saves_nothing(draft, editor, item_code, signed_in, body):
    response = post_raw(signed_in(editor), draft, item_code, body)
    assert response.status_code == 400
    assert response.json()["errors"] == ["The request could not be read."]
    assert not Answer.objects.filter(audit=draft).exists()


@pytest.mark.parametrize(
    "fields",
    [{"notes": "a\x00b"}, {"evidence": ["https://ci.example.com/\x00"]}, {"evidence": "https://a.example.com/\x00x"}],
    ids=["notes", "evidence-list", "evidence-text"],
)
def test_a_nul_character_is_a_400_with_a_sentence(draft, editor, item_code, signed_in, fields):
    response = post_raw(signed_in(editor), draft, item_code, json.dumps({"status": "manual", **fields}))
    assert response.status_code == 400
    assert response.json()["errors"]
    assert not Answer.objects.filter(audit=draft).exists()


def test_a_nul_character_in_the_plain_form_is_a_form_error(draft, editor, item_code, signed_in):
    response = signed_in(editor).post(f"/audits/{draft.pk}/answers/{item_code}/", {"status": "manual", "notes": "\x00"})
    assert response.status_code == 400
    assert not Answer.objects.filter(audit=draft).exists()


def test_a_body_over_the_upload_limit_is_a_413_with_a_sentence(draft, editor, item_code, signed_in, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post_raw(signed_in(editor), draft, item_code, json.dumps({"status": "manual", "notes": "x" * 2000}))
    assert response.status_code == 413
    assert "larger than" in response.json()["errors"][0]


@pytest.mark.parametrize("field", ["name", "description", "owner_contact"])
def test_the_project_services_refuse_a_nul_character(project, manager, field):
    with pytest.raises(ValidationError) as refused:
        services.project_update(actor=manager, project=project, **{field: "a\x00b"})
    assert field in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.project_create(actor=manager, team=project.team, **{"name": "New", field: "a\x00b"})


def test_the_answer_services_refuse_a_nul_character(draft, editor, item_code):
    with pytest.raises(ValidationError):
        services.answer_save(actor=editor, audit=draft, item_code=item_code, status="manual", notes="\x00")
    with pytest.raises(services.BulkAnswerError):
        services.answers_bulk_upsert(
            actor=editor, audit=draft, entries=[{"item": item_code, "status": "manual", "notes": "\x00"}]
        )
    assert not Answer.objects.filter(audit=draft).exists()
