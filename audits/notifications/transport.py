"""Sending one delivery: email through Django's configured backend, webhooks through the MLflow address guard.

Errors are sorted into `TransientError` (worth a retry: the server or network failed) and `PermanentError`
(retrying changes nothing: a refused address, a 4xx answer).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from smtplib import SMTPException

import requests
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext as _

from integrations.mlflow.crypto import SecretUnreadable, decrypt_secret, encrypt_secret
from integrations.mlflow.outbound import RefusedAddress, guarded_session

SIGNATURE_HEADER = "X-Mlaudit-Signature"
SECRET_BYTES = 32


class TransientError(Exception):
    pass


class PermanentError(Exception):
    pass


def new_secret() -> tuple[str, str]:
    """A webhook signing secret and its encrypted form (what is stored)."""
    plain = "whsec_" + secrets.token_urlsafe(SECRET_BYTES)
    return plain, encrypt_secret(plain)


def signature(secret: str, body: bytes) -> str:
    """The header value: sha256=<hex HMAC-SHA256 of the raw body with the channel's secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_email(*, to: str, subject: str, body: str) -> None:
    # A mail server that hangs must not hold the worker until the task's time limit.
    timeout = settings.EMAIL_TIMEOUT or settings.MLAUDIT_NOTIFY_WEBHOOK_TIMEOUT
    try:
        connection = get_connection(timeout=timeout)
        EmailMessage(
            subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to], connection=connection
        ).send()
    except (SMTPException, OSError) as exc:
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc


def post_webhook(*, url: str, body: bytes, secret_encrypted: str, signed: bool) -> None:
    headers = {"Content-Type": "application/json", "User-Agent": "mlaudit-notifications"}
    if signed:
        try:
            headers[SIGNATURE_HEADER] = signature(decrypt_secret(secret_encrypted), body)
        except SecretUnreadable as exc:  # the encryption keys changed: only a new channel helps
            raise PermanentError(_("The signing secret cannot be decrypted; add the channel again.")) from exc
    # Celery retries the delivery; the session itself does not (retries=0), so attempts are counted once.
    session = guarded_session(retries=0, backoff=0, verify=True, on_attempt=lambda: None)
    try:
        response = session.post(
            url, data=body, headers=headers, timeout=settings.MLAUDIT_NOTIFY_WEBHOOK_TIMEOUT, allow_redirects=False
        )
    except RefusedAddress as exc:
        raise PermanentError(exc.message) from exc
    except requests.RequestException as exc:
        refused = _refusal(exc)
        if refused is not None:
            raise PermanentError(refused.message) from exc
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        session.close()
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientError(_("The webhook answered HTTP {status}.").format(status=response.status_code))
    if response.status_code >= 300:
        raise PermanentError(_("The webhook answered HTTP {status}.").format(status=response.status_code))


def _refusal(exc: BaseException) -> RefusedAddress | None:
    """The address guard's refusal inside requests' and urllib3's wrappers, if that is what failed."""
    seen: BaseException | None = exc
    for _depth in range(10):
        if seen is None:
            return None
        if isinstance(seen, RefusedAddress):
            return seen
        nested = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = getattr(seen, "reason", None) or nested or seen.__cause__ or seen.__context__
    return None
