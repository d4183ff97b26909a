"""MLflow registry webhooks (MLflow >= 3.3): verify a delivery, record it once, keep the exact alias history.

MLflow signs each delivery like Standard Webhooks (mlflow/webhooks/delivery.py): the header
X-MLflow-Signature is "v1,<base64 of HMAC-SHA256(secret, f"{delivery_id}.{timestamp}.{body}")>", with the
delivery id and the Unix timestamp (seconds) in their own headers. MLflow retries a failed delivery with the same
id, so a delivery id seen before is answered as done and changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.models import Role
from audits.selectors import has_role
from audits.staleness.tasks import live_score_check_after_commit
from audits.types import User
from integrations.mlflow.crypto import SecretUnreadable, decrypt_secret, encrypt_secret
from integrations.mlflow.models import AliasEvent, MlflowConnection, SyncTrigger, WebhookDelivery
from integrations.mlflow.services import sync_request

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"
SECRET_BYTES = 32
MAX_BODY_BYTES = 256 * 1024  # registry payloads are a few hundred bytes; anything this big is not MLflow's

# The registry events mlaudit subscribes to, as `create_webhook(events=[...])` spells them.
EVENTS = (
    "model_version.created",
    "model_version_alias.created",
    "model_version_alias.deleted",
    "model_version_tag.set",
    "model_version_tag.deleted",
)
ALIAS_SET, ALIAS_DELETED = "model_version_alias.created", "model_version_alias.deleted"


class WebhookRejected(Exception):
    """The delivery cannot be trusted or read; nothing was recorded."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Received:
    delivery: WebhookDelivery | None  # None when the delivery id was seen before (a replay)
    sync_id: int | None

    @property
    def replayed(self) -> bool:
        return self.delivery is None


def signature(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    """The signature MLflow sends for this delivery (see the module docstring)."""
    signed = f"{delivery_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_matches(secret: str, delivery_id: str, timestamp: str, body: str, header: str) -> bool:
    expected = signature(secret, delivery_id, timestamp, body)
    # Standard Webhooks allows several space-separated signatures (during a secret rotation); any may match.
    return any(hmac.compare_digest(expected.encode(), given.encode()) for given in header.split())


def _unauthorized(message: str) -> WebhookRejected:
    return WebhookRejected(401, "bad_signature", message)


def verify(
    connection: MlflowConnection, headers: Any, body: bytes, *, now: datetime | None = None
) -> tuple[str, dict[str, Any]]:
    """The delivery id and the parsed payload of a delivery signed with this connection's secret, else raise."""
    delivery_id = str(headers.get(DELIVERY_ID_HEADER) or "").strip()
    timestamp = str(headers.get(TIMESTAMP_HEADER) or "").strip()
    given = str(headers.get(SIGNATURE_HEADER) or "").strip()
    if not connection.webhook_secret_encrypted:
        raise _unauthorized(_("This connection has no webhook secret yet; create one on the connection page."))
    if not (delivery_id and timestamp and given):
        raise _unauthorized(_("The delivery is not signed (missing MLflow signature headers)."))
    if len(body) > MAX_BODY_BYTES or len(delivery_id) > 100:
        raise WebhookRejected(400, "invalid", _("The delivery is too large to be an MLflow registry event."))
    try:
        secret = decrypt_secret(connection.webhook_secret_encrypted)
        text = body.decode("utf-8")
    except SecretUnreadable:
        raise _unauthorized(_("The webhook secret cannot be decrypted; create a new one.")) from None
    except UnicodeDecodeError:
        raise _unauthorized(_("The signature does not match.")) from None
    if not signature_matches(secret, delivery_id, timestamp, text, given):
        raise _unauthorized(_("The signature does not match."))
    # Only a signed timestamp is trusted, so it is checked after the signature.
    now = now or timezone.now()
    try:
        sent = datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise _unauthorized(_("The delivery's timestamp cannot be read.")) from None
    if abs((now - sent).total_seconds()) > settings.MLAUDIT_MLFLOW_WEBHOOK_TOLERANCE:
        raise WebhookRejected(401, "stale", _("The delivery is too old (or from the future); it was not accepted."))
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise WebhookRejected(400, "invalid", _("The delivery is not an MLflow webhook payload."))
    return delivery_id, payload


def _event_time(payload: dict[str, Any], fallback: datetime) -> datetime:
    """MLflow stamps the payload (ISO 8601, UTC) when it sends the event, right after the registry changed."""
    try:
        at = datetime.fromisoformat(str(payload.get("timestamp")))
    except ValueError:
        return fallback
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _alias_event(connection: MlflowConnection, delivery: WebhookDelivery) -> AliasEvent | None:
    data = delivery.payload.get("data", {})
    model, alias = str(data.get("name") or "")[:300], str(data.get("alias") or "")[:255]
    if delivery.event not in (ALIAS_SET, ALIAS_DELETED) or not model or not alias:
        return None
    version = None
    if delivery.event == ALIAS_SET:
        try:
            version = int(data.get("version"))
        except (TypeError, ValueError):
            return None
    return AliasEvent(
        connection=connection, delivery=delivery, model_name=model, alias=alias, version=version, at=delivery.event_at
    )


def webhook_receive(*, token: str, headers: Any, body: bytes) -> Received:
    """Check and record one delivery; queue a sync when it concerns a model this connection reads."""
    connection = MlflowConnection.objects.filter(webhook_token=token).first() if token else None
    if connection is None:
        raise WebhookRejected(404, "not_found", _("No such webhook."))
    delivery_id, payload = verify(connection, headers, body)
    event = f"{payload.get('entity', '')}.{payload.get('action', '')}"[:60]
    now = timezone.now()
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                connection=connection,
                delivery_id=delivery_id,
                event=event,
                event_at=_event_time(payload, now),
                payload=payload,
            )
            alias_event = _alias_event(connection, delivery)
            if alias_event is not None:
                alias_event.save()
    except IntegrityError:
        # The same delivery id again (MLflow's retry, or a replay): it was handled the first time.
        return Received(delivery=None, sync_id=None)
    if alias_event is not None:
        # An alias moved: answers given for the version it left are stale before the queued sync runs.
        live_score_check_after_commit(connection.project_id)
    model = str(payload["data"].get("name") or "")
    sync_id = None
    if event in EVENTS and model in connection.registered_models:
        sync_id = sync_request(actor=None, connection=connection, trigger=SyncTrigger.WEBHOOK).pk
    log.info("MLflow webhook %s for connection %s: %s %s", delivery_id, connection.pk, event, model)
    return Received(delivery=delivery, sync_id=sync_id)


def webhook_secret_rotate(*, actor: User, connection: MlflowConnection) -> str:
    """A new signing secret for this connection's webhook; returned once, stored only encrypted.

    The old secret stops working at once: MLflow's webhook must be given the new one (update_webhook).
    """
    if not has_role(user=actor, team=connection.project.team, at_least=Role.MANAGER):
        raise PermissionDenied(_("Your role in this team does not allow this."))
    secret = secrets.token_urlsafe(SECRET_BYTES)
    connection.webhook_secret_encrypted = encrypt_secret(secret)
    connection.save(update_fields=["webhook_secret_encrypted", "updated_at"])
    return secret
