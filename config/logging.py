"""Logs: one JSON line per request and per Celery task in production, plain text in development.

Every record carries the current request id, task id and user id (from context
variables), so lines written by a view or a task can be joined with the line that
summarises the request or task. The request id comes from the X-Request-ID header
when a proxy sets one, is echoed back in the response, and travels with every task
published while serving the request.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.utils.functional import empty

from config.proxy import client_ip

if TYPE_CHECKING:  # settings import this module, so it must not pull in django.http at import time
    from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is reused only when it is short and plain, so it cannot forge log lines.
_ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
task_id_var: ContextVar[str | None] = ContextVar("task_id", default=None)
user_id_var: ContextVar[int | str | None] = ContextVar("user_id", default=None)
_request_var: ContextVar[HttpRequest | None] = ContextVar("request", default=None)

request_logger = logging.getLogger("mlaudit.request")
task_logger = logging.getLogger("mlaudit.task")

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged too.
_STANDARD_ATTRIBUTES = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "task_id",
    "user_id",
}


def _user_id_of(request: HttpRequest | None) -> int | str | None:
    """The signed-in user's id, without ever triggering the lazy user lookup."""
    if request is None:
        return None
    user = request.__dict__.get("user")
    if user is None:
        return None
    if getattr(user, "_wrapped", None) is empty:  # AuthenticationMiddleware's lazy user, not loaded yet
        return None
    if getattr(user, "is_authenticated", False):
        return user.pk
    return None


def current_user_id() -> int | str | None:
    return user_id_var.get() or _user_id_of(_request_var.get())


class ContextFilter(logging.Filter):
    """Stamp each record with the request id, task id and user id of the work in progress."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        if getattr(record, "task_id", None) is None:
            record.task_id = task_id_var.get()
        if getattr(record, "user_id", None) is None:
            record.user_id = current_user_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "task_id": getattr(record, "task_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal, with the ids only when there are some."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [
            f"{name}={value}"
            for name in ("request_id", "task_id", "user_id", "duration_ms")
            if (value := getattr(record, name, None)) is not None
        ]
        return f"{line} [{' '.join(ids)}]" if ids else line


def logging_config(*, json_lines: bool, level: str) -> dict[str, Any]:
    """The LOGGING setting: everything to stderr through one handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "config.logging.ContextFilter"}},
        "formatters": {
            "json": {"()": "config.logging.JsonFormatter"},
            "text": {"()": "config.logging.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if json_lines else "text",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's default handlers would print its messages a second time, in another format.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            # RequestLogMiddleware's line replaces Django's own per-request lines (errors are still logged).
            "django.request": {"level": "ERROR", "propagate": True},
            "django.server": {"level": "ERROR", "propagate": True},
        },
    }


def _clean_request_id(raw: str | None) -> str:
    if raw and _ACCEPTABLE_REQUEST_ID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Give each request an id (reusing X-Request-ID), echo it back, and log one line when it ends."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        tokens = (request_id_var.set(request_id), _request_var.set(request))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            status = response.status_code
            level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
            request_logger.log(
                level,
                "%s %s %s",
                request.method,
                request.path,
                status,
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": _user_id_of(request),
                    "client": client_ip(request),
                },
            )
            return response
        finally:
            request_id_var.reset(tokens[0])
            _request_var.reset(tokens[1])


# Celery: the ids travel in message headers; prerun/postrun bracket each task with them.
# Per task id a stack: an eager retry runs the same task id again inside the first run.
_running: dict[str, list[tuple[float, list[Token[Any]]]]] = {}


def _add_context_headers(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is None:
        return
    request_id = request_id_var.get()
    user_id = current_user_id()
    if request_id and "mlaudit_request_id" not in headers:
        headers["mlaudit_request_id"] = request_id
    if user_id is not None and "mlaudit_user_id" not in headers:
        headers["mlaudit_user_id"] = user_id


def _task_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task_id is None:
        return
    context = getattr(task, "request", None)
    tokens: list[Token[Any]] = [task_id_var.set(task_id)]
    request_id = getattr(context, "mlaudit_request_id", None)
    if request_id:
        tokens.append(request_id_var.set(request_id))
    user_id = getattr(context, "mlaudit_user_id", None)
    if user_id is not None:
        tokens.append(user_id_var.set(user_id))
    _running.setdefault(task_id, []).append((time.perf_counter(), tokens))


def _task_finished(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any) -> None:
    if task_id is None or not _running.get(task_id):
        return
    started, tokens = _running[task_id].pop()
    if not _running[task_id]:
        del _running[task_id]
    name = getattr(task, "name", "?")
    task_logger.log(
        {"SUCCESS": logging.INFO, "RETRY": logging.WARNING}.get(state or "", logging.ERROR),
        "task %s %s",
        name,
        state,
        extra={
            "task_id": task_id,
            "task": name,
            "state": state,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    for token in reversed(tokens):
        token.var.reset(token)


def _keep_django_logging(**_: Any) -> None:
    """Receiving setup_logging tells Celery not to install its own handlers over LOGGING."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun

    before_task_publish.connect(_add_context_headers, weak=False, dispatch_uid="mlaudit-log-publish")
    task_prerun.connect(_task_started, weak=False, dispatch_uid="mlaudit-log-prerun")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="mlaudit-log-postrun")
    setup_logging.connect(_keep_django_logging, weak=False, dispatch_uid="mlaudit-log-setup")
