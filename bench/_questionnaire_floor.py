"""The app's URLs plus bare views for the questionnaire benchmark's "stack floor".

Each bare view runs, with a plain cursor, the queries the questionnaire page (or an answer save) runs,
and returns the rows as JSON through the same middleware (sign-in, sessions, security headers): what the
request would cost with no ORM, no templates and no scoring. Mounted only in the benchmark process.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone

from audits.models.assignments import ASSIGNABLE_ROLES
from config.urls import urlpatterns as app_urlpatterns

# The page: the audit with the user's role in its team (none: not visible), the answers with the size of
# their histories, whether the project has evidence sources, and the item owners with the members who may own
# items (each a query of the page, in order).
AUDIT_SQL = """
SELECT a.id, a.status, a.rubric_id, r.content_hash, r.title, r.translations, p.name, p.slug, t.slug, a.created_at,
       a.submitted_at, cu.username, su.username,
       (SELECT role FROM audits_membership m WHERE m.team_id = p.team_id AND m.user_id = %s LIMIT 1), p.team_id
FROM audits_audit a
JOIN audits_project p ON p.id = a.project_id
JOIN audits_team t ON t.id = p.team_id
JOIN rubric_rubric r ON r.id = a.rubric_id
LEFT JOIN auth_user cu ON cu.id = a.created_by_id
LEFT JOIN auth_user su ON su.id = a.submitted_by_id
WHERE a.id = %s
"""
ANSWERS_SQL = """
SELECT ans.item_id, ans.status, ans.notes, ans.evidence, ans.carried_over, ans.version, ans.answered_by_id,
       u.username, ans.answered_at, count(c.id), count(c.id) FILTER (WHERE c.changed_by_id = %s)
FROM audits_answer ans
LEFT JOIN auth_user u ON u.id = ans.answered_by_id
LEFT JOIN audits_answerchange c ON c.answer_id = ans.id
WHERE ans.audit_id = %s GROUP BY ans.id, u.username
"""
EVIDENCE_SQL = """
SELECT EXISTS (SELECT 1 FROM mlflow_evidence_mlflowconnection c WHERE c.project_id = p.id),
       EXISTS (SELECT 1 FROM ci_reports_report r WHERE r.project_id = p.id)
FROM audits_project p WHERE p.id = (SELECT project_id FROM audits_audit WHERE id = %s)
"""

OWNERS_SQL = """
SELECT u.id, u.username, m.id, o.item_id, i.code
FROM auth_user u
LEFT JOIN audits_itemassignment o ON o.assignee_id = u.id AND o.audit_id = %s
LEFT JOIN rubric_item i ON i.id = o.item_id
LEFT JOIN audits_membership m ON m.user_id = u.id AND m.team_id = %s AND m.role = ANY(%s)
WHERE o.id IS NOT NULL OR (m.id IS NOT NULL AND u.is_active)
ORDER BY u.username
"""


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def questionnaire_floor(request: HttpRequest, audit_id: int) -> JsonResponse:
    audit = _rows(AUDIT_SQL, [request.user.pk, audit_id])
    answers = _rows(ANSWERS_SQL, [request.user.pk, audit_id])
    mlflow = _rows(EVIDENCE_SQL, [audit_id])
    team_id = audit[0][-1] if audit else None
    owners = _rows(OWNERS_SQL, [audit_id, team_id, list(ASSIGNABLE_ROLES)])
    payload = {"audit": audit, "answers": answers, "mlflow": mlflow, "owners": owners}
    return JsonResponse(json.loads(json.dumps(payload, default=str)))


def save_floor(request: HttpRequest, audit_id: int, item_id: int) -> JsonResponse:
    """One answer save as raw SQL: read the audit and the user's role, lock the draft by touching it, lock
    its answers, record the change, update the answer, and return the statuses the score is computed from."""
    body = json.loads(request.body)
    audit = _rows(AUDIT_SQL, [request.user.pk, audit_id])
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audits_audit SET updated_at = %s WHERE id = %s AND status = 'draft'", [now, audit_id])
        cursor.execute(
            "SELECT id, item_id, status, notes, evidence, version FROM audits_answer WHERE audit_id = %s "
            "ORDER BY id FOR UPDATE",
            [audit_id],
        )
        answers = {row[1]: row for row in cursor.fetchall()}
        answer = answers[item_id]
        cursor.execute(
            "INSERT INTO audits_answerchange (answer_id, changed_by_id, changed_at, status_before, status_after, "
            "notes_before, notes_after, evidence_before, evidence_after) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [answer[0], request.user.pk, now, answer[2], body["status"], answer[3], "", json.dumps(answer[4]), "[]"],
        )
        cursor.execute(
            "UPDATE audits_answer SET status = %s, notes = %s, evidence = %s, carried_over = false, "
            "answered_by_id = %s, answered_at = %s, version = version + 1 WHERE id = %s",
            [body["status"], "", "[]", request.user.pk, now, answer[0]],
        )
    statuses = {key: row[2] for key, row in answers.items()}
    statuses[item_id] = body["status"]
    return JsonResponse({"role": audit[0][-1], "statuses": statuses, "version": answer[5] + 1})


urlpatterns = [
    path("__bench__/questionnaire/<int:audit_id>/", questionnaire_floor),
    path("__bench__/questionnaire/<int:audit_id>/save/<int:item_id>/", save_floor),
    *app_urlpatterns,
]
