"""Client addresses behind the TLS proxy: what sign-in lockouts and API rate limits count by."""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.test import RequestFactory

from config.proxy import client_ip


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_trusted_proxy_the_connecting_address_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from("203.0.113.9", "10.9.9.9")) == "203.0.113.9"


def test_behind_one_proxy_the_address_it_appended_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client claimed 10.9.9.9; the proxy appended the address it really saw.
    assert client_ip(request_from("172.18.0.1", "10.9.9.9, 203.0.113.9")) == "203.0.113.9"
    assert client_ip(request_from("172.18.0.1", "203.0.113.9")) == "203.0.113.9"


def test_behind_two_proxies_the_outer_one_names_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_from("172.18.0.1", "10.9.9.9, 203.0.113.9, 192.0.2.1")) == "203.0.113.9"


def test_a_missing_header_falls_back_to_the_connecting_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from("127.0.0.1")) == "127.0.0.1"
    assert client_ip(request_from("127.0.0.1", " , ")) == "127.0.0.1"


def test_sign_in_lockouts_count_by_the_client_behind_the_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert get_client_ip_address(request_from("172.18.0.1", "203.0.113.9")) == "203.0.113.9"
