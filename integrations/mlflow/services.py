"""Writes for MLflow evidence: connections, syncs and accepting findings. Views, API and tasks call these."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.forms import STATUS_LABELS
from audits.models import Audit, Project, Role
from audits.selectors import has_role
from audits.services import answer_save
from audits.validators import contains_nul, nul_message
from integrations.mlflow.client import Credentials, MlflowClient, MlflowError, check_url
from integrations.mlflow.crypto import SecretUnreadable, decrypt_secret, encrypt_secret
from integrations.mlflow.facts import DEFAULT_THRESHOLDS, OPTIONAL_KINDS
from integrations.mlflow.models import (
    ACTIVE_SYNC_STATES,
    AcceptedFinding,
    AuthType,
    Finding,
    FindingResult,
    MlflowConnection,
    Schedule,
    SyncRun,
    SyncState,
    SyncTrigger,
)
from integrations.mlflow.sync import alias_history, fetch, store
from rubric.models import AnswerStatus

log = logging.getLogger(__name__)

CONNECTION_FIELDS = (
    "name", "tracking_uri", "ui_url", "verify_tls", "experiments", "registered_models", "serving_alias", "schedule",
    "thresholds",
)  # fmt: skip
SCHEDULE_EVERY = {Schedule.HOURLY: timedelta(hours=1), Schedule.WEEKLY: timedelta(days=7)}


def _require(user: Any, project: Project, role: str) -> None:
    if not has_role(user=user, team=project.team, at_least=role):
        raise PermissionDenied(_("Your role in this team does not allow this."))


def _names(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for line in value.splitlines() for part in line.split(",")]
    if not isinstance(value, list | tuple):
        raise ValidationError({field: [_("Give a list of names.")]})
    names = [str(v).strip() for v in value if str(v).strip()]
    return list(dict.fromkeys(names))


def validate_tracking_uri(uri: str) -> str:
    uri = (uri or "").strip()
    scheme = urlsplit(uri).scheme
    if scheme in ("file", "sqlite") or (not scheme and uri):
        # mlaudit reads MLflow only through its REST API (a store's own schema is private to MLflow).
        raise ValidationError(
            {"tracking_uri": [_("Give the http(s) URL of an MLflow server; serve a local store with `mlflow server`.")]}
        )
    try:
        check_url(uri)
    except MlflowError as exc:
        raise ValidationError({"tracking_uri": [exc.message]}) from None
    return uri.rstrip("/")


def validate_thresholds(value: Any) -> dict[str, Any]:
    """Known names only, each of the kind of its default (number ≥ 0, text, yes/no, non-empty list of texts).

    A setting the rules could not use is refused here, naming it, rather than silently ignored at sync time.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError({"thresholds": [_("Thresholds must be an object.")]})
    errors = []
    for name, given in value.items():
        if name not in DEFAULT_THRESHOLDS:
            errors.append(_("Unknown threshold “%(name)s”.") % {"name": name})
            continue
        default = DEFAULT_THRESHOLDS[name]
        kind: type = OPTIONAL_KINDS.get(name, type(default))
        if kind is bool:
            if not isinstance(given, bool):
                errors.append(_("“%(name)s” must be true or false.") % {"name": name})
        elif kind in (int, float):
            if isinstance(given, bool) or not isinstance(given, int | float) or not math.isfinite(given) or given < 0:
                errors.append(_("“%(name)s” must be a number of at least 0.") % {"name": name})
        elif kind is list:
            if not isinstance(given, list) or not given or not all(isinstance(v, str) and v.strip() for v in given):
                errors.append(_("“%(name)s” must be a non-empty list of non-empty texts.") % {"name": name})
        elif not isinstance(given, str) or not given.strip():
            errors.append(_("“%(name)s” must be a text.") % {"name": name})
    if contains_nul(value):  # PostgreSQL cannot store it in the JSON column
        errors.append(nul_message())
    if errors:
        raise ValidationError({"thresholds": errors})
    return dict(value)


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(CONNECTION_FIELDS) - {"auth"}
    if unknown:
        raise ValidationError({field: [_("Unknown field.")] for field in sorted(unknown)})
    cleaned = dict(fields)
    if "tracking_uri" in cleaned:
        cleaned["tracking_uri"] = validate_tracking_uri(cleaned["tracking_uri"])
    if cleaned.get("ui_url"):
        ui = str(cleaned["ui_url"]).strip()
        if urlsplit(ui).scheme not in ("http", "https"):
            raise ValidationError({"ui_url": [_("The UI address must be an http or https URL.")]})
        cleaned["ui_url"] = ui.rstrip("/")
    elif "ui_url" in cleaned:
        cleaned["ui_url"] = ""
    for field in ("experiments", "registered_models"):
        if field in cleaned:
            cleaned[field] = _names(cleaned[field], field)
    if "schedule" in cleaned and cleaned["schedule"] not in Schedule.values:
        raise ValidationError({"schedule": [_("Choose one of: %(v)s.") % {"v": ", ".join(Schedule.values)}]})
    if "serving_alias" in cleaned:
        cleaned["serving_alias"] = str(cleaned["serving_alias"] or "champion").strip()
    if "thresholds" in cleaned:
        cleaned["thresholds"] = validate_thresholds(cleaned["thresholds"])
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"] or "").strip()[:100]
    return cleaned


def _apply_auth(connection: MlflowConnection, auth: dict[str, Any] | None) -> None:
    """Secrets are write-only: an omitted or blank secret keeps the stored one."""
    if auth is None:
        return
    kind = auth.get("type", AuthType.NONE)
    if kind not in AuthType.values:
        raise ValidationError({"auth": [_("The authentication type must be none, basic or token.")]})
    if kind == AuthType.NONE:
        connection.auth_type, connection.username, connection.secret_encrypted = kind, "", ""
        return
    secret = auth.get("password") if kind == AuthType.BASIC else auth.get("token")
    if secret:
        connection.secret_encrypted = encrypt_secret(str(secret))
    elif connection.auth_type != kind or not connection.secret_encrypted:
        raise ValidationError({"auth": [_("Give the password or token.")]})
    connection.auth_type = kind
    connection.username = str(auth.get("username") or "").strip() if kind == AuthType.BASIC else ""
    if kind == AuthType.BASIC and not connection.username:
        raise ValidationError({"auth": [_("Basic authentication needs a user name.")]})


def _schedule_next(connection: MlflowConnection, *, after: datetime | None = None) -> None:
    after = after or timezone.now()
    if connection.schedule == Schedule.NIGHTLY:
        # The next MLAUDIT_MLFLOW_NIGHTLY_HOUR o'clock, local time, strictly after `after`.
        local = timezone.localtime(after)
        night = local.replace(hour=settings.MLAUDIT_MLFLOW_NIGHTLY_HOUR, minute=0, second=0, microsecond=0)
        connection.next_sync_at = night if night > local else night + timedelta(days=1)
        return
    every = SCHEDULE_EVERY.get(Schedule(connection.schedule))
    connection.next_sync_at = after + every if every else None


def connection_create(
    *, actor: Any, project: Project, auth: dict[str, Any] | None = None, **fields: Any
) -> MlflowConnection:
    _require(actor, project, Role.MANAGER)
    cleaned = _clean_fields(fields)
    if not cleaned.get("tracking_uri"):
        raise ValidationError({"tracking_uri": [_("A tracking URI is required.")]})
    if not cleaned.get("name"):
        cleaned["name"] = urlsplit(cleaned["tracking_uri"]).netloc or "MLflow"
    connection = MlflowConnection(project=project, created_by=actor, **cleaned)
    _apply_auth(connection, auth or {"type": AuthType.NONE})
    _schedule_next(connection)
    connection.save()
    return connection


def connection_update(
    *, actor: Any, connection: MlflowConnection, auth: dict[str, Any] | None = None, **fields: Any
) -> MlflowConnection:
    _require(actor, connection.project, Role.MANAGER)
    cleaned = _clean_fields(fields)
    for field, value in cleaned.items():
        setattr(connection, field, value)
    _apply_auth(connection, auth)
    if "schedule" in cleaned:
        _schedule_next(connection)
    connection.save()
    return connection


def connection_delete(*, actor: Any, connection: MlflowConnection) -> None:
    _require(actor, connection.project, Role.MANAGER)
    connection.delete()


def client_for(connection: MlflowConnection, **overrides: Any) -> Any:
    """The REST client of the connection's tracking server."""
    credentials = Credentials(connection.auth_type, connection.username, decrypt_secret(connection.secret_encrypted))
    return MlflowClient(connection.tracking_uri, credentials, verify_tls=connection.verify_tls, **overrides)


@dataclass(frozen=True)
class TestResult:
    ok: bool
    kind: str
    message: str


def connection_test(*, actor: Any, connection: MlflowConnection) -> TestResult:
    """Answer within seconds: reachable, credentials accepted, Host header accepted, experiments and models exist."""
    _require(actor, connection.project, Role.MANAGER)
    try:
        with client_for(connection, timeout=settings.MLAUDIT_MLFLOW_TEST_TIMEOUT, retries=0) as client:
            client.check()
            for name in connection.experiments:
                client.get_experiment(str(name))
            for name in connection.registered_models:
                client.get_registered_model(str(name))
    except MlflowError as exc:
        return TestResult(False, exc.kind, exc.message)
    except SecretUnreadable as exc:
        return TestResult(False, "auth", str(exc))
    return TestResult(
        True,
        "ok",
        _("Connected: %(e)s experiment(s) and %(m)s registered model(s) found.")
        % {"e": len(connection.experiments), "m": len(connection.registered_models)},
    )


# Syncs -----------------------------------------------------------------------


def _stale_after() -> timedelta:
    return timedelta(seconds=settings.MLAUDIT_MLFLOW_SYNC_TIME_LIMIT * (settings.MLAUDIT_MLFLOW_SYNC_MAX_RETRIES + 2))


def sync_request(*, actor: Any | None, connection: MlflowConnection, trigger: str = SyncTrigger.USER) -> SyncRun:
    """Queue a sync (or return the one already queued or running); the task is sent after commit."""
    if trigger == SyncTrigger.USER:
        _require(actor, connection.project, Role.MANAGER)
    from integrations.mlflow.tasks import sync_connection  # tasks import services

    with transaction.atomic():
        MlflowConnection.objects.select_for_update().filter(pk=connection.pk).first()
        active = connection.syncs.filter(state__in=ACTIVE_SYNC_STATES).order_by("-pk").first()
        if active and active.queued_at > timezone.now() - _stale_after():
            return active
        if active:
            _finish_failed(active.pk, "stale", _("Abandoned: no worker finished it in time."))
        sync = SyncRun.objects.create(
            connection=connection,
            project_id=connection.project_id,
            trigger=trigger,
            requested_by=actor if trigger == SyncTrigger.USER else None,
        )
        transaction.on_commit(lambda: _enqueue(sync_connection, sync.pk))
    return sync


def _enqueue(task: Any, sync_id: int) -> None:
    """Send the task; if the broker cannot take it, say so on the sync instead of leaving it queued."""
    try:
        task.delay(sync_id)
    except Exception as exc:  # any broker failure ends the same way
        log.warning("MLflow sync %s could not be queued: %s: %s", sync_id, type(exc).__name__, exc)
        _finish_failed(sync_id, "broker", _("The task queue is unreachable; try again when the workers are back."))


def project_sync_request(*, actor: Any, project: Project) -> list[SyncRun]:
    _require(actor, project, Role.MANAGER)
    connections = list(project.mlflow_connections.all())
    if not connections:
        raise ValidationError(_("This project has no MLflow connection yet."))
    return [sync_request(actor=actor, connection=c) for c in connections]


def syncs_dispatch_due(*, now: datetime | None = None) -> list[int]:
    """Queue a scheduled sync for every connection whose time has come; returns the sync ids."""
    now = now or timezone.now()
    queued = []
    due = MlflowConnection.objects.exclude(schedule=Schedule.OFF).filter(next_sync_at__lte=now)
    for connection in due.select_related("project"):
        with transaction.atomic():
            locked = MlflowConnection.objects.select_for_update(skip_locked=True).filter(pk=connection.pk).first()
            if locked is None or (locked.next_sync_at and locked.next_sync_at > now):
                continue
            _schedule_next(locked, after=now)
            locked.save(update_fields=["next_sync_at"])
        queued.append(sync_request(actor=None, connection=locked, trigger=SyncTrigger.SCHEDULE).pk)
    return queued


def _finish_failed(sync_id: int, kind: str, message: str) -> None:
    SyncRun.objects.filter(pk=sync_id, state__in=ACTIVE_SYNC_STATES).update(
        state=SyncState.FAILED, finished_at=timezone.now(), error_kind=kind[:30], error=message[:2000]
    )


class SyncRetry(Exception):
    """A transient failure; the task should try again later."""

    def __init__(self, error: MlflowError):
        super().__init__(error.message)
        self.error = error


def sync_execute(*, sync_id: int, final_attempt: bool) -> SyncRun | None:
    """Run one attempt of a sync. Finished syncs are left alone, so a redelivered task is harmless."""
    sync = SyncRun.objects.select_related("connection").filter(pk=sync_id).first()
    if sync is None or sync.state not in ACTIVE_SYNC_STATES:
        return sync
    now = timezone.now()
    SyncRun.objects.filter(pk=sync.pk).update(
        state=SyncState.RUNNING, started_at=sync.started_at or now, attempts=sync.attempts + 1
    )
    connection = sync.connection
    try:
        history = alias_history(connection)
        with client_for(connection) as client:
            fetched = fetch(
                client,
                connection,
                history,
                page_size=settings.MLAUDIT_MLFLOW_PAGE_SIZE,
                recent_runs=int({**connection.thresholds}.get("recent_runs", 10)),
            )
        store(sync, fetched, history)
    except MlflowError as exc:
        if exc.transient and not final_attempt:
            SyncRun.objects.filter(pk=sync.pk).update(
                error_kind=exc.kind, error=_("Retrying after: %(e)s") % {"e": exc.message}
            )
            raise SyncRetry(exc) from exc
        _finish_failed(sync.pk, exc.kind, exc.message)
    except SecretUnreadable as exc:
        _finish_failed(sync.pk, "auth", str(exc))
    return SyncRun.objects.get(pk=sync.pk)


def sync_mark_failed(*, sync_id: int, kind: str, message: str) -> None:
    _finish_failed(sync_id, kind, message)


# Accepting a finding into the audit ----------------------------------------------


CONFIRM_LOWER = "confirm_lower"  # the flag (form field, API field) that confirms lowering an answer


def status_label(status: str | None) -> str:
    status = status or AnswerStatus.NOT_DONE
    return str(STATUS_LABELS.get(AnswerStatus(status), status)) if status in AnswerStatus.values else status


def finding_accept(*, actor: Any, audit: Audit, item_code: str, confirm_lower: bool = False) -> Any:
    """Copy the latest passing finding into the answer: status as suggested, links as evidence, and a
    frozen snapshot kept with the answer. A person does this; nothing answers an item on its own.

    Accepting never lowers an answer silently: a suggestion worth fewer points than the current answer
    (automated → done manually) needs `confirm_lower`, else a ValidationError names that field.
    """
    from integrations.mlflow.selectors import accept_preview, findings_for_audit

    _require(actor, audit.project, Role.EDITOR)
    finding: Finding | None = findings_for_audit(audit=audit).get(item_code)
    if finding is None:
        raise ValidationError(_("There is no MLflow finding for this item yet."))
    if finding.result != FindingResult.PASS or not finding.suggested_status:
        raise ValidationError(_("Only a passing finding can be accepted."))
    current = audit.answers.filter(item__code=item_code).first()
    preview = accept_preview(audit=audit, finding=finding)
    if preview is not None and preview.lowers and not confirm_lower:
        raise ValidationError(
            {
                CONFIRM_LOWER: [
                    _("Accepting lowers this answer from “%(old)s” to “%(new)s”; confirm it to go ahead (%(flag)s).")
                    % {
                        "old": status_label(preview.current),
                        "new": status_label(preview.suggested),
                        "flag": CONFIRM_LOWER,
                    }
                ]
            },
            code=CONFIRM_LOWER,
        )
    evidence = list(current.evidence) if current else []
    evidence += [link for link in finding.links if link not in evidence and link.startswith(("http://", "https://"))]
    note = _("MLflow evidence, synced %(when)s: %(reason)s") % {
        "when": timezone.localtime(finding.synced_at).strftime("%Y-%m-%d %H:%M"),
        "reason": finding.localized_reason,
    }
    notes = (
        current.notes
        if current and note in current.notes
        else "\n".join(p for p in [current.notes if current else "", note] if p)
    )
    with transaction.atomic():
        answer = answer_save(
            actor=actor,
            audit=audit,
            item_code=item_code,
            status=finding.suggested_status,
            notes=notes,
            evidence=evidence[:20],
            # The answer the check above saw: if someone changes it meanwhile, this is a conflict, not a
            # lowering nobody confirmed.
            base_version=current.version if current else 0,
        )
        AcceptedFinding.objects.create(
            answer=answer, item_code=item_code, snapshot=finding.snapshot(), accepted_by=actor
        )
    return answer
