"""Diagnostic tasks: prove a worker consumes from the broker and reaches the database."""

import socket

from celery import shared_task

from config.health import check_database


@shared_task(name="config.tasks.ping")
def ping() -> dict[str, str]:
    return {"pong": "ok", "worker": socket.gethostname(), "database": check_database()}
