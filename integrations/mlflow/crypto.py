"""Credentials at rest: Fernet with a key from the environment, or one derived from SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret was encrypted with a key this installation no longer has."""


def _fernet() -> MultiFernet:
    keys: list[Fernet] = []
    # Comma-separated: the first key encrypts, all of them decrypt (key rotation).
    for raw in settings.MLAUDIT_SECRET_ENCRYPTION_KEYS:
        keys.append(Fernet(raw.encode()))
    derived = hashlib.sha256(b"mlaudit-mlflow-credentials:" + str(settings.SECRET_KEY).encode()).digest()
    keys.append(Fernet(base64.urlsafe_b64encode(derived)))
    return MultiFernet(keys)


def encrypt_secret(plain: str) -> str:
    if not plain:
        return ""
    return _fernet().encrypt(plain.encode()).decode()


def decrypt_secret(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "The stored MLflow credential cannot be decrypted with the configured keys; enter it again."
        ) from None
