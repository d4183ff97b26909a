"""Log lines: JSON in production, text in development, with request, task and user ids."""

from __future__ import annotations

import json
import logging
import re

from celery import shared_task

from config.logging import (
    REQUEST_ID_HEADER,
    ContextFilter,
    JsonFormatter,
    TextFormatter,
    _add_context_headers,
    _clean_request_id,
    logging_config,
    request_id_var,
    task_id_var,
    user_id_var,
)


def make_record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("mlaudit.test", logging.WARNING, __file__, 1, message, args or ("world",), None)
    for key, value in extra.items():
        setattr(record, key, value)
    ContextFilter().filter(record)
    return record


def test_a_json_line_has_level_logger_ids_and_the_extra_fields():
    token = request_id_var.set("req-1")
    try:
        line = JsonFormatter().format(make_record(duration_ms=12.5, status=201))
    finally:
        request_id_var.reset(token)
    assert "\n" not in line
    payload = json.loads(line)
    assert payload["level"] == "WARNING"
    assert payload["logger"] == "mlaudit.test"
    assert payload["message"] == "hello world"
    assert payload["request_id"] == "req-1"
    assert payload["task_id"] is None
    assert payload["user_id"] is None
    assert payload["duration_ms"] == 12.5
    assert payload["status"] == 201


def test_an_exception_stays_inside_its_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = make_record()
        record.exc_info = sys.exc_info()
    payload = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in payload["exception"]


def test_text_lines_for_development_show_the_ids_only_when_present():
    plain = TextFormatter().format(make_record())
    assert plain.endswith("mlaudit.test hello world")
    token = task_id_var.set("task-9")
    try:
        with_ids = TextFormatter().format(make_record(duration_ms=3.0))
    finally:
        task_id_var.reset(token)
    assert with_ids.endswith("[task_id=task-9 duration_ms=3.0]")


def test_production_logs_json_and_development_logs_text():
    assert logging_config(json_lines=True, level="INFO")["handlers"]["console"]["formatter"] == "json"
    assert logging_config(json_lines=False, level="DEBUG")["handlers"]["console"]["formatter"] == "text"


def test_each_request_gets_an_id_echoed_in_the_response(client):
    first = client.get("/account/login/")
    second = client.get("/account/login/")
    assert re.fullmatch(r"[0-9a-f]{32}", first[REQUEST_ID_HEADER])
    assert first[REQUEST_ID_HEADER] != second[REQUEST_ID_HEADER]


def test_a_proxy_request_id_is_kept_unless_it_could_forge_log_lines(client):
    assert client.get("/account/login/", HTTP_X_REQUEST_ID="lb-7f3a.2")[REQUEST_ID_HEADER] == "lb-7f3a.2"
    forged = client.get("/account/login/", HTTP_X_REQUEST_ID='x"}\n{"level": "INFO')[REQUEST_ID_HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)


def test_a_request_id_with_a_trailing_newline_is_replaced():
    assert re.fullmatch(r"[0-9a-f]{32}", _clean_request_id("lb-1\n"))


def test_one_line_per_request_with_status_duration_and_user(client, manager, caplog):
    client.force_login(manager)
    with caplog.at_level(logging.INFO, logger="mlaudit.request"):
        response = client.get("/account/login/", HTTP_X_REQUEST_ID="abc-123")
    lines = [r for r in caplog.records if r.name == "mlaudit.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line.request_id == "abc-123"
    assert line.user_id == manager.pk
    assert line.status == response.status_code
    assert line.method == "GET"
    assert line.path == "/account/login/"
    assert line.client == "127.0.0.1"
    assert line.duration_ms >= 0


def test_client_errors_are_logged_as_warnings(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="mlaudit.request"):
        client.get("/api/v1/no-such-thing/")
    (line,) = [r for r in caplog.records if r.name == "mlaudit.request"]
    assert line.status == 404
    assert line.levelname == "WARNING"


def test_tasks_published_while_serving_a_request_carry_its_request_and_user_ids():
    tokens = (request_id_var.set("req-77"), user_id_var.set(42))
    headers: dict[str, object] = {}
    try:
        _add_context_headers(headers=headers)
    finally:
        request_id_var.reset(tokens[0])
        user_id_var.reset(tokens[1])
    assert headers == {"mlaudit_request_id": "req-77", "mlaudit_user_id": 42}


def test_a_task_logs_one_line_with_its_id_state_and_duration(db, caplog):
    from config.tasks import ping

    with caplog.at_level(logging.INFO, logger="mlaudit.task"):
        result = ping.apply()
    (line,) = [r for r in caplog.records if r.name == "mlaudit.task"]
    assert line.task_id == result.id
    assert line.state == "SUCCESS"
    assert line.task == "config.tasks.ping"
    assert line.duration_ms >= 0
    assert task_id_var.get() is None  # reset once the task is over


@shared_task(name="tests.deploy.always_fails")
def always_fails() -> None:
    raise RuntimeError("this task always fails")


@shared_task(name="tests.deploy.fails_once", bind=True, max_retries=1)
def fails_once(self) -> str:
    if not self.request.retries:
        raise self.retry(countdown=0)
    return "done"


def test_a_failed_task_is_logged_as_an_error(caplog):
    with caplog.at_level(logging.INFO, logger="mlaudit.task"):
        always_fails.apply(throw=False)  # as in a worker: the failure is recorded, not raised
    (line,) = [r for r in caplog.records if r.name == "mlaudit.task"]
    assert (line.state, line.levelname) == ("FAILURE", "ERROR")


def test_a_retried_task_is_logged_as_a_warning_then_its_outcome(caplog):
    with caplog.at_level(logging.INFO, logger="mlaudit.task"):
        fails_once.apply(throw=False)
    lines = [(r.state, r.levelname) for r in caplog.records if r.name == "mlaudit.task"]
    assert lines == [("RETRY", "WARNING"), ("SUCCESS", "INFO")]
