"""Writes for MLflow evidence: connections, syncs and accepting findings. Views, API and tasks call these."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError as PydanticValidationError

from audits.models import Audit, Project, Role
from audits.selectors import has_role
from audits.services import answer_save
from audits.types import Actor, User
from config.validators import contains_nul, nul_message
from evidence.sources import SOURCE_LABELS, SOURCES, EvidenceFinding, FindingResult, find
from integrations.mlflow import jobs
from integrations.mlflow.client import MlflowError, check_url
from integrations.mlflow.crypto import SecretUnreadable, encrypt_secret
from integrations.mlflow.facts import Thresholds
from integrations.mlflow.jobs import SyncRetry as SyncRetry  # re-exported: callers run syncs through services
from integrations.mlflow.jobs import client_for
from integrations.mlflow.jobs import sync_execute as sync_execute
from integrations.mlflow.jobs import sync_mark_failed as sync_mark_failed
from integrations.mlflow.models import (
    AcceptedFinding,
    AuthType,
    Finding,
    MlflowConnection,
    Schedule,
    SyncRun,
    SyncState,
    SyncTrigger,
    connection_limit,
)
from integrations.mlflow.serving import serving_in
from integrations.mlflow.tasks import enqueue_sync
from rubric.models import AnswerStatus
from rubric.models import status_label as rubric_status_label

log = logging.getLogger(__name__)

CONNECTION_FIELDS = (
    "name", "tracking_uri", "ui_url", "verify_tls", "experiments", "registered_models", "serving_alias", "schedule",
    "thresholds",
)  # fmt: skip


def _require(user: Actor, project: Project, role: str) -> None:
    if not has_role(user=user, team=project.team, at_least=role):
        raise PermissionDenied(_("Your role in this team does not allow this."))


# How many experiments and registered models one connection reads, and how long one name may be: the same
# limits for the browser form and the API (whose serializer imports them).
MAX_NAMES = {"experiments": 50, "registered_models": 20}
MAX_NAME_LENGTH = 300


def _names(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for line in value.splitlines() for part in line.split(",")]
    if not isinstance(value, list | tuple):
        raise ValidationError({field: [_("Give a list of names.")]})
    names = list(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))
    if len(names) > MAX_NAMES[field]:
        raise ValidationError({field: [_("Give at most %(n)s names.") % {"n": MAX_NAMES[field]}]})
    if any(len(name) > MAX_NAME_LENGTH for name in names):
        raise ValidationError({field: [_("A name may have at most %(n)s characters.") % {"n": MAX_NAME_LENGTH}]})
    return names


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
    """Known names only, each of its kind in ``facts.Thresholds`` (number ≥ 0, text, yes/no, non-empty list of
    texts). A setting the rules could not use is refused here, naming it, rather than ignored at sync time.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError({"thresholds": [_("Thresholds must be an object.")]})
    errors = []
    try:
        Thresholds.model_validate({name: given for name, given in value.items() if given is not None})
    except PydanticValidationError as exc:
        for name in dict.fromkeys(str(error["loc"][0]) for error in exc.errors()):
            errors.append(_threshold_problem(name))
    if contains_nul(value):  # PostgreSQL cannot store it in the JSON column
        errors.append(nul_message())
    if errors:
        raise ValidationError({"thresholds": errors})
    return dict(value)


def _threshold_problem(name: str) -> str:
    field = Thresholds.model_fields.get(name)
    if field is None:
        return _("Unknown threshold “%(name)s”.") % {"name": name}
    kind = str(field.annotation)
    if "bool" in kind:
        return _("“%(name)s” must be true or false.") % {"name": name}
    if "list" in kind:
        return _("“%(name)s” must be a non-empty list of non-empty texts.") % {"name": name}
    if "int" in kind or "float" in kind:
        return _("“%(name)s” must be a number of at least 0.") % {"name": name}
    return _("“%(name)s” must be a text.") % {"name": name}


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
        cleaned["name"] = str(cleaned["name"] or "").strip()[: connection_limit("name")]
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


def connection_create(
    *, actor: User, project: Project, auth: dict[str, Any] | None = None, **fields: Any
) -> MlflowConnection:
    _require(actor, project, Role.MANAGER)
    cleaned = _clean_fields(fields)
    if not cleaned.get("tracking_uri"):
        raise ValidationError({"tracking_uri": [_("A tracking URI is required.")]})
    if not cleaned.get("name"):
        cleaned["name"] = urlsplit(cleaned["tracking_uri"]).netloc or "MLflow"
    connection = MlflowConnection(project=project, created_by=actor, **cleaned)
    _apply_auth(connection, auth or {"type": AuthType.NONE})
    jobs.schedule_next(connection)
    connection.save()
    return connection


def connection_update(
    *, actor: User, connection: MlflowConnection, auth: dict[str, Any] | None = None, **fields: Any
) -> MlflowConnection:
    _require(actor, connection.project, Role.MANAGER)
    cleaned = _clean_fields(fields)
    for field, value in cleaned.items():
        setattr(connection, field, value)
    _apply_auth(connection, auth)
    if "schedule" in cleaned:
        jobs.schedule_next(connection)
    connection.save()
    return connection


def connection_delete(*, actor: User, connection: MlflowConnection) -> None:
    _require(actor, connection.project, Role.MANAGER)
    connection.delete()


@dataclass(frozen=True)
class TestResult:
    ok: bool
    kind: str
    message: str


def connection_test(*, actor: User, connection: MlflowConnection) -> TestResult:
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


class TaskQueueUnreachable(Exception):
    """The broker did not take a sync's task; the sync was recorded failed rather than left queued."""

    def __init__(self, syncs: list[SyncRun]):
        super().__init__(jobs.task_queue_unreachable_message())
        self.syncs = syncs


def sync_request(*, actor: User | None, connection: MlflowConnection, trigger: str = SyncTrigger.USER) -> SyncRun:
    """Queue a sync (or return the one already queued or running); the task is sent after commit.

    An active sync whose worker is gone (past its deadline) is failed first, so a new one starts at once.
    Called outside a transaction, the returned sync already shows whether the broker took the task.
    """
    if trigger == SyncTrigger.USER:
        # A sync asked for by hand needs someone who may ask: nobody (None) is refused as the anonymous user is.
        _require(actor or AnonymousUser(), connection.project, Role.MANAGER)
    requested_by = actor if trigger == SyncTrigger.USER else None
    return jobs.sync_open(connection=connection, trigger=trigger, requested_by=requested_by, send=enqueue_sync)


def project_sync_request(*, actor: User, project: Project) -> list[SyncRun]:
    _require(actor, project, Role.MANAGER)
    connections = list(project.mlflow_connections.all())
    if not connections:
        raise ValidationError(_("This project has no MLflow connection yet."))
    syncs = [sync_request(actor=actor, connection=c) for c in connections]
    if any(s.state == SyncState.FAILED and s.error_kind == jobs.BROKER for s in syncs):
        raise TaskQueueUnreachable(syncs)
    return syncs


def syncs_dispatch_due(*, now: datetime | None = None) -> list[int]:
    """Queue a scheduled sync for every connection whose time has come; returns the sync ids."""
    return jobs.syncs_dispatch_due(now=now, send=enqueue_sync)


# Accepting a finding into the audit ----------------------------------------------


CONFIRM_LOWER = "confirm_lower"  # the flag (form field, API field) that confirms lowering an answer


def status_label(status: str | None) -> str:
    return rubric_status_label(status or AnswerStatus.NOT_DONE)


def finding_accept(
    *, actor: User, audit: Audit, item_code: str, confirm_lower: bool = False, source: str = "mlflow"
) -> Any:
    """Copy the latest passing finding into the answer: status as suggested, links as evidence, and a
    frozen snapshot kept with the answer. A person does this; nothing answers an item on its own.

    Accepting never lowers an answer silently: a suggestion worth fewer points than the current answer
    (automated → done manually) needs `confirm_lower`, else a ValidationError names that field.
    """
    from integrations.mlflow.selectors import accept_preview, findings_for_audit

    _require(actor, audit.project, Role.EDITOR)
    if source not in SOURCES:
        raise ValidationError({"source": [_("Unknown evidence source “%(source)s”.") % {"source": source}]})
    finding: Finding | EvidenceFinding | None = (
        findings_for_audit(audit=audit).get(item_code) if source == "mlflow" else find(audit.project, item_code, source)
    )
    if finding is None:
        raise ValidationError(_("There is no finding of this source for this item yet."))
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
    observed = finding.observed_at if isinstance(finding, EvidenceFinding) else finding.synced_at
    note = _("Evidence from %(source)s, %(when)s: %(reason)s") % {
        "source": SOURCE_LABELS.get(source, source),
        "when": timezone.localtime(observed).strftime("%Y-%m-%d %H:%M"),
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
            answer=answer,
            item_code=item_code,
            snapshot=finding.snapshot(),
            accepted_by=actor,
            **provenance(finding, source=source),
        )
    return answer


def provenance(finding: Finding | EvidenceFinding, *, source: str) -> dict[str, Any]:
    """What an acceptance records about its evidence: the source and what it observed (sync or report), when,
    at which level, and for MLflow the serving version the sync behind the finding saw."""
    if isinstance(finding, EvidenceFinding):
        report = finding.origin.get("report")
        return {
            "source": source,
            "evidence_key": f"report:{report}" if report is not None else f"sync:{finding.origin.get('sync', '')}",
            "observed_at": finding.observed_at,
            "accepted_status": finding.suggested_status,
        }
    connection = finding.connection
    serving = serving_in(
        finding.sync.aliases_seen or {}, models=connection.registered_models, alias=connection.serving_alias
    )
    return {
        "source": "mlflow",
        "evidence_key": f"sync:{finding.sync_id}",
        "observed_at": finding.synced_at,
        "accepted_status": finding.suggested_status,
        "connection": connection,
        "model_name": serving.model_name if serving else "",
        "model_alias": serving.alias if serving else "",
        "model_version": serving.version if serving else None,
    }
