"""A database outage answered as one: 503 with a sentence and Retry-After, never a 500 and a traceback.

While PostgreSQL is unreachable every page (the signed-in user is read from the database) and every API
call fails. Those failures are not bugs in mlaudit, and the people seeing them should learn that the
service is briefly unavailable and that what they saved before is safe, so:

* pages get templates/503.html (rendered without the request: its context would read the user again);
* the questionnaire's JSON saves get {"errors": [...]} like their other errors, so the page keeps the text
  and retries;
* the API gets its error envelope with code `database_unreachable` (audits/api/exceptions.py maps the
  errors raised inside API views; this module's handler500 covers those raised before a view runs).

Errors the server reports about a statement (a deadlock, a constraint) are not outages and stay 500s.
Nothing here holds a connection: Django closes a connection that failed at the end of the request, and
CONN_HEALTH_CHECKS replaces a stale persistent one at the start of the next, so service resumes by itself.
"""

from __future__ import annotations

import logging
import sys

import psycopg2
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

DATABASE_UNREACHABLE = "database_unreachable"
RETRY_AFTER_SECONDS = 30
# SQLSTATEs of a server that cannot serve at all: connection exceptions (08), insufficient resources (53,
# e.g. too many connections), administrator or crash shutdown and "starting up" (57P01-57P03).
UNAVAILABLE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03")

logger = logging.getLogger(__name__)


def is_database_outage(error: BaseException | None) -> bool:
    """True when the database could not be reached or dropped the connection, as opposed to refusing a query."""
    if isinstance(error, InterfaceError):  # a connection closed under us ("connection already closed")
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if not isinstance(cause, psycopg2.Error):
        return False  # SQLite's OperationalErrors are mostly schema problems, not outages
    # No SQLSTATE: the client library failed (connection refused, server closed the connection).
    return cause.pgcode is None or cause.pgcode.startswith(UNAVAILABLE_SQLSTATES)


def log_database_outage(error: BaseException) -> None:
    # One line, no traceback: every request fails the same way until the database is back.
    logger.error("The database is unreachable, answering 503: %s: %s", type(error).__name__, str(error).strip())


def database_unreachable_message() -> str:
    return _("mlaudit cannot reach its database right now. What was saved before is kept; try again in a minute.")


def _wants_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def database_unreachable_response(request: HttpRequest, error: BaseException) -> HttpResponse:
    from audits.api.exceptions import API_PATH_PREFIX, envelope  # that module imports this one

    log_database_outage(error)
    message = database_unreachable_message()
    response: HttpResponse
    if request.path_info.startswith(API_PATH_PREFIX):
        response = JsonResponse(envelope(503, DATABASE_UNREACHABLE, message), status=503)
    elif _wants_json(request):
        response = JsonResponse({"errors": [message]}, status=503)
    else:
        page = loader.get_template("503.html").render({"message": message, "retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django would log it again, with a traceback
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500 (config/urls.py). Django calls it while handling the exception, hence sys.exc_info();
    with DEBUG on Django shows its own page instead."""
    error = sys.exc_info()[1]
    if error is not None and is_database_outage(error):
        return database_unreachable_response(request, error)
    return defaults.server_error(request)
