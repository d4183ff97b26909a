"""Pages travel gzip-compressed to browsers that accept it; the API's JSON does not."""

import gzip
import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_html_pages_are_sent_gzip_compressed_to_browsers_that_accept_it(client, manager, project):
    client.force_login(manager)

    response = client.get(reverse("dashboards:portfolio"), HTTP_ACCEPT_ENCODING="gzip, br")

    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert b"<!DOCTYPE html>" in gzip.decompress(response.content)


def test_api_json_is_sent_as_it_is(client, manager, project):
    client.force_login(manager)

    response = client.get("/api/v1/projects/", HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert json.loads(response.content)
