"""Every dashboard page sends anonymous visitors to the sign-in page."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    ["/", "/audits/1/result/", "/projects/search-ranking/trend/", "/projects/search-ranking/compare/"],
)
def test_every_dashboard_page_sends_anonymous_visitors_to_sign_in(client, project, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account:login"))
