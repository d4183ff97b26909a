"""Shared fixtures: a team with a manager, an editor and a viewer; an outsider; staff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from audits.models import Membership, Project, Role, Team
from rubric.models import Rubric
from rubric.selectors import BUILTIN_SLUG

PASSWORD = "correct-horse-battery-staple"

# The Redis databases the suite uses, by the variable that names each; a second pytest-xdist worker gets
# its own so that workers never read each other's queues, counters or flushes.
REDIS_DEFAULTS = {
    "TEST_REDIS_URL": "redis://127.0.0.1:6379/15",
    "MLFLOW_TEST_REDIS_URL": "redis://127.0.0.1:6379/5",
    "DEPLOY_TEST_REDIS_URL": "redis://127.0.0.1:6379/6",
}


def _give_this_worker_its_own_redis_databases() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker.removeprefix("gw") or 0)
    if index == 0:
        return
    urls = {name: os.environ.get(name, default) for name, default in REDIS_DEFAULTS.items()}
    taken = {int(url.rsplit("/", 1)[1]) for url in urls.values()}
    spare = [database for database in range(1, 16) if database not in taken]  # 0 stays for `make run`
    mine = spare[(index - 1) * len(urls) : index * len(urls)]
    if len(mine) < len(urls):
        raise pytest.UsageError(f"Too many pytest-xdist workers: Redis has no spare databases for {worker}.")
    for (name, url), database in zip(urls.items(), mine, strict=True):
        os.environ[name] = f"{url.rsplit('/', 1)[0]}/{database}"


# Before the test modules are imported: several read their Redis URL at import.
_give_this_worker_its_own_redis_databases()

# What the `slow` marker covers: tests that start production processes (gunicorn, Celery workers, fault
# drills, load runs). `pytest -m "not slow"` is the quick loop while working; CI runs everything.
SLOW_TESTS = (
    "tests/deploy/",
    "tests/faults/",
    "tests/dashboards/test_page_weight.py",
    "tests/mlflow/test_worker.py",
    "tests/test_load_bench.py",
)
ROOT = Path(__file__).resolve().parent.parent


TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.relative_to(ROOT).as_posix().startswith(SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
        _serialize_every_transactional_test(item)


def _serialize_every_transactional_test(item: pytest.Item) -> None:
    """Every committing test restores the database from the serialized snapshot, not only some.

    A committing test without serialized rollback ends with a flush whose post_migrate signal creates the
    content types and permissions again, under new ids; a serialized one that runs next on the worker loads the
    snapshot's rows on top of them and fails on a duplicate key. A test that asks for serialized rollback
    inhibits that signal, so when all do, the order of the files no longer matters."""
    marker = item.get_closest_marker("django_db")
    kwargs = dict(marker.kwargs) if marker else {}
    committing = kwargs.get("transaction") or TRANSACTIONAL_FIXTURES & set(getattr(item, "fixturenames", ()))
    if committing and not kwargs.get("serialized_rollback"):
        item.add_marker(
            pytest.mark.django_db(**{**kwargs, "transaction": True, "serialized_rollback": True}), append=False
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With CI=true a skipped test fails the run: CI has every service, so a skip hides a missing one."""
    if os.environ.get("CI") != "true" or hasattr(session.config, "workerinput"):  # the controller decides
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        reporter.write_line(f"CI=true: {skipped} test(s) skipped; every test must run in CI.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def make_user(username: str, **extra: object):
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )


@pytest.fixture(scope="session", autouse=True)
def celery_baseline():
    """The Celery app's settings as the suite's Django settings give them, read before any test runs.

    Celery reads Django's settings once, at the first access of app.conf; a test that overrides them (a real
    broker, eager off) must not decide what every later test on that worker gets."""
    from config.celery import app

    return {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}


@pytest.fixture(autouse=True)
def celery_as_configured(celery_baseline):
    """After each test: the app's broker and eager mode as configured, and no broker connection pool left
    over (kombu keeps pools per URL; one a test closed answers "Acquire on closed pool" to the next).

    The app is made current again too: `shared_task` resolves each call through the thread's current app, so
    a test that built another Celery app (a client of a deployed worker) would otherwise receive every later
    test's tasks, on a pool reset() below has closed."""
    yield
    import kombu.pools

    from config.celery import app

    app.set_current()

    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()
    app.conf.update(celery_baseline)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The shared fixtures create five users per test; the production hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def default_language_after_each_test():
    """A page rendered in Spanish leaves the thread's language active; the next test starts in English."""
    yield
    from django.utils import translation

    translation.activate("en")


@pytest.fixture
def rubric(db) -> Rubric:
    found = Rubric.objects.filter(slug=BUILTIN_SLUG, version="2017").first()
    if found is None:
        # A transactional (live-server) test flushed the rows the data migration loaded; serialized rollback
        # cannot restore them once Playwright's event loop gives the test a fresh DB connection object.
        from rubric.loader import BUILTIN_RUBRIC, load_rubric_file

        load_rubric_file(BUILTIN_RUBRIC)
        found = Rubric.objects.get(slug=BUILTIN_SLUG, version="2017")
    return found


@pytest.fixture
def team(db, rubric) -> Team:
    # With the rubric: a live-server test that ran earlier on this worker may have flushed the data
    # migration's rubric, and audits started without naming one use it.
    return Team.objects.create(name="Ranking", slug="ranking")


@pytest.fixture
def manager(team):
    user = make_user("mara")
    Membership.objects.create(team=team, user=user, role=Role.MANAGER)
    return user


@pytest.fixture
def editor(team):
    user = make_user("eddie")
    Membership.objects.create(team=team, user=user, role=Role.EDITOR)
    return user


@pytest.fixture
def viewer(team):
    user = make_user("vera")
    Membership.objects.create(team=team, user=user, role=Role.VIEWER)
    return user


@pytest.fixture
def outsider(db):
    other = Team.objects.create(name="Elsewhere", slug="elsewhere")
    user = make_user("otto")
    Membership.objects.create(team=other, user=user, role=Role.MANAGER)
    return user


@pytest.fixture
def staff(db):
    return make_user("stella", is_staff=True)


@pytest.fixture
def project(team) -> Project:
    return Project.objects.create(team=team, name="Search ranking", slug="search-ranking")


# Real headless Chromium (Playwright's sync API) for @pytest.mark.browser tests ----------------------

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session (starting it is the slow part)."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls of fixtures stay synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh tab that may only talk to the live server. The test fails if the page logs a console
    error, throws, or tries to load anything from elsewhere (nothing may come from the internet)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    problems: list[str] = []

    def only_live_server(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            problems.append(f"outside request: {route.request.url}")
            route.abort()

    context.route("**/*", only_live_server)
    tab.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.problems = problems
    yield tab
    context.close()
    assert not problems, problems
