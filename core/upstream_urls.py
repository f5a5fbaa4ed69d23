"""Which provider URLs and addresses the gateway may call: one policy for every outbound URL.

A provider's base URL is chosen by staff (and, for bring-your-own keys, by customers), and the
gateway sends prompts and keys to it. Unchecked, one URL points the platform at its own loopback,
the cloud's metadata service or the private network. The policy, at save time and again at
connect time: the scheme is `https` (or the sandbox's own `sandbox://`), and an address in a
blocked range (loopback, private, link-local, CGNAT, multicast, metadata, reserved), written in
any form a resolver accepts (decimal, octal, hex, short dotted, IPv4-mapped and other IPv6
embeddings), is refused unless it lies in a network the operator allowed; for allowed networks
`http` is accepted too. Names are checked through what they resolve to; a name that does not
resolve at save time is accepted (the connect-time check still applies).

Stdlib only: Django, the catalog and the gateway all import it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# A resolver: host name -> the address strings it resolves to (raises OSError when it cannot).
Resolve = Callable[[str], Iterable[str]]

SANDBOX_SCHEME = "sandbox"
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")

BLOCKED_NETWORKS: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # private
    "100.64.0.0/10",  # carrier-grade NAT (and Alibaba's metadata at 100.100.100.200)
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local: 169.254.169.254 is the metadata service of most clouds
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24",  # protocol assignments, documentation, 6to4 relays, benchmarking
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and 255.255.255.255
    "::/96",  # unspecified, loopback and the deprecated IPv4-compatible form
    "100::/64",  # discard
    "2001::/32", "2001:db8::/32",  # Teredo (hides an IPv4 address), documentation
    "64:ff9b:1::/48",  # local-use NAT64
    "fc00::/7",  # unique local (AWS's metadata at fd00:ec2::254)
    "fe80::/10", "fec0::/10",  # link-local, deprecated site-local
    "ff00::/8",  # multicast
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UpstreamURLError(ValueError):
    """A provider URL or address the gateway must not call; the message says why."""


class AddressRefused(OSError):
    """A connect-time refusal: an OSError, so HTTP clients report it as a connection error."""


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """CIDR strings (or single addresses) as networks; a ValueError names a malformed one."""
    networks = []
    for value in values:
        value = value.strip()
        if value:
            try:
                networks.append(ipaddress.ip_network(value, strict=False))
            except ValueError as exc:
                raise ValueError(f"not an IP network: {value!r}") from exc
    return tuple(networks)


def _ipv4_part(part: str) -> int | None:
    """One part of a dotted IPv4 address as inet_aton reads it: 0x hex, leading-0 octal, else
    decimal."""
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
        if not digits:
            return 0
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits.isascii() or not digits.isalnum():
        return None
    try:
        return int(digits, base)
    except ValueError:
        return None


def _loose_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`: the address a resolver would make of it."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # a trailing dot
    if not 1 <= len(parts) <= 4 or any(not p for p in parts):
        return None
    values: list[int] = []
    for part in parts:
        value = _ipv4_part(part)
        if value is None:
            return None
        values.append(value)
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(parts)):
        return None
    number = last
    for index, value in enumerate(head):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def _looks_numeric(host: str) -> bool:
    """WHATWG's "ends in a number": such a host is an IPv4 address or no valid host at all."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    last = parts[-1] if parts else ""
    if last.isascii() and last.isdigit():
        return True
    return last[:2].lower() == "0x" and all(c in "0123456789abcdefABCDEF" for c in last[2:])


def literal_address(host: str) -> Address | None:
    """The address `host` names literally, in any notation; None for a name.

    Raises UpstreamURLError for a numeric-looking host that is no address (`1.2.3.4.5`,
    `0x7g.1`), which resolvers disagree about.
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if ":" in host:
        raise UpstreamURLError(f"{host!r} is not a valid IPv6 address")
    address = _loose_ipv4(host)
    if address is None and _looks_numeric(host):
        raise UpstreamURLError(f"{host!r} is neither a host name nor an IPv4 address")
    return address


def normalize_host(host: str) -> str:
    """The ASCII host an HTTP client connects to: IDNA-mapped (`①②⑦。0。0。1` is 127.0.0.1).

    Raises UpstreamURLError for a host no client should be handed (percent-escapes, bad IDNA).
    """
    host = host.strip("[]")
    if ":" in host:
        return host.lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise UpstreamURLError(f"{host!r} is not a valid host name") from exc
    if "%" in host or any(c.isspace() for c in host):
        raise UpstreamURLError(f"{host!r} is not a valid host name")
    return host.lower()


def _embedded(address: Address) -> list[Address]:
    """The address itself plus any IPv4 address an IPv6 one carries (mapped, NAT64, 6to4)."""
    forms: list[Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            forms.append(ipaddress.IPv6Address(str(address).split("%", 1)[0]))
        if address.ipv4_mapped is not None:
            forms.append(address.ipv4_mapped)
        elif address in _NAT64 or int(address) >> 32 == 0:
            forms.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        elif address.sixtofour is not None:
            forms.append(address.sixtofour)
    return forms


def address_refusal(address: Address | str, allowed: Iterable[Network] = ()) -> str | None:
    """Why the gateway may not connect to `address` (None: it may).

    An address (or the IPv4 address it embeds) inside an allowed network is admitted; otherwise
    one in a blocked network is refused.
    """
    if isinstance(address, str):
        address = ipaddress.ip_address(address)
    forms = _embedded(address)
    allowed = tuple(allowed)
    for form in forms:
        if any(form.version == net.version and form in net for net in allowed):
            return None
    for form in forms:
        for net in BLOCKED_NETWORKS:
            if form.version == net.version and form in net:
                return f"{address} is in the blocked network {net}"
    return None


def is_allowed(address: Address, allowed: Iterable[Network]) -> bool:
    """Whether `address` (or the IPv4 address it embeds) lies in one of the allowed networks."""
    allowed = tuple(allowed)
    return any(form.version == net.version and form in net
               for form in _embedded(address) for net in allowed)


def system_resolve(host: str) -> list[str]:
    """Every address the system resolver gives for `host` (OSError when it gives none)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_addresses(host: str, addresses: Iterable[str], allowed: Iterable[Network] = ()) -> None:
    """Raise AddressRefused unless every address `host` resolved to may be called.

    All of them, not just the first: a name answering with one public and one private address
    would otherwise let a client that tries them in turn reach the private one.
    """
    allowed = tuple(allowed)
    for value in addresses:
        try:
            address = ipaddress.ip_address(value)
        except ValueError as exc:
            raise AddressRefused(f"{host} resolved to {value!r}, not an IP address") from exc
        reason = address_refusal(address, allowed)
        if reason is not None:
            raise AddressRefused(f"{host} resolves to a blocked address: {reason}")


def resolve_checked(host: str, allowed: Iterable[Network] = (),
                    resolve: Resolve = system_resolve) -> list[str]:
    """Connect-time check: resolve `host` and refuse it unless every address may be called."""
    address = literal_address(host)
    addresses = [str(address)] if address is not None else list(resolve(host))
    if not addresses:
        raise AddressRefused(f"{host} resolved to no address")
    check_addresses(host, addresses, allowed)
    return addresses


def check_base_url(url: str, allowed: Iterable[Network] = (), *,
                   resolve: Resolve | None = system_resolve,
                   extra_schemes: Iterable[str] = (SANDBOX_SCHEME,)) -> None:
    """Save-time check of a provider's base URL; raise UpstreamURLError saying what is wrong.

    `https` always (or one of `extra_schemes`, resolved by us, not by DNS); `http` only for a
    host inside an allowed network. A literal address must pass `address_refusal`; a name must
    resolve only to such addresses, or not resolve here at all (`resolve=None` skips the lookup,
    leaving names to the connect-time check).
    """
    allowed = tuple(allowed)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UpstreamURLError(f"not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme in set(extra_schemes):
        if not parts.hostname:
            raise UpstreamURLError(f"a {scheme}:// URL names the provider after //")
        return
    if scheme not in ("https", "http"):
        raise UpstreamURLError("the scheme must be https")
    if not parts.hostname:
        raise UpstreamURLError("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UpstreamURLError("credentials do not belong in the URL")
    if port == 0:
        raise UpstreamURLError("port 0 is not a port")
    host = normalize_host(parts.hostname)
    address = literal_address(host)
    if address is not None:
        reason = address_refusal(address, allowed)
        if reason is not None:
            raise UpstreamURLError(f"{reason}; only public addresses may be called")
        if scheme == "http" and not is_allowed(address, allowed):
            raise UpstreamURLError("the scheme must be https")
        return
    try:
        addresses = list(resolve(host)) if resolve is not None else []
    except (OSError, UnicodeError):
        addresses = []  # does not resolve here: the connect-time check will see where it goes
    try:
        check_addresses(host, addresses, allowed)
    except AddressRefused as exc:
        raise UpstreamURLError(f"{exc}; only public addresses may be called") from exc
    if scheme == "http" and not (addresses and all(
            is_allowed(ipaddress.ip_address(a), allowed) for a in addresses)):
        raise UpstreamURLError("the scheme must be https")
