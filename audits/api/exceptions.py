"""One JSON error envelope for every API error.

    {"error": {"status": 400, "code": "invalid", "message": "...", "fields": {...}}}

`fields` maps a field name (or, for a list body, the element's index) to its messages.
Service exceptions are translated here so views stay free of try/except.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from audits.exemptions.services import ExemptionConflict
from audits.services import AnswerConflict, AuditLocked, BulkAnswerError
from config.outage import (
    DATABASE_UNREACHABLE,
    RETRY_AFTER_SECONDS,
    database_unreachable_message,
    is_database_outage,
    log_database_outage,
)

NON_FIELD_KEY = "non_field_errors"
logger = logging.getLogger("mlaudit.api")


def envelope(status_code: int, code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status_code, "code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


def _fields_of_list(detail: list[Any]) -> dict[str, Any]:
    """A list body's per-element errors, keyed by index; valid elements are left out."""
    return {str(index): errors for index, errors in enumerate(detail) if errors}


def _validation_response(detail: Any) -> Response:
    if isinstance(detail, list) and detail and all(isinstance(item, dict) for item in detail):
        fields = _fields_of_list(detail)
        return _bulk_response(fields)
    if isinstance(detail, dict):
        messages = _flatten(detail)
        message = messages[0] if len(messages) == 1 else _("Some fields are not valid; see “fields”.")
        if set(detail) == {NON_FIELD_KEY}:
            return Response(envelope(400, "invalid", " ".join(messages)), status=400)
        return Response(envelope(400, "invalid", message, detail), status=400)
    return Response(envelope(400, "invalid", " ".join(_flatten(detail))), status=400)


def _bulk_response(fields: dict[str, Any]) -> Response:
    indexes = ", ".join(fields)
    message = ngettext(
        "Element %(indexes)s of the request is not valid; nothing was saved.",
        "Elements %(indexes)s of the request are not valid; nothing was saved.",
        len(fields),
    ) % {"indexes": indexes}
    return Response(envelope(400, "invalid", message, fields), status=400)


def _django_validation_detail(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {
            (NON_FIELD_KEY if field == "__all__" else field): messages for field, messages in exc.message_dict.items()
        }
    return list(exc.messages)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if is_database_outage(exc):
        log_database_outage(exc)
        outage = Response(
            envelope(503, DATABASE_UNREACHABLE, database_unreachable_message()),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        outage._has_been_logged = True  # type: ignore[attr-defined]  # once is enough (django.request)
        return outage
    if isinstance(exc, BulkAnswerError):
        return _bulk_response({str(index): errors for index, errors in sorted(exc.errors.items())})
    if isinstance(exc, AnswerConflict):
        message = _("Someone else changed this answer; reload it and try again.")
        return Response(
            envelope(409, "conflict", message, {"version": [str(exc.current.version)]}), status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, ExemptionConflict):
        return Response(envelope(409, "conflict", str(exc)), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, AuditLocked):
        return Response(envelope(409, "audit_locked", str(exc)), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        return _validation_response(_django_validation_detail(exc))
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(exc.detail)
    if isinstance(exc, Http404):
        message = str(exc) if exc.args else _("Not found.")
        return Response(envelope(404, "not_found", message), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            envelope(413, "too_large", too_large_message()), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if isinstance(exc, PermissionDenied):
        message = str(exc) if exc.args else _("You do not have permission to do this.")
        return Response(envelope(403, "permission_denied", message), status=status.HTTP_403_FORBIDDEN)

    response = drf_exception_handler(exc, context)
    if response is None:
        return _server_error(exc, context)
    if not isinstance(exc, exceptions.APIException):
        return response
    detail = exc.detail
    message = " ".join(_flatten(detail))
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else "error"
    response.data = envelope(response.status_code, code, message)
    return response


def _server_error(exc: Exception, context: dict[str, Any]) -> Response | None:
    """An unexpected failure: logged with its traceback, answered in the envelope (DEBUG shows Django's page)."""
    if settings.DEBUG:
        return None
    view = context.get("view")
    logger.error("Unhandled error in %s", type(view).__name__ if view else "the API", exc_info=exc)
    message = _("Something went wrong on the server; the error has been logged.")
    return Response(envelope(500, "server_error", message), status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
    return _("The request body is larger than %(n)s MB; send fewer answers per request.") % {"n": limit}


API_PATH_PREFIX = "/api/"


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 handler (config.urls.handler404): an API path that matches no route (a slug that is not
    a slug, a typo) gets the JSON envelope like every other API error; pages keep the HTML page."""
    if request.path_info.startswith(API_PATH_PREFIX):
        return JsonResponse(envelope(404, "not_found", _("Not found.")), status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)
