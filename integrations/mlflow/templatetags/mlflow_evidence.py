"""Template helpers for including MLflow evidence in pages owned by other apps.

{% load mlflow_evidence %}
{% mlflow_finding audit row.item.code as finding %}   (one query per page, whatever the item count)
{% mlflow_panel project as panel %}                    (connections and the last syncs)
{% mlflow_accept_preview audit finding as preview %}   (what accepting would change; fixed queries per page)
"""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser

from audits.models import Audit, Project
from audits.selectors import audit_status_map
from audits.types import Actor
from integrations.mlflow import selectors
from integrations.mlflow.models import ACTIVE_SYNC_STATES, Finding

register = template.Library()


@register.simple_tag
def mlflow_finding(audit: Audit, item_code: str) -> Finding | None:
    # Memoised on the audit object the page passes to every item, so the page costs one query.
    cached = getattr(audit, "_mlflow_findings", None)
    if cached is None:
        cached = selectors.findings_for_audit(audit=audit)
        audit._mlflow_findings = cached  # type: ignore[attr-defined]
    return cached.get(item_code)


def _user(context: template.Context) -> Actor:
    """The page's user. A template context is untyped; a page rendered without a user gets the anonymous one,
    who may do nothing (as None could not before)."""
    user: Actor = context.get("user") or getattr(context.get("request"), "user", None) or AnonymousUser()
    return user


@register.simple_tag(takes_context=True)
def mlflow_panel(context: template.Context, project: Project) -> dict[str, Any]:
    user = _user(context)
    syncs = selectors.syncs_for_project(project=project, limit=5)
    return {
        "connections": list(selectors.connections_for_project(project=project)),
        "syncs": syncs,
        "active": any(s.state in ACTIVE_SYNC_STATES for s in syncs),
        "can_manage": selectors.can_manage(user=user, project=project),
    }


@register.simple_tag(takes_context=True)
def mlflow_can_accept(context: template.Context, audit: Audit) -> bool:
    user = _user(context)
    # Memoised like the findings: one role lookup per page, not one per item.
    cache: dict[Any, bool] = audit.__dict__.setdefault("_mlflow_can_accept", {})
    key = user.pk
    if key not in cache:
        cache[key] = selectors.can_accept(user=user, audit=audit)
    return cache[key]


@register.simple_tag
def mlflow_accept_preview(audit: Audit, finding: Finding | None) -> selectors.AcceptPreview | None:
    """What accepting would change. The answers and acceptances are read once per page, like the findings."""
    if finding is None:
        return None
    memo: dict[str, Any] = audit.__dict__.setdefault("_mlflow_accept_memo", {})
    if not memo:
        memo["statuses"] = audit_status_map(audit=audit)
        memo["accepted"] = selectors.accepted_by_item(audit=audit)
    return selectors.accept_preview(
        audit=audit, finding=finding, status_map=memo["statuses"], accepted=memo["accepted"]
    )


@register.filter
def mlflow_how_to(item_code: str) -> str:
    return selectors.how_to(item_code)


@register.filter
def mlflow_example(item_code: str) -> str:
    return selectors.how_to_example(item_code)
