"""What a browser downloads for the portfolio from a production deployment (gunicorn, DEBUG off, collected
and compressed static files): at most 1.5 MB on a first visit, at most 100 KB on a repeat visit.

Bytes are what went over the wire (Chromium's encodedDataLength: compressed bodies plus headers).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from tests.deploy.conftest import ROOT, manage, production_database  # noqa: F401  # the fixture

pytestmark = pytest.mark.browser

FIRST_VISIT_MAX_BYTES = 1_500_000
REPEAT_VISIT_MAX_BYTES = 100_000
USERNAME, PASSWORD = "bench-manager", "a-long-password-for-the-page-weight-test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def production_server(production_database, tmp_path_factory) -> Iterator[str]:  # noqa: F811
    """gunicorn over plain http on loopback, with 60 projects of 3 submitted audits each."""
    _, env = production_database
    # Plain http on loopback, so no TLS redirect and cookies not limited to https; everything else as deployed.
    env = {**env, "SECURE_SSL_REDIRECT": "false", "SECURE_COOKIES": "false", "SECURE_HSTS_SECONDS": "0"}
    env["TRUSTED_PROXY_COUNT"] = "0"
    manage(env, "seed_benchmark", "--projects", "60", "--audits", "3", "--teams", "3")
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"user = get_user_model().objects.get(username='{USERNAME}'); "
        f"user.set_password('{PASSWORD}'); user.save()",
    )
    port = _free_port()
    log = tmp_path_factory.mktemp("weight") / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env={**env, "WEB_CONCURRENCY": "1"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"gunicorn did not answer:\n{log.read_text()}"
            time.sleep(0.2)
        yield url
    finally:
        server.kill()
        server.wait()


def visit(tab, network, url: str) -> int:
    """Load `url` until the network is idle; the bytes every response of the load transferred."""
    transferred: dict[str, int] = {}

    def finished(event: dict) -> None:
        transferred[event["requestId"]] = int(event["encodedDataLength"])

    network.on("Network.loadingFinished", finished)
    tab.goto(url, wait_until="networkidle")
    tab.wait_for_selector("#status-heatmap[data-drawn='true']", state="attached")
    network.remove_listener("Network.loadingFinished", finished)
    return sum(transferred.values())


def test_the_portfolio_weighs_at_most_1_5_mb_first_and_100_kb_again(browser, production_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    # Watched, not routed: Playwright turns the HTTP cache off while routes intercept requests.
    outside: list[str] = []
    tab.on("request", lambda request: request.url.startswith(production_server) or outside.append(request.url))
    tab.set_default_timeout(20_000)
    network = context.new_cdp_session(tab)
    network.send("Network.enable")
    try:
        tab.goto(production_server + "/account/login/")
        tab.fill("input[name=username]", USERNAME)
        tab.fill("input[name=password]", PASSWORD)
        tab.press("input[name=password]", "Enter")
        tab.wait_for_url(production_server + "/")
        # A first visit: nothing cached from the sign-in page or the redirect to the portfolio.
        network.send("Network.clearBrowserCache")

        first = visit(tab, network, production_server + "/")
        repeat = visit(tab, network, production_server + "/")
    finally:
        context.close()

    assert outside == []
    print(f"portfolio transferred {first} bytes on a first visit, {repeat} bytes on a repeat visit")
    assert first <= FIRST_VISIT_MAX_BYTES
    assert repeat <= REPEAT_VISIT_MAX_BYTES
