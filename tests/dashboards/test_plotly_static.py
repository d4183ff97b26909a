"""plotly.js and its Spanish locale come from our own static files, and only pages with a chart load them."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import translation

from audits.dashboards.staticfiles import PLOTLY_JS_VERSION, PLOTLY_LOCALE_PATHS, PLOTLY_STATIC_PATH
from tests.dashboards.conftest import embedded_figures

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["portfolio", "trend", "result", "compare"])
def test_pages_load_plotly_from_our_static_files_and_nothing_from_elsewhere(pages, page):
    html = pages[page].content.decode()

    assert f'src="/static/{PLOTLY_STATIC_PATH}"' in html
    external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', html)
    assert external == []


def test_the_vendored_bundle_is_the_plotly_js_version_the_python_package_builds_figures_for():
    import plotly.offline

    path = finders.find(PLOTLY_STATIC_PATH)

    assert path and path.endswith("plotly-cartesian.min.js")
    with open(path, encoding="utf-8") as bundle:
        header = bundle.read(200)
    assert f"plotly.js (cartesian - minified) v{PLOTLY_JS_VERSION}" in header
    assert plotly.offline.get_plotlyjs_version() == PLOTLY_JS_VERSION


def test_pages_without_a_chart_do_not_load_plotly(client, manager, project):
    client.force_login(manager)

    html = client.get(reverse("audits:project-detail", args=[project.slug])).content.decode()

    assert "vendor/plotly/" not in html


def test_spanish_pages_load_the_plotly_locale_and_name_it_in_the_chart_config(pages, client):
    english = pages["trend"].content.decode()
    assert PLOTLY_LOCALE_PATHS["es"] not in english
    assert all("locale" not in spec["config"] for spec in embedded_figures(english))

    with translation.override("es"):  # requests activate Spanish in this thread; restored after
        client.post(reverse("set_language"), {"language": "es", "next": "/"})
        spanish = client.get(pages["trend"].wsgi_request.path).content.decode()

    plotly_at = spanish.index(f'src="/static/{PLOTLY_STATIC_PATH}"')
    locale_at = spanish.index(f'src="/static/{PLOTLY_LOCALE_PATHS["es"]}"')
    assert plotly_at < locale_at < spanish.index('src="/static/js/charts.js"')  # deferred scripts run in order
    specs = embedded_figures(spanish)
    assert specs and all(spec["config"]["locale"] == "es" for spec in specs)
    assert "%{x|%-d %b %Y}" in specs[0]["figure"]["data"][-1]["hovertemplate"]


def test_collectstatic_copies_the_vendored_plotly_files(tmp_path, settings):
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)

    assert (tmp_path / PLOTLY_STATIC_PATH).is_file()
    assert (tmp_path / PLOTLY_LOCALE_PATHS["es"]).is_file()
    assert not (tmp_path / "vendor" / "plotly" / "plotly.min.js").exists()
