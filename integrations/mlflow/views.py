"""Pages for MLflow connections and syncs. Thin: forms parse, services write, selectors read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits.api.exceptions import envelope
from audits.models import Project
from audits.selectors import audit_for_user, project_for_user
from audits.services import AnswerConflict, AuditLocked
from audits.types import actor_of
from integrations.mlflow import selectors, services, webhooks
from integrations.mlflow.api.serializers import SyncOutput
from integrations.mlflow.forms import ConnectionForm
from integrations.mlflow.models import ACTIVE_SYNC_STATES, MlflowConnection
from integrations.mlflow.ruleset import RULES


def _project_url(project: Project) -> str:
    return reverse("audits:project-detail", args=[project.slug])


def _apply_errors(form: ConnectionForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields and field != "auth" else None, errors)
    else:
        form.add_error(None, error.messages)


@require_http_methods(["GET", "POST"])
def connection_create(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for_user(user=request.user, slug=slug)
    if not selectors.can_manage(user=request.user, project=project):
        raise PermissionDenied
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.connection_create(actor=actor_of(request), project=project, **form.service_fields())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The MLflow connection was saved. Test it, then sync."))
            return redirect("mlflow:project-evidence", slug=project.slug)
    return render(request, "mlflow/connection_form.html", {"form": form, "project": project, "connection": None})


@require_http_methods(["GET", "POST"])
def connection_edit(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
    project = connection.project
    if not selectors.can_manage(user=request.user, project=project):
        raise PermissionDenied
    form = ConnectionForm(request.POST) if request.method == "POST" else ConnectionForm.for_connection(connection)
    if request.method == "POST" and form.is_valid():
        try:
            services.connection_update(actor=actor_of(request), connection=connection, **form.service_fields())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The MLflow connection was updated."))
            return redirect("mlflow:project-evidence", slug=project.slug)
    context = {"form": form, "project": project, "connection": connection, **_webhook_context(request, connection)}
    return render(request, "mlflow/connection_form.html", context)


def _webhook_context(request: HttpRequest, connection: MlflowConnection, secret: str = "") -> dict:
    return {
        "webhook_url": selectors.webhook_url(request=request, connection=connection),
        "webhook_events": webhooks.EVENTS,
        "webhook_secret": secret,
    }


@require_POST
def webhook_secret_rotate(request: HttpRequest, connection_id: int) -> HttpResponse:
    """Answered with a page, not a redirect: the new secret is shown this once and stored only encrypted."""
    connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
    secret = webhooks.webhook_secret_rotate(actor=actor_of(request), connection=connection)
    context = {"project": connection.project, "connection": connection, **_webhook_context(request, connection, secret)}
    response = render(request, "mlflow/webhook_secret.html", context)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # MLflow cannot send a CSRF token; the HMAC signature is what authenticates a delivery
@login_not_required
def webhook_receive(request: HttpRequest, token: str) -> JsonResponse:
    if request.method != "POST":
        return JsonResponse(envelope(405, "method_not_allowed", _("Only POST is accepted.")), status=405)
    try:
        received = webhooks.webhook_receive(token=token, headers=request.headers, body=request.body)
    except webhooks.WebhookRejected as exc:
        return JsonResponse(envelope(exc.status, exc.code, exc.message), status=exc.status)
    if received.replayed:
        return JsonResponse({"status": "duplicate"})
    return JsonResponse({"status": "accepted", "sync": received.sync_id})


@require_POST
def connection_delete(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
    project = connection.project
    services.connection_delete(actor=actor_of(request), connection=connection)
    messages.success(request, _("The MLflow connection and its synced evidence were deleted."))
    return redirect("mlflow:project-evidence", slug=project.slug)


@require_POST
def connection_test(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = selectors.connection_for_user(user=request.user, connection_id=connection_id)
    result = services.connection_test(actor=actor_of(request), connection=connection)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"ok": result.ok, "kind": result.kind, "message": result.message})
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("mlflow:project-evidence", slug=connection.project.slug)


@require_POST
def sync_trigger(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for_user(user=request.user, slug=slug)
    try:
        services.project_sync_request(actor=actor_of(request), project=project)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except services.TaskQueueUnreachable as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, _("Sync queued. This page shows its progress."))
    return redirect("mlflow:sync-history", slug=project.slug)


@require_GET
def sync_history(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for_user(user=request.user, slug=slug)
    syncs = selectors.syncs_for_project(project=project, limit=50)
    context = {
        "project": project,
        "syncs": syncs,
        "active": any(s.state in ACTIVE_SYNC_STATES for s in syncs),
        "can_manage": selectors.can_manage(user=request.user, project=project),
        "project_url": _project_url(project),
    }
    return render(request, "mlflow/sync_history.html", context)


@require_GET
def sync_history_json(request: HttpRequest, slug: str) -> JsonResponse:
    """Polled by the sync history page while a sync is queued or running."""
    project = project_for_user(user=request.user, slug=slug)
    syncs = selectors.syncs_for_project(project=project, limit=50)
    return JsonResponse(
        {
            "active": any(s.state in ACTIVE_SYNC_STATES for s in syncs),
            "syncs": SyncOutput(syncs, many=True).data,
        }
    )


@require_GET
def project_evidence(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for_user(user=request.user, slug=slug)
    findings = selectors.latest_findings(project=project)
    titles = selectors.item_titles()
    rows = [
        {
            "code": code,
            "title": titles.get(code, ""),
            "finding": findings.get(code),
            "how_to": str(rule.how_to),
            "example": rule.example,
        }
        for code, rule in RULES.items()
    ]
    context = {
        "project": project,
        "rows": rows,
        "connections": list(selectors.connections_for_project(project=project)),
        "syncs": selectors.syncs_for_project(project=project, limit=5),
        "can_manage": selectors.can_manage(user=request.user, project=project),
        "project_url": _project_url(project),
    }
    return render(request, "mlflow/project_evidence.html", context)


TRUE_FORM_VALUES = ("1", "true", "on", "yes")


@require_POST
def finding_accept(request: HttpRequest, audit_id: int, item_code: str) -> HttpResponse:
    audit = audit_for_user(user=request.user, audit_id=audit_id)
    confirm_lower = request.POST.get(services.CONFIRM_LOWER, "").lower() in TRUE_FORM_VALUES
    source = request.POST.get("source") or "mlflow"
    try:
        services.finding_accept(
            actor=actor_of(request), audit=audit, item_code=item_code, confirm_lower=confirm_lower, source=source
        )
    except ValidationError as exc:
        if services.CONFIRM_LOWER in getattr(exc, "error_dict", {}):
            messages.warning(
                request,
                _("Nothing was changed: accepting would lower the answer for %(code)s. Tick the confirmation to do it.")
                % {"code": item_code},
            )
        else:
            messages.error(request, " ".join(exc.messages))
    except AuditLocked as exc:
        messages.error(request, str(exc))
    except AnswerConflict:
        messages.error(request, _("Someone changed this answer meanwhile; review it and accept again."))
    else:
        messages.success(request, _("The finding was copied into the answer for %(code)s.") % {"code": item_code})
    return redirect(reverse("audits:audit-detail", args=[audit.pk]) + f"#item-{item_code}")
