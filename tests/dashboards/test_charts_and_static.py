"""The figures are valid Plotly figures, and plotly.js comes from our own static files."""

import json
import re

import plotly.graph_objects as go
import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import translation

from audits.dashboards.staticfiles import PLOTLY_JS_VERSION, PLOTLY_LOCALE_PATHS, PLOTLY_STATIC_PATH
from tests.dashboards.conftest import AUTOMATED, MANUAL, days_ago, submit_audit

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(client, manager, project, codes, known_statuses):
    first = submit_audit(project=project, actor=manager, statuses={codes[0]: MANUAL}, when=days_ago(30))
    second = submit_audit(project=project, actor=manager, statuses=known_statuses, when=days_ago(2))
    client.force_login(manager)
    return {
        "portfolio": client.get(reverse("dashboards:portfolio")),
        "trend": client.get(reverse("dashboards:project-trend", args=[project.slug])),
        "result": client.get(reverse("dashboards:audit-result", args=[second.pk])),
        "compare": client.get(reverse("dashboards:compare", args=[project.slug]) + f"?a={first.pk}&b={second.pk}"),
    }


def embedded_figures(html: str) -> list[dict]:
    blobs = re.findall(r'<script id="[^"]+-spec" type="application/json">(.*?)</script>', html, re.S)
    return [json.loads(blob) for blob in blobs]


@pytest.mark.parametrize("page", ["portfolio", "trend", "result", "compare"])
def test_every_embedded_figure_is_a_valid_plotly_figure(pages, page):
    specs = embedded_figures(pages[page].content.decode())

    assert specs, f"no chart on the {page} page"
    for spec in specs:
        go.Figure(spec["figure"])  # raises on any property Plotly does not know
        assert spec["config"]["responsive"] is True


@pytest.mark.parametrize("page", ["portfolio", "trend", "result", "compare"])
def test_pages_load_plotly_from_our_static_files_and_nothing_from_elsewhere(pages, page):
    html = pages[page].content.decode()

    assert f'src="/static/{PLOTLY_STATIC_PATH}"' in html
    external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', html)
    assert external == []


def test_embedded_json_cannot_close_its_script_element(client, manager, team, codes):
    from audits.models import Project

    project = Project.objects.create(team=team, name="</script><script>alert(1)</script>", slug="sneaky")
    submit_audit(project=project, actor=manager, statuses={codes[0]: AUTOMATED})
    client.force_login(manager)

    html = client.get(reverse("dashboards:portfolio")).content.decode()

    assert "<script>alert(1)" not in html
    heatmap = next(spec for spec in embedded_figures(html) if spec["figure"]["data"][0]["type"] == "heatmap")
    assert heatmap["figure"]["data"][0]["x"] == ["</script><script>alert(1)</script>"]


def test_the_vendored_bundle_is_the_plotly_js_version_the_python_package_builds_figures_for():
    import plotly.offline

    path = finders.find(PLOTLY_STATIC_PATH)

    assert path and path.endswith("plotly-cartesian.min.js")
    with open(path, encoding="utf-8") as bundle:
        header = bundle.read(200)
    assert f"plotly.js (cartesian - minified) v{PLOTLY_JS_VERSION}" in header
    assert plotly.offline.get_plotlyjs_version() == PLOTLY_JS_VERSION


def test_the_charts_use_only_trace_types_the_cartesian_bundle_carries(pages):
    # plotly.js's dist README lists the cartesian bundle's trace modules.
    cartesian = {"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image"}
    cartesian |= {"pie", "scatter", "scatterternary", "violin"}
    used = {
        trace["type"]
        for response in pages.values()
        for spec in embedded_figures(response.content.decode())
        for trace in spec["figure"]["data"]
    }

    assert used and used <= cartesian


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


@pytest.mark.parametrize(
    "url",
    ["/", "/audits/1/result/", "/projects/search-ranking/trend/", "/projects/search-ranking/compare/"],
)
def test_every_dashboard_page_sends_anonymous_visitors_to_sign_in(client, project, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account:login"))
