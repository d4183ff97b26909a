"""Connection secrets at rest: encrypted, still readable after a key rotation, and a clear failure when they are not."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from integrations.mlflow import services
from integrations.mlflow.crypto import SecretUnreadable, decrypt_secret, encrypt_secret
from integrations.mlflow.models import SyncRun, SyncState, SyncTrigger

pytestmark = pytest.mark.django_db


def test_secrets_round_trip_and_are_not_stored_in_clear():
    token = encrypt_secret("hunter2")
    assert "hunter2" not in token and decrypt_secret(token) == "hunter2"


def test_a_configured_key_encrypts_and_old_secrets_stay_readable_after_rotation(settings):
    old = encrypt_secret("from-secret-key")
    settings.MLAUDIT_SECRET_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    new = encrypt_secret("from-env-key")
    assert decrypt_secret(new) == "from-env-key" and decrypt_secret(old) == "from-secret-key"
    settings.MLAUDIT_SECRET_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(SecretUnreadable, match="enter it again"):
        decrypt_secret(new)


def test_a_sync_whose_secret_cannot_be_decrypted_fails_with_a_clear_reason(manager, project, settings):
    connection = services.connection_create(
        actor=manager, project=project, tracking_uri="http://127.0.0.1:9", auth={"type": "token", "token": "t"}
    )
    settings.SECRET_KEY = "rotated-without-keeping-the-old-key"
    sync = SyncRun.objects.create(connection=connection, project=project, trigger=SyncTrigger.USER)
    services.sync_execute(sync_id=sync.pk, final_attempt=False)
    sync.refresh_from_db()
    assert (sync.state, sync.error_kind) == (SyncState.FAILED, "auth")
