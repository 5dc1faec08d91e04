"""The network rule: a user may be limited to one IPv4/IPv6 address or network; the
form normalises what an administrator enters, the gate checks every request against it."""

import ipaddress

from portal.i18n import lazy_gettext as _l

#: The IPv6 addresses that stand for IPv4 ones (RFC 4291); clients from there are
#: compared as the IPv4 address they stand for.
IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def _is_ipv4_address(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False


def _unmapped(network: ipaddress.IPv4Network | ipaddress.IPv6Network):
    """An IPv4-mapped network as the IPv4 network it stands for; others unchanged."""
    if network.version == 6 and network.subnet_of(IPV4_MAPPED):
        first = int(network.network_address) - int(IPV4_MAPPED.network_address)
        return ipaddress.IPv4Network((first, network.prefixlen - 96))
    return network


def normalise_network(value: str) -> str:
    """One IPv4/IPv6 address or CIDR network, as the stdlib ``ipaddress`` writes it (an
    IPv4-mapped one as the IPv4 network it stands for: ``::ffff:192.0.2.1`` is
    ``192.0.2.1/32``). ValueError says what is wrong with anything else: a limit that
    lets every address in, or none; a scoped address; a mask that is not a prefix;
    host bits set (naming the network it would be); a network that straddles the
    IPv4-mapped range."""
    text = value.strip()
    address, _slash, mask = text.partition("/")
    if "%" in address:
        raise ValueError(
            _l(
                "Remove “%(zone)s”: an address with a zone only means something on one "
                "computer's network interface, so it cannot limit access.",
                zone=address[address.index("%") :],
            )
        )
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        if _is_ipv4_address(address) and _is_ipv4_address(mask):
            raise ValueError(
                _l(
                    "%(mask)s is not a network mask: its one bits must all come first, "
                    "as in 255.255.255.0. Or give the prefix length, as in /24.",
                    mask=mask,
                )
            ) from None
        raise ValueError(
            _l(
                "Enter one IPv4 or IPv6 address (such as 203.0.113.7) or network "
                "(such as 203.0.113.0/24)."
            )
        ) from None
    network = _unmapped(loose)
    if network.prefixlen == 0:
        raise ValueError(
            _l(
                "%(network)s takes in every address: it is no limit. Leave the field empty "
                "to allow any address.",
                network=str(network),
            )
        )
    if loose.version == 6 and loose.overlaps(IPV4_MAPPED) and not loose.subnet_of(IPV4_MAPPED):
        raise ValueError(
            _l(
                "%(value)s mixes IPv6 addresses with IPv4-mapped ones (::ffff:0:0/96): an "
                "IPv4-mapped network needs a prefix of /96 or longer, such as "
                "::ffff:192.0.2.0/120, or write it in IPv4, such as 192.0.2.0/24.",
                value=text,
            )
        )
    if network.is_multicast or network.is_unspecified:
        raise ValueError(
            _l(
                "Nobody connects from %(network)s: enter the address or network your user "
                "connects from.",
                network=str(network),
            )
        )
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise ValueError(
            _l(
                "%(value)s is not a network: its address has bits set beyond the prefix. "
                "Did you mean the network %(network)s? Enter it, or enter %(address)s "
                "alone to allow only that address.",
                value=text,
                network=str(network),
                address=str(_unmapped(ipaddress.ip_network(address)).network_address),
            )
        ) from None
    return str(network)


def address_allowed(allowed_network: str | None, address: str) -> bool:
    """Whether ``address`` lies in the user's allowed network (IPv4-mapped IPv6 unwrapped)."""
    if not allowed_network:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip in ipaddress.ip_network(allowed_network, strict=False)
