"""core.upstream_urls: which provider URLs and addresses the gateway may call."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.upstream_urls import (
    LOOPBACK_NETWORKS,
    AddressRefused,
    UpstreamURLError,
    address_refusal,
    check_base_url,
    literal_address,
    parse_networks,
    resolve_checked,
)

LOOPBACK = parse_networks(LOOPBACK_NETWORKS)


def no_dns(host):
    raise OSError("no DNS in this test")


def resolver(table):
    """A resolver answering from `table` (name -> addresses); unknown names do not resolve."""
    def resolve(host):
        if host not in table:
            raise OSError(f"{host} does not resolve")
        return table[host]
    return resolve


def refused(url, allowed=(), resolve=no_dns):
    with pytest.raises(UpstreamURLError) as caught:
        check_base_url(url, allowed, resolve=resolve)
    return str(caught.value)


@pytest.mark.parametrize("url", [
    "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/", "http://127.1/",
    "http://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/v1", "https://169.254.169.254/",
    "https://100.64.0.1/", "https://100.100.100.200/", "https://224.0.0.1/",
    "https://10.0.0.1/", "https://172.16.5.4/", "https://192.168.1.1:8443/v1",
    "https://[fd00::1]/", "https://[fd00:ec2::254]/", "https://0.0.0.0/", "https://0/",
    "https://[::1]/", "https://[::]/", "https://[fe80::1%25eth0]/", "https://[64:ff9b::a9fe:a9fe]/",
    "https://[2002:7f00:1::]/", "https://[::127.0.0.1]/", "https://255.255.255.255/",
    "https://0x7F000001/", "https://017700000001/", "https://127.0.0.1./",
    "https://①②⑦.0.0.1/", "https://127。0。0。1/",
])
def test_literal_addresses_in_blocked_ranges_are_refused(url):
    assert "blocked network" in refused(url)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "ftp://example.com/",
    "http://api.openai.com/v1", "javascript:alert(1)", "//api.openai.com/v1", "api.openai.com",
])
def test_schemes_other_than_https_are_refused(url):
    message = refused(url)
    assert "https" in message or "no host" in message


@pytest.mark.parametrize("url, expected", [
    ("https://user:pw@api.openai.com/v1", "credentials"),
    ("https://api.openai.com@127.0.0.1/", "credentials"),
    ("https://1.2.3.4.5/", "neither a host name nor an IPv4 address"),
    ("https://0x7g.1/", "neither"),
    ("https://08.0.0.1/", "neither"),
    ("https://127%2e0%2e0%2e1/", "not a valid host name"),
    ("https://api.openai.com:99999/", "not a valid URL"),
    ("https://[::zz]/", "not a valid"),
])
def test_malformed_or_ambiguous_hosts_are_refused(url, expected):
    assert expected in refused(url)


@pytest.mark.parametrize("url", [
    "https://api.openai.com/v1", "https://api.deepinfra.com/v1/openai", "https://8.8.8.8/",
    "https://[2606:4700::1111]/v1", "https://api.anthropic.com:443", "sandbox://sandbox-openai/v1",
    "https://bücher.example/",
])
def test_public_https_urls_and_the_sandbox_scheme_pass(url):
    check_base_url(url, (), resolve=no_dns)


def test_names_are_checked_through_what_they_resolve_to():
    resolve = resolver({"evil.example": ["93.184.216.34", "127.0.0.1"],
                        "meta.example": ["169.254.169.254"],
                        "good.example": ["93.184.216.34", "2606:2800:220:1::1"]})
    assert "127.0.0.1 is in the blocked network 127.0.0.0/8" in refused(
        "https://evil.example/v1", resolve=resolve)
    assert "169.254.0.0/16" in refused("https://meta.example/", resolve=resolve)
    check_base_url("https://good.example/v1", (), resolve=resolve)
    check_base_url("https://nowhere.example/v1", (), resolve=resolve)  # does not resolve here


def test_allowed_networks_admit_their_addresses_over_http_too():
    allowed = parse_networks(["10.0.0.0/8", *LOOPBACK_NETWORKS])
    check_base_url("http://10.1.2.3:8000/v1", allowed, resolve=no_dns)
    check_base_url("http://127.0.0.1:18080/v1", allowed, resolve=no_dns)
    check_base_url("http://[::1]:8000/v1", allowed, resolve=no_dns)
    check_base_url("http://[::ffff:127.0.0.1]:8000/", allowed, resolve=no_dns)
    check_base_url("http://vllm.internal/v1", allowed,
                   resolve=resolver({"vllm.internal": ["10.9.9.9"]}))
    assert "https" in refused("http://8.8.8.8/", allowed)  # public: https only
    assert "https" in refused("http://nowhere.internal/", allowed)  # unknown: https only
    assert "169.254" in refused("https://169.254.169.254/", allowed)
    assert "192.168" in refused("https://192.168.0.1/", allowed)


def test_parse_networks_names_the_malformed_entry():
    assert parse_networks([" 127.0.0.0/8 ", "", "::1"]) == (
        ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
    with pytest.raises(ValueError, match="'localhost'"):
        parse_networks(["localhost"])


def test_literal_address_reads_every_ipv4_notation():
    expected = ipaddress.ip_address("127.0.0.1")
    for host in ("2130706433", "0177.0.0.1", "0x7f.1", "127.1", "0x7f.0.0x0.01", "127.0.1",
                 "0x7F000001", "[::ffff:127.0.0.1]"):
        found = literal_address(host)
        assert found == expected or found.ipv4_mapped == expected
    assert literal_address("api.openai.com") is None
    assert literal_address("0xcafe.example") is None


def test_connect_time_check_refuses_any_blocked_resolved_address():
    resolve = resolver({"evil.example": ["93.184.216.34", "169.254.169.254"],
                        "good.example": ["93.184.216.34"]})
    with pytest.raises(AddressRefused, match="169.254.169.254"):
        resolve_checked("evil.example", (), resolve)
    with pytest.raises(AddressRefused, match="127.0.0.1"):
        resolve_checked("0x7f.1", (), resolve)
    assert resolve_checked("good.example", (), resolve) == ["93.184.216.34"]
    assert resolve_checked("127.0.0.1", LOOPBACK, resolve) == ["127.0.0.1"]
    with pytest.raises(OSError):
        resolve_checked("nowhere.example", (), resolve)


def _forms(address: ipaddress.IPv4Address, draw_parts):
    """Ways to write an IPv4 address that resolvers accept."""
    value = int(address)
    octets = list(address.packed)
    yield str(value)
    yield hex(value)
    yield "0" + format(value, "o")
    yield ".".join(draw_parts(o) for o in octets)
    yield f"{octets[0]}.{value & 0xFFFFFF}"
    yield f"{octets[0]}.{octets[1]}.{value & 0xFFFF}"
    yield f"[::ffff:{address}]"
    yield f"[64:ff9b::{address}]"


def _part(style: int):
    return {0: str, 1: hex, 2: lambda o: "0" + format(o, "o")}[style]


blocked_v4 = st.sampled_from([
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
    "100.64.0.0/10", "224.0.0.0/4", "0.0.0.0/8", "240.0.0.0/4",
]).flatmap(lambda net: st.integers(
    int(ipaddress.ip_network(net).network_address),
    int(ipaddress.ip_network(net).broadcast_address)).map(ipaddress.IPv4Address))


@given(address=blocked_v4, style=st.integers(0, 2))
def test_any_notation_of_a_blocked_address_is_refused(address, style):
    for host in _forms(address, _part(style)):
        with pytest.raises(UpstreamURLError, match="blocked network"):
            check_base_url(f"https://{host}/v1", (), resolve=no_dns)


# Blocked whole although Python counts parts of them global (protocol assignments, 6to4 relays).
WHOLE = [ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("192.88.99.0/24")]


@given(address=st.one_of(
    st.integers(0, 2**32 - 1),
    st.sampled_from(WHOLE).flatmap(lambda n: st.integers(int(n[0]), int(n[-1])))
).map(ipaddress.IPv4Address))
def test_an_address_is_refused_exactly_when_it_is_not_global(address):
    # Python's own classification, plus the multicast range it counts as global.
    expected_refused = (not address.is_global or address.is_multicast
                        or any(address in net for net in WHOLE))
    assert (address_refusal(address) is not None) == expected_refused
