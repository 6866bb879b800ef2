"""Where a webhook may connect: public addresses only, unless the operator allows a network
(ALERTS_WEBHOOK_ALLOWED_NETWORKS). Otherwise a user's webhook URL would reach what only this server can reach: the
database, Redis, a cloud's metadata service (SSRF). A URL is checked when a rule is saved, and its host is resolved
again and checked at each connection, which then goes to the address that was checked: a name can resolve elsewhere
later (DNS rebinding)."""

import ipaddress
import socket
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}


class DestinationRefused(Exception):
    """The host resolves to an address a webhook may not reach."""


def address_allowed(address: Address) -> bool:
    if address.version == 6 and address.ipv4_mapped:  # ::ffff:127.0.0.1 reaches 127.0.0.1
        address = address.ipv4_mapped
    allowed = settings.ALERTS_WEBHOOK_ALLOWED_NETWORKS
    if any(address in ipaddress.ip_network(network, strict=False) for network in allowed):
        return True
    # is_global leaves out loopback, private, link-local, shared (CGNAT), documentation and reserved ranges, but
    # counts multicast as global.
    return address.is_global and not address.is_multicast


def host_addresses_checked(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, once all of them are allowed; DestinationRefused otherwise: one address
    inside is enough, a name that can lead there is no public destination. A name that does not resolve raises
    socket.gaierror."""
    resolved = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in resolved))
    refused = [address for address in addresses if not address_allowed(ipaddress.ip_address(address))]
    if refused:
        raise DestinationRefused(host if refused == [host] else f"{host} resolves to {', '.join(refused)}")
    return addresses


def webhook_url_refusal(url: str) -> str | None:
    """Why a rule may not post to `url` (None: it may), for the user who gives it. A name that does not resolve is
    refused too: it could not be checked."""
    parts = urlsplit(url)
    try:
        host_addresses_checked(parts.hostname or "", parts.port or DEFAULT_PORTS.get(parts.scheme, 80))
    except DestinationRefused as refused:
        return f"Not a public address: {refused}."
    except (socket.gaierror, UnicodeError):
        return f"Its host {parts.hostname} does not resolve."
    except ValueError:  # a port out of range
        return "Not a valid URL."
    return None


class CheckedAddressBackend(httpcore.SyncBackend):
    """Connects to an address of the host once every address it resolves to is allowed. TLS still names the host
    (httpcore passes it to start_tls as the server name), so certificates are verified against it."""

    def connect_tcp(self, host: str, port: int, *args: object, **kwargs: object) -> httpcore.NetworkStream:
        try:
            addresses = host_addresses_checked(host, port)
        except (socket.gaierror, UnicodeError) as error:  # may resolve next time: a connection error, tried again
            raise httpcore.ConnectError(f"{host} does not resolve: {error}") from error
        return super().connect_tcp(addresses[0], port, *args, **kwargs)


class CheckedAddressTransport(httpx.HTTPTransport):
    """httpx's transport on CheckedAddressBackend. No proxy from the environment: it would be the proxy's address
    that was checked, not the destination's."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        # TRICKY: httpx takes no network backend, so its pool is replaced by an equal one on ours (httpx 0.28).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,  # httpx's defaults
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=CheckedAddressBackend(),
        )
