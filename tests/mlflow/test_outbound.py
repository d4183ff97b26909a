"""The outbound address policy, fed every form an address can take: unit tests of pure code and of the
resolver step (a fake resolver answers the names; nothing here opens a connection)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from integrations.mlflow.client import UnsafeUrl, check_url
from integrations.mlflow.outbound import RefusedAddress, address_forms, check_destination, resolve_checked

METADATA_FORMS = [
    "169.254.169.254",
    "::ffff:169.254.169.254",
    "::ffff:a9fe:a9fe",
    "64:ff9b::169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::a9fe:a9fe",  # local-use NAT64, /96 form
    "2002:a9fe:a9fe::1",  # 6to4
    "::169.254.169.254",  # IPv4-compatible (deprecated)
    "100.100.100.200",  # Alibaba Cloud
    "::ffff:100.100.100.200",
    "64:ff9b::6464:64c8",
    "fd00:ec2::254",
    "fe80::1",
]


@pytest.mark.parametrize("address", METADATA_FORMS)
def test_metadata_and_link_local_addresses_are_refused_in_every_form(address):
    with pytest.raises(RefusedAddress, match="link-local or metadata"):
        check_destination("mlflow.example.com", [ipaddress.ip_address(address)])


@pytest.mark.parametrize("address", ["::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "100.100.100.200"])
def test_metadata_urls_are_refused_by_check_url(address):
    with pytest.raises(UnsafeUrl):
        check_url(f"http://[{address}]/" if ":" in address else f"http://{address}/")


def test_the_local_use_nat64_prefix_is_read_at_each_prefix_length():
    # 169.254.169.254 embedded as RFC 6052 places it for a /48 prefix (u-octet skipped).
    forms = address_forms(ipaddress.ip_address("64:ff9b:1:a9fe:00a9:fe00::"))
    assert ipaddress.ip_address("169.254.169.254") in forms


def test_the_unspecified_address_counts_as_loopback():
    assert ipaddress.ip_address("127.0.0.1") in address_forms(ipaddress.ip_address("0.0.0.0"))
    assert ipaddress.ip_address("::1") in address_forms(ipaddress.ip_address("::"))


LOOPBACK_SPELLINGS = [
    "localhost",
    "0.0.0.0",
    "0",
    "2130706433",
    "0x7f000001",
    "127.1",
    "017700000001",
    "[::ffff:127.0.0.1]",
    "[::1]",
    "[::]",
    "[64:ff9b::7f00:1]",
]


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_denied_networks_are_matched_against_what_the_host_resolves_to(settings, host):
    # The system resolver parses these numeric spellings itself (and localhost from /etc/hosts): no traffic.
    settings.MLAUDIT_MLFLOW_DENIED_HOSTS = ["127.0.0.0/8", "::1/128"]
    with pytest.raises(UnsafeUrl, match="MLAUDIT_MLFLOW_DENIED_HOSTS"):
        check_url(f"http://{host}:5000")


def test_loopback_is_allowed_unless_denied(settings):
    settings.MLAUDIT_MLFLOW_DENIED_HOSTS = []
    check_url("http://127.0.0.1:5000")
    check_url("http://localhost:5000")


def test_a_bare_denied_address_is_a_network_of_one(settings):
    settings.MLAUDIT_MLFLOW_DENIED_HOSTS = ["10.1.2.3"]
    with pytest.raises(RefusedAddress, match="DENIED"):
        check_destination("mlflow.example.com", [ipaddress.ip_address("::ffff:10.1.2.3")])
    check_destination("mlflow.example.com", [ipaddress.ip_address("10.1.2.4")])


def test_allowed_networks_admit_names_resolving_into_them(settings):
    settings.MLAUDIT_MLFLOW_ALLOWED_HOSTS = ["10.0.0.0/8", ".example.com"]
    check_destination("mlflow.internal", [ipaddress.ip_address("10.9.8.7")])
    check_destination("mlflow.example.com", [ipaddress.ip_address("192.0.2.10")])
    with pytest.raises(RefusedAddress, match="not on MLAUDIT_MLFLOW_ALLOWED_HOSTS"):
        check_destination("mlflow.internal", [ipaddress.ip_address("10.9.8.7"), ipaddress.ip_address("192.0.2.10")])


def test_a_listed_host_may_reach_a_link_local_address(settings):
    settings.MLAUDIT_MLFLOW_ALLOWED_HOSTS = ["mlflow.local"]
    check_destination("mlflow.local", [ipaddress.ip_address("169.254.10.20")])


def test_a_metadata_host_name_is_refused_before_resolving():
    with pytest.raises(RefusedAddress, match="metadata service"):
        check_destination("metadata.google.internal.", [])


@pytest.fixture
def resolver(monkeypatch):
    """A fake resolver: each name answers the addresses given for it."""
    answers: dict[str, list[str]] = {}

    def getaddrinfo(host, port, family=0, type=0, *args):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_one_refused_address_among_several_refuses_the_name(resolver):
    resolver["mlflow.example.com"] = ["192.0.2.10", "::ffff:169.254.169.254"]
    with pytest.raises(RefusedAddress, match=r"169\.254\.169\.254"):
        resolve_checked("mlflow.example.com", 443)


def test_a_name_resolving_to_an_allowed_address_passes(resolver):
    resolver["mlflow.example.com"] = ["192.0.2.10", "2001:db8::10"]
    assert len(resolve_checked("mlflow.example.com", 443)) == 2


def test_a_name_that_does_not_resolve_is_unavailable_not_refused(resolver):
    from integrations.mlflow.client import MlflowUnavailable

    with pytest.raises(MlflowUnavailable, match="does not resolve"):
        check_url("http://nowhere.example.com")
