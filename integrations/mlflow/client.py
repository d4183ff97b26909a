"""A small client for MLflow's documented REST API (/api/2.0/mlflow/...).

Why not the `mlflow` package: its client reads credentials from process-wide environment variables
and caches stores per URI, which is wrong for a worker serving many connections with their own
credentials, and it weighs hundreds of megabytes. This client carries its credentials per instance,
guards every outbound request (scheme, host lists, link-local and metadata addresses checked when the
socket connects, same-host redirects only; see outbound.py), puts a timeout on every call and retries
connection errors and 429/502/503/504 with urllib3's Retry (backoff, jitter, Retry-After).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urljoin, urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from integrations.mlflow import outbound

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3
ARTIFACT_READ_LIMIT = 1_000_000  # bytes of one artifact (an MLmodel file, a small report) mlaudit reads
MAX_DETAIL = 300  # characters of an MLflow error message repeated in ours
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


class ArtifactTooLarge(MlflowError):
    """The artifact is bigger than mlaudit reads; the sync records that instead of the content."""

    kind = "artifact_too_large"


@dataclass(frozen=True)
class Credentials:
    auth_type: str = "none"
    username: str = ""
    secret: str = ""

    def __repr__(self) -> str:  # never let a secret reach a log line or a traceback
        return f"Credentials(auth_type={self.auth_type!r}, username={self.username!r}, secret=***)"


def check_url(url: str) -> None:
    """Refuse URLs mlaudit must not call: other schemes, and hosts the address policy refuses
    (outbound.check_destination, on every address the host resolves to). Every request is checked
    again when its socket connects."""
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
    try:
        outbound.resolve_checked(host, port)
    except outbound.RefusedAddress as exc:
        raise UnsafeUrl(exc.message) from None
    except (OSError, UnicodeError, ValueError):
        raise MlflowUnavailable(_("The host name {host} does not resolve.").format(host=host)) from None


def to_float(value: Any) -> float:
    # MLflow's JSON writes NaN and infinities as strings.
    if isinstance(value, str):
        return float(value.replace("Infinity", "inf"))
    return float(value)


class MlflowReader(Protocol):
    """What a sync reads from a tracking server. ``MlflowClient`` is the one implementation; the sync is typed
    against this so what it depends on is written down (and a stand-in for it would be checked by mypy)."""

    def get_experiment(self, name_or_id: str) -> dict[str, Any]: ...

    def iter_run_pages(self, experiment_ids: list[str], *, page_size: int = ...) -> Iterator[list[dict]]: ...

    def get_run(self, run_id: str) -> dict[str, Any]: ...

    def list_run_artifacts(self, run_id: str, path: str = "") -> list[dict[str, Any]]: ...

    def metric_histories(self, run_ids: list[str], key: str) -> dict[str, list[float]]: ...

    def get_registered_model(self, name: str) -> dict[str, Any]: ...

    def search_model_versions(self, name: str) -> list[dict[str, Any]]: ...

    def model_version_artifact_uri(self, name: str, version: str | int) -> str: ...

    def list_artifacts(self, artifact_uri: str) -> list[dict[str, Any]]: ...

    def read_artifact_text(self, artifact_uri: str, relative: str, *, limit: int = ...) -> str: ...


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
        self.requests_made = 0
        self.session = outbound.guarded_session(
            retries=self.retries, backoff=self.backoff_base, verify=verify_tls, on_attempt=self._count_attempt
        )
        self.session.headers["User-Agent"] = "mlaudit"
        if self.credentials.auth_type == "basic":
            self.session.auth = (self.credentials.username, self.credentials.secret)
        elif self.credentials.auth_type == "token":
            self.session.headers["Authorization"] = f"Bearer {self.credentials.secret}"

    def _count_attempt(self) -> None:
        self.requests_made += 1

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> MlflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Transport ---------------------------------------------------------------

    def _send(
        self, method: str, path: str, *, params: Any = None, json: Any = None, stream: bool = False
    ) -> requests.Response:
        """One request, with the adapter's retries, following redirects on the same host only.
        Raises MlflowUnavailable when the server cannot be reached, UnsafeUrl when the address is refused."""
        url = urljoin(self.base_url, path)
        origin = urlsplit(self.base_url)[:2]
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                response = self.session.request(
                    method, url, params=params, json=json, timeout=self.timeout, allow_redirects=False, stream=stream
                )
            except outbound.RefusedAddress as exc:
                raise UnsafeUrl(exc.message) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise MlflowUnavailable(
                    _("Could not reach {server}: {error}.").format(server=self._where(), error=type(exc).__name__)
                ) from None
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

    def _unavailable(self, response: requests.Response) -> MlflowUnavailable:
        """429 or 5xx after the adapter's retries ran out."""
        detail = self._detail(response) or _(", which is not an MLflow error response")
        error = MlflowUnavailable(
            _("{server} answered {status}{detail}.").format(
                server=self._where(), status=response.status_code, detail=detail
            ),
            status=response.status_code,
        )
        error.retry_after = outbound.MlflowRetry().get_retry_after(response.raw) or 0.0
        return error

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> dict[str, Any]:
        response = self._send(method, path, params=params, json=json)
        if response.status_code == 429 or response.status_code >= 500:
            raise self._unavailable(response)
        return self._parse(response)

    def _where(self) -> str:
        return _("the MLflow server at {host}").format(host=urlsplit(self.base_url).netloc)

    @staticmethod
    def _detail(response: requests.Response) -> str:
        """MLflow's own error message, and nothing else: whatever else answered (a proxy, another internal
        service) may have put anything in its body, and this text is shown to whoever tests the connection."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if not isinstance(body, dict) or not isinstance(body.get("error_code"), str):
            return ""
        message = str(body.get("message", "")).strip()[:MAX_DETAIL]
        return f": {message}" if message else ""

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

    def read_artifact_text(self, artifact_uri: str, relative: str, *, limit: int = ARTIFACT_READ_LIMIT) -> str:
        """The artifact as text, streamed: past `limit` bytes the download stops and ArtifactTooLarge is raised
        (a truncated file would be misread)."""
        path = self._artifact_path(artifact_uri)
        url = f"api/2.0/mlflow-artifacts/artifacts/{quote(path)}/{quote(relative)}"
        response = self._send("GET", url, stream=True)
        if response.status_code == 200:
            with response:
                chunks, size = [], 0
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    size += len(chunk)
                    if size > limit:
                        raise ArtifactTooLarge(
                            _("{file} is larger than {limit} bytes; not read.").format(file=relative, limit=limit)
                        )
                    chunks.append(chunk)
            return b"".join(chunks).decode(response.encoding or "utf-8", errors="replace")
        if response.status_code == 429 or response.status_code >= 500:
            raise self._unavailable(response)
        self._parse(response)
        raise MlflowNotFound(
            _("{file} not found in {uri}.").format(file=relative, uri=artifact_uri), status=response.status_code
        )
