"""The embedded chart specs: valid Plotly figures, trace types the bundle carries, safe in their script element."""

import plotly.graph_objects as go
import pytest
from django.urls import reverse

from tests.dashboards.conftest import AUTOMATED, embedded_figures, submit_audit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["portfolio", "trend", "result", "compare"])
def test_every_embedded_figure_is_a_valid_plotly_figure(pages, page):
    specs = embedded_figures(pages[page].content.decode())

    assert specs, f"no chart on the {page} page"
    for spec in specs:
        go.Figure(spec["figure"])  # raises on any property Plotly does not know
        assert spec["config"]["responsive"] is True


def test_embedded_json_cannot_close_its_script_element(client, manager, team, codes):
    from audits.models import Project

    project = Project.objects.create(team=team, name="</script><script>alert(1)</script>", slug="sneaky")
    submit_audit(project=project, actor=manager, statuses={codes[0]: AUTOMATED})
    client.force_login(manager)

    html = client.get(reverse("dashboards:portfolio")).content.decode()

    assert "<script>alert(1)" not in html
    heatmap = next(spec for spec in embedded_figures(html) if spec["figure"]["data"][0]["type"] == "heatmap")
    assert heatmap["figure"]["data"][0]["x"] == ["</script><script>alert(1)</script>"]


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
