"""The simulated users of the load benchmark (locust, driven from Python: no locustfile, no web UI).

Import this module before anything else: importing locust monkey-patches the standard library for
gevent, which must happen before sockets and ssl are in use.

Every user is signed in with its own session and mixes, with think time between actions, the
portfolio, a project's trend, its team's draft questionnaires, answer saves (the questionnaire's
autosave with the version it last saw, and the API's bulk PATCH) and the bare signed-in floor view.
It talks to gunicorn as the TLS proxy would (X-Forwarded-Proto: https, same-origin Origin header),
follows no redirect (a redirect means the session was lost: an unexpected answer) and records:
each acknowledged save, each answer's outcome (a 409 conflict on an autosave is expected and counted),
and the first examples of each failure.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
import locust  # before anything opens a socket: importing locust monkey-patches for gevent
from locust import FastHttpUser, between
from locust.env import Environment

from bench.load_checks import FAILURE_PATH, FLOOR_PATH, Ack

STATUSES = ("not_done", "manual", "automated")
VERSION_RE = re.compile(r'data-item="([\w-]+)" data-version="(\d+)"')
FAILURES = ("server error", "connection error", "unexpected answer", "task exception")
EXAMPLES_PER_KIND = 3
REQUEST_ID_PREFIX = "bench."
# Relative frequency of each action of a user (AuditUser's methods of these names).
MIX = {"portfolio": 2, "trend": 2, "questionnaire": 2, "autosave": 5, "api_save": 1, "floor": 2}


@dataclass(frozen=True)
class UserPlan:
    """What one simulated user knows at its start (built by bench/load_seed.py)."""

    index: int
    cookie: str  # the session and CSRF cookies, as one Cookie header
    csrf_token: str
    own_drafts: tuple[int, ...]  # draft audits of the team it edits
    project_slugs: tuple[str, ...]  # every project it may see
    items: tuple[str, ...]  # the rubric's item codes


@dataclass
class Recorder:
    """Everything the users record, shared by all of them (one process, greenlets)."""

    plans: list[UserPlan]
    acks: list[Ack] = field(default_factory=list)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (request type, outcome) -> count
    examples: dict[str, list[str]] = field(default_factory=dict)
    serial: itertools.count[int] = field(default_factory=itertools.count)
    next_plan: int = 0
    measuring: bool = False  # after the warm-up: marks the requests' ids, to find their server times in the log

    def outcome(self, kind: str, outcome: str, detail: str = "") -> None:
        self.outcomes[(kind, outcome)] += 1
        if outcome in FAILURES:
            examples = self.examples.setdefault(outcome, [])
            if len(examples) < EXAMPLES_PER_KIND:
                examples.append(f"{kind}: {detail}"[:300])

    def failures(self) -> int:
        return sum(count for (_, outcome), count in self.outcomes.items() if outcome in FAILURES)


RECORDER: Recorder | None = None  # set by run_load for the users of one run


class AuditUser(FastHttpUser):
    abstract = True  # run_load makes the concrete class, with the think time and the optional failure task
    connection_timeout = 10.0
    network_timeout = 60.0  # gunicorn's own timeout

    def on_start(self) -> None:
        assert RECORDER is not None
        self.recorder = RECORDER
        self.plan = RECORDER.plans[RECORDER.next_plan % len(RECORDER.plans)]
        RECORDER.next_plan += 1
        origin = "https://" + str(self.host).split("://", 1)[1]
        # What the TLS proxy in front of gunicorn adds (production trusts one proxy: TRUSTED_PROXY_COUNT=1).
        proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}
        self.read_headers = {**proxy, "Cookie": self.plan.cookie}
        self.write_headers = {**self.read_headers, "X-CSRFToken": self.plan.csrf_token, "Origin": origin}
        self.audit: int | None = None
        self.versions: dict[str, int] = {}

    # The actions; MIX says how often each is chosen ----------------------------------------------

    def portfolio(self) -> None:
        self._send("portfolio", "GET", "/")

    def trend(self) -> None:
        self._send("trend", "GET", f"/projects/{random.choice(self.plan.project_slugs)}/trend/")

    def questionnaire(self) -> None:
        audit = random.choice(self.plan.own_drafts)
        status, body = self._send("questionnaire", "GET", f"/audits/{audit}/")
        if status == 200:
            self.audit = audit
            self.versions = {code: int(version) for code, version in VERSION_RE.findall(body)}
            if not self.versions:  # every save would then be based on version 0: a flood of false conflicts
                raise AssertionError(f"no answer versions (data-version) on the questionnaire of audit {audit}")

    def autosave(self) -> None:
        if self.audit is None:
            self.questionnaire()
            return
        code = random.choice(self.plan.items)
        answer = self._answer(code)
        payload = {**answer, "base_version": self.versions.get(code, 0)}
        del payload["item"]
        status, body = self._send(
            "autosave", "POST", f"/audits/{self.audit}/answers/{code}/", json=payload, expect=(200, 409)
        )
        if status == 200:
            version = int(json.loads(body)["answer"]["version"])
            self.recorder.acks.append(Ack(self.audit, code, answer["status"], answer["notes"], version))
            self.versions[code] = version
        elif status == 409:
            # Someone else saved this answer since this user's page showed it: take their version, as the page does.
            self.versions[code] = int(json.loads(body)["conflict"]["version"])

    def api_save(self) -> None:
        if self.audit is None:
            self.questionnaire()
            return
        entries = [self._answer(code) for code in random.sample(self.plan.items, k=random.randint(1, 3))]
        status, body = self._send("API save", "PATCH", f"/api/v1/audits/{self.audit}/answers/", json=entries)
        if status == 200:
            # Last writer wins here (no versions in the API): the response is read after the save and may show
            # a newer version written meanwhile, so these acknowledgements carry no version.
            self.recorder.acks.extend(Ack(self.audit, e["item"], e["status"], e["notes"]) for e in entries)
            self.versions.update({a["item"]: int(a["version"]) for a in json.loads(body)["answers"]})

    def floor(self) -> None:
        self._send("floor", "GET", FLOOR_PATH)

    def injected_failure(self) -> None:
        self._send("injected failure", "GET", FAILURE_PATH)

    # ------------------------------------------------------------------------------------------------

    def _answer(self, code: str) -> dict[str, Any]:
        status = random.choice(STATUSES)
        serial = next(self.recorder.serial)
        return {
            "item": code,
            "status": status,
            # Unique per save, so the database shows which acknowledged save an answer or history row holds.
            "notes": f"Reviewed by load user {self.plan.index + 1} (save {serial}): checked in the weekly review.",
            "evidence": [f"https://ci.example.com/load/{code}/{serial}"] if status == "automated" else [],
        }

    def _send(
        self, kind: str, method: str, path: str, *, json: Any = None, expect: tuple[int, ...] = (200,)
    ) -> tuple[int, str]:
        headers = self.read_headers if method == "GET" else self.write_headers
        # The id is logged with the request's time in the worker (config/logging.py): bench/load.py reads it back.
        phase = "m" if self.recorder.measuring else "w"
        headers = {
            **headers,
            "X-Request-ID": f"{REQUEST_ID_PREFIX}{phase}.{kind.replace(' ', '_')}.{next(self.recorder.serial)}",
        }
        with self.client.request(
            method, path, name=kind, headers=headers, json=json, allow_redirects=False, catch_response=True
        ) as response:
            status = int(response.status_code or 0)
            body = response.text or ""
            if status in expect and (status != 409 or '"conflict"' in body):
                response.success()
                self.recorder.outcome(kind, "conflict" if status == 409 else "ok")
            else:
                outcome = (
                    "connection error" if status == 0 else "server error" if status >= 500 else "unexpected answer"
                )
                detail = f"{method} {path} -> {status or response.error!r} {body[:120]!r}"
                self.recorder.outcome(kind, outcome, detail)
                response.failure(outcome)
        return status, body


@dataclass(frozen=True)
class TypeStats:
    requests: int
    rps: float
    median_ms: float
    p95_ms: float


@dataclass
class LoadRun:
    stats: dict[str, TypeStats]
    recorder: Recorder
    measured_seconds: float
    memory_start: dict[int, int]
    memory_end: dict[int, int]
    generator_saturated: bool  # locust's own CPU warning: the figures then understate the server


def run_load(
    host: str,
    plans: list[UserPlan],
    *,
    seconds: float,
    warmup: float,
    think: tuple[float, float],
    inject_error: bool,
    sample_memory: Callable[[], dict[int, int]],
) -> LoadRun:
    """Spawn one user per plan, let them warm up, then measure for `seconds` and stop them."""
    global RECORDER
    recorder = RECORDER = Recorder(plans=plans)
    tasks: dict[Callable[..., Any], int] = {getattr(AuditUser, name): weight for name, weight in MIX.items()}
    if inject_error:
        tasks[AuditUser.injected_failure] = 1
    user_class = type("SignedInUser", (AuditUser,), {"abstract": False, "wait_time": between(*think), "tasks": tasks})
    env = Environment(user_classes=[user_class], host=host)
    runner = env.create_local_runner()
    runner.start(len(plans), spawn_rate=max(1.0, len(plans) / max(warmup / 2, 0.5)))
    gevent.sleep(warmup)
    env.stats.reset_all()  # the figures cover the measured window only; outcomes and saves cover the whole run
    memory_start = sample_memory()
    recorder.measuring = True
    started = time.monotonic()
    gevent.sleep(seconds)
    memory_end = sample_memory()
    recorder.measuring = False
    measured = time.monotonic() - started
    stats = {
        entry.name: TypeStats(
            requests=entry.num_requests,
            rps=entry.num_requests / measured,
            median_ms=float(entry.median_response_time or 0),
            p95_ms=float(entry.get_response_time_percentile(0.95) or 0),
        )
        for entry in env.stats.entries.values()
    }
    runner.quit()
    for error in runner.exceptions.values():
        for _ in range(int(error["count"])):
            recorder.outcome("task", "task exception", str(error["msg"]))
    return LoadRun(stats, recorder, measured, memory_start, memory_end, bool(runner.cpu_warning_emitted))


__all__ = ["LoadRun", "Recorder", "TypeStats", "UserPlan", "locust", "run_load"]
