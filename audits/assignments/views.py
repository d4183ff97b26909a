"""The questionnaire's assign form (a plain form post; the page reloads at the item)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audits import selectors
from audits.assignments.services import assignee_for, item_assign, item_unassign
from audits.services import AuditLocked
from audits.types import actor_of


@require_POST
def item_owner(request: HttpRequest, audit_id: int, item_code: str) -> HttpResponse:
    audit = selectors.audit_for_user(user=request.user, audit_id=audit_id)
    username = request.POST.get("assignee", "").strip()
    try:
        if username:
            item_assign(
                actor=actor_of(request),
                audit=audit,
                item_code=item_code,
                assignee=assignee_for(audit=audit, username=username),
            )
            messages.success(request, _("%(item)s is now owned by %(who)s.") % {"item": item_code, "who": username})
        else:
            item_unassign(actor=actor_of(request), audit=audit, item_code=item_code)
            messages.success(request, _("%(item)s has no owner now.") % {"item": item_code})
    except (PermissionDenied, AuditLocked) as error:
        messages.error(request, str(error))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect(reverse("audits:audit-detail", kwargs={"audit_id": audit.pk}) + f"#item-{item_code}")
