"""docker-compose.yml, .env.example and the image recipe, checked without a container engine."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from importlib.metadata import packages_distributions

import yaml
from django.conf import settings

from tests.deploy.conftest import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_SERVICES = {"migrate", "web", "worker", "beat"}
LOCAL_PACKAGES = {"config", "rubric", "audits", "evidence", "integrations"}


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def env_example_names() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))


def test_docker_compose_1_29_validates_the_file_with_the_example_env(tmp_path):
    # `env_file: .env` must exist, so the project directory is a scratch one holding a copy of .env.example.
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    # The demo profile includes every service, so one run validates them all.
    command = ["docker-compose", "-f", str(COMPOSE_FILE), "--project-directory", str(tmp_path)]
    result = subprocess.run(
        [*command, "--profile", "demo", "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_every_long_running_service_has_a_health_check_and_restarts():
    services = compose()["services"]
    assert {"db", "redis", "web", "worker", "beat", "migrate", "mlflow"} <= set(services)
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), name
        if name != "migrate":
            assert service["restart"] == "unless-stopped", name


def test_app_services_share_one_image_and_wait_for_the_migrations():
    services = compose()["services"]
    assert {services[name]["image"] for name in APP_SERVICES} == {"mlaudit:${MLAUDIT_IMAGE_TAG:-latest}"}
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in APP_SERVICES - {"migrate"}:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["env_file"] == ".env"
        assert services[name]["environment"]["DEBUG"] == "false"


def test_the_web_port_is_published_on_localhost_only_by_default():
    assert compose()["services"]["web"]["ports"] == ["${MLAUDIT_BIND:-127.0.0.1}:${MLAUDIT_PORT:-8000}:8000"]


def test_the_mlflow_demo_starts_only_with_its_profile():
    assert compose()["services"]["mlflow"]["profiles"] == ["demo"]


def test_env_example_names_every_variable_the_compose_file_reads():
    read = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE_FILE.read_text())) - {
        "MLAUDIT_IMAGE_TAG",
        "MLFLOW_IMAGE_TAG",
    }
    assert read - env_example_names() == set()


def test_readme_configuration_documents_every_variable_of_env_example():
    readme = (ROOT / "README.md").read_text()
    compose_only = {
        "POSTGRES_PASSWORD",
        "MLAUDIT_BIND",
        "MLAUDIT_PORT",
        "CELERY_WORKER_CONCURRENCY",
        "COMPOSE_PROFILES",
    }
    undocumented = {name for name in env_example_names() if f"`{name}`" not in readme}
    assert undocumented == set()
    assert compose_only <= env_example_names()


def test_the_image_installs_every_third_party_app_from_pyproject():
    # The Dockerfile installs uv.lock without extras ([project].dependencies); an app missing there breaks the image.
    declared = {
        re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    providers = packages_distributions()
    missing = set()
    for app in settings.INSTALLED_APPS:
        top = app.split(".")[0]
        if top in LOCAL_PACKAGES or top == "django":
            continue
        distributions = {name.lower().replace("_", "-") for name in providers.get(top, [])}
        if not distributions & declared:
            missing.add(app)
    assert missing == set()


def test_the_image_runs_as_a_non_root_user_and_bakes_in_no_secret():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER mlaudit$", dockerfile, re.MULTILINE)
    assert "SECRET_KEY=" not in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored
    assert ".git" in ignored
