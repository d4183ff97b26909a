"""A real OpenID Connect provider for the SSO tests: the `oidc-provider` npm package run by node (server.mjs).

Started once per test session on a free 127.0.0.1 port. Its npm dependencies are installed from the committed
package-lock.json (`npm ci`) the first time, here or by `make test`. Tests change what it says through files:
`set_account` (claims and groups of a login, read at every sign-in) and `tamper` (the ID token's fault).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

FOLDER = Path(__file__).parent / "provider"
CLIENT_ID = "mlaudit-tests"
CLIENT_SECRET = "test-provider-client-secret"
START_TIMEOUT = 30.0


def npm_install() -> None:
    """Install server.mjs's dependencies exactly as locked, unless that install is already there. A lock file
    keeps pytest-xdist workers from running `npm ci` in the same folder at once."""
    installed = FOLDER / "node_modules" / ".package-lock.json"
    if installed.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("The SSO tests need node and npm (Debian: apt-get install nodejs npm).")
    with (FOLDER / ".npm-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not installed.exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FOLDER, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OidcTestProvider:
    def __init__(self, *, state_dir: Path, relying_party_url: str) -> None:
        self.state_dir = state_dir
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.relying_party_url = relying_party_url.rstrip("/")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OidcTestProvider:
        npm_install()
        self.reset()
        client = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"{self.relying_party_url}/account/sso/callback/"],
            "post_logout_redirect_uris": [f"{self.relying_party_url}/account/login/"],
            "token_endpoint_auth_method": "client_secret_post",
        }
        env = {
            **os.environ,
            "PORT": str(self.port),
            "OIDC_TEST_STATE": str(self.state_dir),
            "OIDC_TEST_CLIENTS": json.dumps([client]),
        }
        self.log = (self.state_dir / "provider.log").open("wb")
        self.process = subprocess.Popen(
            [shutil.which("node") or "node", "server.mjs"],
            cwd=FOLDER,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The test OIDC provider exited: {(self.state_dir / 'provider.log').read_text()}")
            try:
                if requests.get(self.discovery_url, timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("The test OIDC provider did not answer within 30 seconds.")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        self.log.close()

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def _write(self, name: str, value: Any) -> None:
        path = self.state_dir / name
        path.with_suffix(".tmp").write_text(json.dumps(value))
        path.with_suffix(".tmp").replace(path)  # never half-written when the provider reads it

    def reset(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self._write("accounts.json", self.accounts)
        self._write("tamper.json", {})

    def set_account(self, login: str, **claims: Any) -> None:
        """The provider's account `login` (its subject) with these claims, e.g. groups=[...]."""
        self.accounts[login] = claims
        self._write("accounts.json", self.accounts)

    def tamper(self, id_token: str | None) -> None:
        """What the token endpoint does to ID tokens: "expired", "wrong_key", "wrong_audience" or None."""
        self._write("tamper.json", {"id_token": id_token} if id_token else {})
