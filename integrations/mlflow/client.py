"""A small client for MLflow's documented REST API (/api/2.0/mlflow/...).

Why not the `mlflow` package: its client reads credentials from process-wide environment variables
and caches stores per URI, which is wrong for a worker serving many connections with their own
credentials, and it weighs hundreds of megabytes. This client carries its credentials per instance,
guards every outbound request (scheme, host lists, link-local and metadata addresses, same-host
redirects only), puts a timeout on every call and retries 429/5xx with backoff and jitter.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import random
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com"}
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
MAX_REDIRECTS = 3
RUN_PAGE_SIZE = 1000


class MlflowError(Exception):
    """Base of everything this client raises; `kind` is a stable, machine-readable reason."""

    kind = "error"
    transient = False

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class MlflowUnavailable(MlflowError):
    """Unreachable, timing out, rate limiting or answering 5xx: worth retrying later."""

    kind = "unreachable"
    transient = True
    retry_after: float = 0.0


class MlflowAuthError(MlflowError):
    kind = "auth"


class MlflowHostRejected(MlflowError):
    kind = "host_rejected"


class MlflowNotFound(MlflowError):
    kind = "not_found"


class MlflowBadResponse(MlflowError):
    kind = "bad_response"


class UnsafeUrl(MlflowError):
    kind = "refused_url"


class ArtifactUnavailable(MlflowError):
    """The artifact store is not served by the tracking server (not proxied): nothing to read."""

    kind = "artifact_unavailable"


@dataclass(frozen=True)
class Credentials:
    auth_type: str = "none"
    username: str = ""
    secret: str = ""

    def __repr__(self) -> str:  # never let a secret reach a log line or a traceback
        return f"Credentials(auth_type={self.auth_type!r}, username={self.username!r}, secret=***)"


def _host_matches(host: str, patterns: list[str]) -> bool:
    for raw in patterns:
        pattern = raw.strip().lower()
        if not pattern:
            continue
        if "/" in pattern:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(pattern, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if pattern.startswith("*."):
            pattern = pattern[1:]
        if host == pattern or (pattern.startswith(".") and host.endswith(pattern)):
            return True
    return False


def check_url(url: str) -> None:
    """Refuse URLs mlaudit must not call: other schemes, denied or unlisted hosts, link-local/metadata."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeUrl(_("This is not a valid URL.")) from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl(
            _("Only http and https tracking servers can be called, not “{scheme}”.").format(scheme=parts.scheme or url)
        )
    if not host:
        raise UnsafeUrl(_("The tracking URI has no host name."))
    allowed = settings.MLAUDIT_MLFLOW_ALLOWED_HOSTS
    denied = settings.MLAUDIT_MLFLOW_DENIED_HOSTS
    if _host_matches(host, denied):
        raise UnsafeUrl(_("The host {host} is on MLAUDIT_MLFLOW_DENIED_HOSTS.").format(host=host))
    if allowed and not _host_matches(host, allowed):
        raise UnsafeUrl(_("The host {host} is not on MLAUDIT_MLFLOW_ALLOWED_HOSTS.").format(host=host))
    if host in METADATA_HOSTS and not _host_matches(host, allowed):
        raise UnsafeUrl(_("The host {host} is a cloud metadata service; mlaudit does not call it.").format(host=host))
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise MlflowUnavailable(_("The host name {host} does not resolve.").format(host=host)) from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address in METADATA_ADDRESSES or address.is_link_local:
            if _host_matches(host, allowed) or _host_matches(str(address), allowed):
                continue
            raise UnsafeUrl(
                _(
                    "{host} resolves to the link-local or metadata address {address}; mlaudit refuses it "
                    "unless the host is listed in MLAUDIT_MLFLOW_ALLOWED_HOSTS."
                ).format(host=host, address=address)
            )


def _backoff(attempt: int, base: float, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(cap, base * (2**attempt)))


def to_float(value: Any) -> float:
    # MLflow's JSON writes NaN and infinities as strings.
    if isinstance(value, str):
        return float(value.replace("Infinity", "inf"))
    return float(value)


class MlflowClient:
    def __init__(
        self,
        tracking_uri: str,
        credentials: Credentials | None = None,
        *,
        verify_tls: bool = True,
        timeout: float | None = None,
        retries: int | None = None,
        backoff_base: float | None = None,
    ):
        self.base_url = tracking_uri.rstrip("/") + "/"
        check_url(self.base_url)
        self.credentials = credentials or Credentials()
        self.timeout = timeout if timeout is not None else settings.MLAUDIT_MLFLOW_TIMEOUT
        self.retries = retries if retries is not None else settings.MLAUDIT_MLFLOW_HTTP_RETRIES
        self.backoff_base = backoff_base if backoff_base is not None else settings.MLAUDIT_MLFLOW_HTTP_BACKOFF
        self.session = requests.Session()
        self.session.verify = verify_tls
        self.session.trust_env = False  # no proxies or .netrc credentials picked up from the worker's env
        self.session.headers["User-Agent"] = "mlaudit"
        if self.credentials.auth_type == "basic":
            self.session.auth = (self.credentials.username, self.credentials.secret)
        elif self.credentials.auth_type == "token":
            self.session.headers["Authorization"] = f"Bearer {self.credentials.secret}"
        self.requests_made = 0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> MlflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Transport ---------------------------------------------------------------

    def _send(self, method: str, path: str, *, params: Any = None, json: Any = None) -> requests.Response:
        url = urljoin(self.base_url, path)
        origin = urlsplit(self.base_url)[:2]
        for _hop in range(MAX_REDIRECTS + 1):
            self.requests_made += 1
            response = self.session.request(
                method, url, params=params, json=json, timeout=self.timeout, allow_redirects=False
            )
            if not response.is_redirect:
                return response
            target = urljoin(url, response.headers.get("Location", ""))
            if urlsplit(target)[:2] != origin:
                raise UnsafeUrl(
                    _("The server redirected to another host ({host}); not followed.").format(
                        host=urlsplit(target).netloc
                    )
                )
            url, params = target, None
        raise MlflowBadResponse(_("The server redirected too many times."))

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> dict[str, Any]:
        last: MlflowError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                delay = _backoff(attempt - 1, self.backoff_base)
                if isinstance(last, MlflowUnavailable) and last.retry_after:
                    delay = min(last.retry_after, 30.0)
                time.sleep(delay)
            try:
                response = self._send(method, path, params=params, json=json)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = MlflowUnavailable(
                    _("Could not reach {server}: {error}.").format(server=self._where(), error=type(exc).__name__)
                )
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last = MlflowUnavailable(
                    _("{server} answered {status}{detail}.").format(
                        server=self._where(), status=response.status_code, detail=self._detail(response)
                    ),
                    status=response.status_code,
                )
                retry_after = response.headers.get("Retry-After", "")
                last.retry_after = float(retry_after) if retry_after.isdigit() else 0.0
                continue
            return self._parse(response)
        assert last is not None
        raise last

    def _where(self) -> str:
        return _("the MLflow server at {host}").format(host=urlsplit(self.base_url).netloc)

    @staticmethod
    def _detail(response: requests.Response) -> str:
        try:
            message = response.json().get("message", "")
        except ValueError:
            message = response.text[:200]
        return f": {message.strip()}" if message and message.strip() else ""

    def _parse(self, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        if status == 403 and "Invalid Host header" in response.text:
            raise MlflowHostRejected(
                _(
                    "{server} refused the Host header “{host}” (HTTP 403). MLflow 3 only answers host names it "
                    "was started with: add this host to the server's --allowed-hosts option "
                    "(or MLFLOW_SERVER_ALLOWED_HOSTS)."
                ).format(server=self._where(), host=urlsplit(self.base_url).netloc),
                status=403,
            )
        if status in (401, 403):
            raise MlflowAuthError(
                _("{server} refused the credentials (HTTP {status}){detail}.").format(
                    server=self._where(), status=status, detail=self._detail(response)
                ),
                status=status,
            )
        if status == 404:
            raise MlflowNotFound(
                _("Not found on {server}{detail}.").format(server=self._where(), detail=self._detail(response)),
                status=404,
            )
        try:
            body = response.json()
        except ValueError:
            raise MlflowBadResponse(
                _("{server} answered HTTP {status} with something that is not MLflow JSON.").format(
                    server=self._where(), status=status
                ),
                status=status,
            ) from None
        if status >= 400:
            if isinstance(body, dict) and body.get("error_code") == "RESOURCE_DOES_NOT_EXIST":
                raise MlflowNotFound(str(body.get("message", "Not found.")), status=status)
            raise MlflowBadResponse(
                _("{server} answered HTTP {status}{detail}.").format(
                    server=self._where(), status=status, detail=self._detail(response)
                ),
                status=status,
            )
        if not isinstance(body, dict):
            raise MlflowBadResponse(
                _("{server} answered with unexpected JSON.").format(server=self._where()), status=status
            )
        return body

    # Tracking ----------------------------------------------------------------

    def check(self) -> None:
        """One cheap authenticated call: proves reachability, credentials and the Host header."""
        self.request("POST", "api/2.0/mlflow/experiments/search", json={"max_results": 1})

    def get_experiment(self, name_or_id: str) -> dict[str, Any]:
        """An experiment by name, or by id when the text is all digits and no experiment has that name."""
        try:
            body = self.request("GET", "api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name_or_id})
            return dict(body["experiment"])
        except MlflowNotFound:
            if not name_or_id.isdigit():
                raise MlflowNotFound(
                    _("No experiment named “{name}” on {server}.").format(name=name_or_id, server=self._where()),
                    status=404,
                ) from None
        try:
            body = self.request("GET", "api/2.0/mlflow/experiments/get", params={"experiment_id": name_or_id})
        except (MlflowNotFound, MlflowBadResponse):
            raise MlflowNotFound(
                _("No experiment named or numbered “{name}” on {server}.").format(name=name_or_id, server=self._where())
            ) from None
        return dict(body["experiment"])

    def iter_run_pages(self, experiment_ids: list[str], *, page_size: int = RUN_PAGE_SIZE) -> Iterator[list[dict]]:
        token: str | None = None
        while True:
            payload: dict[str, Any] = {
                "experiment_ids": experiment_ids,
                "max_results": page_size,
                "run_view_type": "ACTIVE_ONLY",
                "order_by": ["attributes.start_time DESC"],
            }
            if token:
                payload["page_token"] = token
            body = self.request("POST", "api/2.0/mlflow/runs/search", json=payload)
            yield list(body.get("runs", []))
            token = body.get("next_page_token")
            if not token:
                return

    def get_run(self, run_id: str) -> dict[str, Any]:
        body = self.request("GET", "api/2.0/mlflow/runs/get", params={"run_id": run_id})
        return dict(body["run"])

    def search_runs(self, experiment_ids: list[str], *, page_size: int = RUN_PAGE_SIZE) -> list[dict]:
        return [run for page in self.iter_run_pages(experiment_ids, page_size=page_size) for run in page]

    def list_run_artifacts(self, run_id: str, path: str = "") -> list[dict[str, Any]]:
        """One directory of a run's artifacts (the tracking server lists them from its artifact store)."""
        params = {"run_id": run_id, **({"path": path} if path else {})}
        body = self.request("GET", "api/2.0/mlflow/artifacts/list", params=params)
        return list(body.get("files", []))

    def metric_history(self, run_id: str, key: str) -> list[float]:
        values: list[float] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"run_id": run_id, "metric_key": key, "max_results": 25000}
            if token:
                params["page_token"] = token
            body = self.request("GET", "api/2.0/mlflow/metrics/get-history", params=params)
            values.extend(to_float(m.get("value", math.nan)) for m in body.get("metrics", []))
            token = body.get("next_page_token")
            if not token:
                return values

    def metric_histories(self, run_ids: list[str], key: str) -> dict[str, list[float]]:
        """One metric's history for up to 100 runs in one request (the UI's bulk endpoint, MLflow >= 2);
        falls back to one request per run where that endpoint is missing or the answer was truncated."""
        limit = 25000
        try:
            body = self.request(
                "GET",
                "ajax-api/2.0/mlflow/metrics/get-history-bulk",
                params={"run_id": run_ids[:100], "metric_key": key, "max_results": limit},
            )
        except (MlflowNotFound, MlflowBadResponse):
            body = None
        if body is None or len(body.get("metrics", [])) >= limit or len(run_ids) > 100:
            return {run_id: self.metric_history(run_id, key) for run_id in run_ids}
        histories: dict[str, list[float]] = {run_id: [] for run_id in run_ids}
        for metric in body.get("metrics", []):
            histories.setdefault(str(metric.get("run_id", "")), []).append(to_float(metric.get("value", math.nan)))
        return histories

    # Model registry ------------------------------------------------------------

    def get_registered_model(self, name: str) -> dict[str, Any]:
        try:
            body = self.request("GET", "api/2.0/mlflow/registered-models/get", params={"name": name})
        except MlflowNotFound:
            raise MlflowNotFound(
                _("No registered model named “{name}” on {server}.").format(name=name, server=self._where()), status=404
            ) from None
        return dict(body["registered_model"])

    def search_model_versions(self, name: str) -> list[dict[str, Any]]:
        versions: list[dict[str, Any]] = []
        token: str | None = None
        escaped = name.replace("'", "\\'")
        while True:
            params: dict[str, Any] = {"filter": f"name='{escaped}'", "max_results": 1000}
            if token:
                params["page_token"] = token
            body = self.request("GET", "api/2.0/mlflow/model-versions/search", params=params)
            versions.extend(body.get("model_versions", []))
            token = body.get("next_page_token")
            if not token:
                return versions

    def model_version_artifact_uri(self, name: str, version: str | int) -> str:
        body = self.request(
            "GET", "api/2.0/mlflow/model-versions/get-download-uri", params={"name": name, "version": str(version)}
        )
        return str(body.get("artifact_uri", ""))

    # Artifacts (only when the server proxies them: mlflow-artifacts: URIs) ----------

    def _artifact_path(self, artifact_uri: str) -> str:
        parts = urlsplit(artifact_uri)
        if parts.scheme != "mlflow-artifacts":
            raise ArtifactUnavailable(
                _(
                    "Artifacts live at {scheme}:…, which the tracking server does not proxy; "
                    "start it with --serve-artifacts to let mlaudit read them."
                ).format(scheme=parts.scheme or "a local path")
            )
        return parts.path.strip("/")

    def list_artifacts(self, artifact_uri: str) -> list[dict[str, Any]]:
        path = self._artifact_path(artifact_uri)
        body = self.request("GET", "api/2.0/mlflow-artifacts/artifacts", params={"path": path})
        return list(body.get("files", []))

    def read_artifact_text(self, artifact_uri: str, relative: str, *, limit: int = 1_000_000) -> str:
        path = self._artifact_path(artifact_uri)
        url = f"api/2.0/mlflow-artifacts/artifacts/{quote(path)}/{quote(relative)}"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(_backoff(attempt - 1, self.backoff_base))
            try:
                response = self._send("GET", url)
            except (requests.ConnectionError, requests.Timeout):
                continue
            if response.status_code >= 500 or response.status_code == 429:
                continue
            if response.status_code == 200:
                return response.text[:limit]
            self._parse(response)
            raise MlflowNotFound(
                _("{file} not found in {uri}.").format(file=relative, uri=artifact_uri), status=response.status_code
            )
        raise MlflowUnavailable(_("Could not read {file} from {server}.").format(file=relative, server=self._where()))
